import Engine

/// An identity module standing for one graph value, so that forward hooks (recording) and forward
/// modifiers (layer gains) attach to a graph value as they attach to a PyTorch module.
final class ValueTap: Module {
  override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x }
}

/// An imported ONNX graph as an engine module: one float image input [N, C, H, W] in, the first graph
/// output (class scores) out. Every value a node computes is a child module named by the value
/// (`/features/features.29/Relu_output_0`), and where the exporter kept PyTorch's module scopes also by
/// the module path (`features.29`: the last value computed inside that module, as a forward hook on
/// it would see). Weights are the graph's own; the module has no trainable parameters.
public final class GraphNetwork: Module, FailableForward, ClassifierProviding, BatchLimited {
  public let graph: Graph
  /// The image input's name and declared channels, height and width (nil: symbolic).
  public let inputName: String
  public let channels: Int
  public let declaredHeight, declaredWidth: Int?
  /// The float output returned by `forward`.
  public let outputName: String
  /// Value names in execution order, then module paths with the value each stands for.
  public let valueNames: [String]
  public let modulePaths: [(path: String, value: String)]
  /// Images per graph run: 1 when the graph bakes a batch of one into its shapes, else unlimited.
  public private(set) var batchLimit: Int?
  private var taps: [String: ValueTap] = [:]
  /// The error of the last `forward` that failed (forward itself cannot throw); `checked` rethrows it.
  public private(set) var failure: Error?

  /// Wraps `graph`, which must have one float input of rank 4 ([N, C, H, W]) and a float output.
  public init(graph: Graph) throws {
    self.graph = graph
    guard graph.inputs.count == 1, let input = graph.inputs.first else {
      throw CheckpointError(
        "the workbench needs one image input; the graph has \(graph.inputs.count): \(graph.inputs.map(\.name))",
        file: graph.path)
    }
    guard input.elementType == "FLOAT", input.dims.count == 4, let c = input.dims[1], c > 0 else {
      throw CheckpointError(
        "input '\(input.name)' is \(input.elementType) \(input.shapeDescription); the workbench needs FLOAT [N, C, H, W] with a fixed C",
        file: graph.path)
    }
    guard c <= 1 << 16, input.dims[2...].allSatisfy({ $0 == nil || ($0! > 0 && $0! <= 1 << 15) }) else {
      throw CheckpointError("input '\(input.name)' \(input.shapeDescription) is not an image size", file: graph.path)
    }
    inputName = input.name
    channels = c
    declaredHeight = input.dims[2]
    declaredWidth = input.dims[3]
    outputName = graph.outputs[0].name
    valueNames = graph.computedValues.map(\.name)
    modulePaths = Self.modulePaths(graph.computedValues.map(\.name), nodeNames: graph.computedValues.map(\.nodeName))
    super.init()
    for name in valueNames {
      let tap = ValueTap()
      taps[name] = tap
      registerModule(name, tap)
    }
    for (path, value) in modulePaths where taps[path] == nil { registerModule(path, taps[value]!) }
    eval()
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    failure = nil
    do { return try run(x) } catch {
      failure = error
      return Tensor(shape: [x.shape.first ?? 0, 0], scalars: [])
    }
  }

  /// The graph's output for images `x` [N, C, H, W] (in pieces of `batchLimit`), with every computed
  /// value passed through its tap module.
  public func run(_ x: Tensor<Float>) throws -> Tensor<Float> {
    let feed: (Tensor<Float>) throws -> Tensor<Float> = { part in
      let out = try self.graph.run([self.inputName: .float(part)]) { name, value in
        self.taps[name].map { $0(value) } ?? value
      }
      guard case .float(let y) = out[self.outputName] else {
        throw CheckpointError("output '\(self.outputName)' is not a float tensor", file: self.graph.path)
      }
      return y
    }
    guard let limit = batchLimit, x.shape[0] > limit else { return try feed(x) }
    var parts: [Tensor<Float>] = []
    for start in stride(from: 0, to: x.shape[0], by: limit) {
      parts.append(try feed(x.slice(dim: 0, start: start, end: min(x.shape[0], start + limit))))
    }
    return concat(parts, dim: 0)
  }

  /// Runs `body` (which calls the module) and throws the error of a failed forward inside it.
  public func checked<T>(_ body: () throws -> T) throws -> T {
    failure = nil
    let result = try body()
    if let failure { throw failure }
    return result
  }

  /// Checks the graph on zeros of height x width (batch 2, then 1): shapes that do not work give the
  /// graph's error here, and a graph whose output keeps a batch of one (a batch baked into a Reshape)
  /// runs one image at a time from then on.
  public func prepare(height: Int, width: Int) throws {
    let (pixels, overflow) = (2 * channels).multipliedReportingOverflow(by: height * width)
    guard height > 0, width > 0, height <= 1 << 15, width <= 1 << 15, !overflow else {
      throw CheckpointError("input size \(height)x\(width) is not an image size", file: graph.path)
    }
    try ReadBudget.check(pixels * 4, "a \(height)x\(width) input batch")
    let zeros = { (n: Int) in
      Tensor<Float>(
        shape: [n, self.channels, height, width],
        scalars: .init(repeating: 0, count: n * self.channels * height * width))
    }
    batchLimit = nil
    if let two = try? withNoGrad({ try run(zeros(2)) }), two.shape.first == 2 { return }
    let one = try withNoGrad { try run(zeros(1)) }
    guard one.shape.first == 1 else {
      throw CheckpointError("the output \(one.shape) does not keep the batch axis of the input", file: graph.path)
    }
    batchLimit = 1
  }

  /// The receptive fields of every value whose fields the graph gives (by value name and by module
  /// path) at an input of height x width; see `Graph.unitFields`.
  public func unitFields(height: Int, width: Int) throws -> [String: ValueFields] {
    var fields = try graph.unitFields(input: inputName, channels: channels, height: height, width: width)
    for (path, value) in modulePaths where fields[path] == nil {
      if let f = fields[value] { fields[path] = f }
    }
    return fields
  }

  /// The last Gemm (with transB = 1, PyTorch's Linear) or Conv whose weight is a constant: its output
  /// value and weight, for CAM and contrastive MWP.
  public var classifier: (layer: String, weight: Tensor<Float>)? {
    for node in graph.nodes.reversed() where node.opType == "Gemm" || node.opType == "Conv" {
      guard node.inputs.count > 1, case .float(let w)? = graph.constants[node.inputs[1]], let out = node.outputs.first
      else { continue }
      if node.opType == "Gemm" && ((try? node.int("transB", 0)) != 1 || (try? node.int("transA", 0)) != 0) {
        return nil
      }
      return (out, w)
    }
    return nil
  }

  /// PyTorch module paths from value names with the exporter's scopes
  /// (`/layer1/layer1.0/conv1/Conv_output_0` -> `layer1.0.conv1`, the enclosing `layer1.0` and
  /// `layer1`; `/layer2/layer2.0/downsample/downsample.0/Conv_output_0` -> `layer2.0.downsample.0`): each path stands for the last value computed inside it. A scope repeated with a call
  /// suffix (`relu_1`, the second call of `relu`) counts as the module when the unsuffixed scope exists.
  static func modulePaths(_ names: [String], nodeNames: [String]? = nil) -> [(path: String, value: String)] {
    var scopesOf: [[String]] = []
    var known = Set<String>()
    for (i, value) in names.enumerated() {
      // A value renamed by the exporter (a graph output such as `logits`) keeps its scope in its node's name.
      let name = !value.hasPrefix("/") && (nodeNames?[i].hasPrefix("/") ?? false) ? nodeNames![i] : value
      guard name.hasPrefix("/") else {
        scopesOf.append([])
        continue
      }
      let parts = name.dropFirst().split(separator: "/").map(String.init)
      guard parts.count >= 2 else {
        scopesOf.append([])
        continue
      }
      var paths: [String] = []
      var path = ""
      for component in parts.dropLast() {
        // A container's child comes as "<container>.<index>" (`layer1.0`, `downsample.0`).
        let local = path.split(separator: ".").last.map(String.init) ?? ""
        if path.isEmpty {
          path = component
        } else if !local.isEmpty && component.hasPrefix(local + ".") {
          path += component.dropFirst(local.count)
        } else {
          path += "." + component
        }
        paths.append(path)
      }
      scopesOf.append(paths)
      known.formUnion(paths)
    }
    var last: [String: String] = [:]
    var order: [String] = []
    for (name, paths) in zip(names, scopesOf) {
      for p in paths {
        var path = p
        if let r = path.range(of: #"_\d+$"#, options: .regularExpression), known.contains(String(path[..<r.lowerBound]))
        {
          path = String(path[..<r.lowerBound])
        }
        if last[path] == nil { order.append(path) }
        last[path] = name
      }
    }
    return order.map { ($0, last[$0]!) }
  }
}
