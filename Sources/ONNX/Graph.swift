import Engine
import Foundation

/// A graph input or output as the file declares it: name, element type and dimensions (nil where the
/// dimension is symbolic, e.g. a dynamic batch, or unknown).
public struct GraphPort: Sendable, Equatable {
  public let name: String
  /// ONNX's element type name ("FLOAT", "INT64").
  public let elementType: String
  public let dims: [Int?]
  /// Symbolic dimension names ("batch"), nil where the dimension is fixed or unnamed.
  public let dimNames: [String?]

  init(_ info: Onnx_ValueInfoProto) {
    name = info.name
    let tensor = info.type.tensorType
    elementType = ElementType.name(tensor.elemType)
    dims = tensor.shape.dim.map { d in
      if case .dimValue(let v) = d.value, v >= 0 { return Int(clamping: v) }
      return nil
    }
    dimNames = tensor.shape.dim.map { d in
      if case .dimParam(let p) = d.value, !p.isEmpty { return p }
      return nil
    }
  }

  /// "[batch, 3, 224, 224]".
  public var shapeDescription: String {
    "[" + zip(dims, dimNames).map { d, n in d.map(String.init) ?? n ?? "?" }.joined(separator: ", ") + "]"
  }
}

/// A node output the graph computes at run time (a recordable value), with its operator and node.
public struct GraphValueInfo: Sendable, Equatable {
  /// The value's name (e.g. `/features/features.29/Relu_output_0`).
  public let name: String
  public let opType: String
  public let nodeName: String
}

/// An ONNX model loaded for execution: its initializers decoded, its nodes checked (every operator
/// supported, every input defined, no cycle) and put in topological order, and every node whose inputs
/// are all constants folded into a constant. `run` executes it on the engine (`GraphExecution.swift`).
public final class Graph {
  /// The model file.
  public let path: String
  /// The default-domain operator-set version.
  public let opset: Int
  public let irVersion: Int
  /// "pytorch 1.13.0".
  public let producer: String
  /// Inputs that are not initializers: what a caller feeds.
  public let inputs: [GraphPort]
  public let outputs: [GraphPort]
  /// The nodes left to run, in topological order.
  let nodes: [Node]
  /// Initializers and folded values, by name.
  let constants: [String: GraphValue]
  let folder: URL
  /// Nodes whose outputs depend on the input shapes only (Shape, and integer arithmetic on it):
  /// computed once per input shape and reused (see `GraphExecution.swift`).
  let shapeDerived: Set<Int>
  /// Whether integer values computed from float data reach the graph, so that shapes may depend on
  /// values: then nothing is reused between runs.
  let dataDependentShapes: Bool
  /// Per input shape, the values of the shape-derived nodes.
  var plans: [[[Int]]: [String: GraphValue]] = [:]
  /// How many nodes the file had, and how many were folded at load.
  public let fileNodeCount: Int

  /// Loads `path`. Every problem is a `CheckpointError` naming the file, and unsupported operators are
  /// listed all at once (node, op type, opset).
  public convenience init(contentsOf path: String) throws {
    let file = try ModelFile(path: path)
    do { try self.init(file) } catch let e as CheckpointError { throw e.inFile(path) }
  }

  init(_ file: ModelFile) throws {
    path = file.path
    opset = file.opset
    folder = file.folder
    irVersion = Int(clamping: file.proto.irVersion)
    producer = [file.proto.producerName, file.proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
    let graph = file.proto.graph
    guard graph.sparseInitializer.isEmpty else { throw CheckpointError("sparse initializers are not supported") }
    let decoder = TensorDecoder(folder: folder)
    var constants: [String: GraphValue] = [:]
    for (i, t) in graph.initializer.enumerated() {
      guard !t.name.isEmpty else { throw CheckpointError("initializer \(i + 1) has no name") }
      guard constants[t.name] == nil else { throw CheckpointError("initializer '\(t.name)' is defined twice") }
      constants[t.name] = try decoder.decode(t, what: "initializer")
    }
    inputs = graph.input.filter { constants[$0.name] == nil }.map(GraphPort.init)
    outputs = graph.output.map(GraphPort.init)
    guard !outputs.isEmpty else { throw CheckpointError("the graph has no outputs") }
    guard Set(inputs.map(\.name)).count == inputs.count, !inputs.contains(where: { $0.name.isEmpty }) else {
      throw CheckpointError("graph inputs \(inputs.map(\.name)) are not distinct names")
    }
    let all = graph.node.enumerated().map { Node($1, index: $0) }
    fileNodeCount = all.count

    // Every operator supported, or one error listing each node that is not.
    let unsupported = all.filter { node in
      !(node.domain.isEmpty || node.domain == "ai.onnx") || OperatorTable.kernels[node.opType] == nil
    }
    if !unsupported.isEmpty {
      let lines = unsupported.prefix(50).map { n in
        "  \(n.label), opset \(file.opset)"
          + (n.domain.isEmpty || n.domain == "ai.onnx" ? "" : ", domain '\(n.domain)'")
      }
      let more = unsupported.count > 50 ? "\n  ... and \(unsupported.count - 50) more" : ""
      let kinds = Set(unsupported.map(\.opType)).sorted().joined(separator: ", ")
      throw CheckpointError(
        "\(unsupported.count) node(s) use operators this executor does not implement (\(kinds)):\n"
          + lines.joined(separator: "\n") + more)
    }

    // Topological order; every input defined exactly once.
    var defined = Set(constants.keys).union(inputs.map(\.name))
    defined.insert("")
    var producedBy: [String: Int] = [:]
    for node in all {
      for o in node.outputs where !o.isEmpty {
        guard producedBy[o] == nil, !defined.contains(o) else {
          throw CheckpointError("value '\(o)' is defined twice (\(node.label))")
        }
        producedBy[o] = node.index
      }
    }
    var ordered: [Node] = []
    var pending = all
    while !pending.isEmpty {
      var next: [Node] = []
      for node in pending {
        if node.inputs.allSatisfy({ defined.contains($0) }) {
          ordered.append(node)
          for o in node.outputs where !o.isEmpty { defined.insert(o) }
        } else {
          next.append(node)
        }
      }
      if next.count == pending.count {
        let node = next[0]
        let missing = node.inputs.filter { !defined.contains($0) }
        let reason = missing.contains(where: { producedBy[$0] != nil }) ? "a cycle through" : "undefined input(s)"
        throw CheckpointError("\(node.label) has \(reason) \(missing.map { "'\($0)'" }.joined(separator: ", "))")
      }
      pending = next
    }
    for o in outputs where !defined.contains(o.name) {
      throw CheckpointError("graph output '\(o.name)' is computed by no node")
    }

    // Fold every node whose inputs are all constants.
    var remaining: [Node] = []
    for node in ordered {
      if node.inputs.allSatisfy({ $0.isEmpty || constants[$0] != nil }) {
        let values = try Self.evaluate(node, opset: file.opset, folder: folder, values: constants)
        for (o, v) in zip(node.outputs, values) where !o.isEmpty { constants[o] = v }
      } else {
        remaining.append(node)
      }
    }
    nodes = remaining
    self.constants = constants

    // Shape-derived nodes, and whether values from float data become integers.
    var derived = Set<Int>()
    var derivedValues = Set<String>()
    var dataDependent = false
    var floatFromData = Set(inputs.map(\.name))
    for (k, node) in remaining.enumerated() {
      let live = node.inputs.filter { !$0.isEmpty && constants[$0] == nil }
      if OperatorTable.shapeOnly.contains(node.opType) || live.allSatisfy({ derivedValues.contains($0) }) {
        derived.insert(k)
        for o in node.outputs { derivedValues.insert(o) }
        continue
      }
      if live.contains(where: { floatFromData.contains($0) }) {
        if node.opType == "Cast" || ["Equal", "Greater", "Less"].contains(node.opType) { dataDependent = true }
        for o in node.outputs { floatFromData.insert(o) }
      }
    }
    shapeDerived = derived
    dataDependentShapes = dataDependent
  }

  /// Runs one node's operator on values looked up by name.
  static func evaluate(_ node: Node, opset: Int, folder: URL, values: [String: GraphValue]) throws -> [GraphValue] {
    let call = OperatorCall(
      node: node, opset: opset, inputs: node.inputs.map { $0.isEmpty ? nil : values[$0] }, folder: folder)
    let out = try OperatorTable.kernels[node.opType]!(call)
    guard out.count >= node.outputs.count || node.outputs[out.count...].allSatisfy(\.isEmpty) else {
      throw node.error("gives \(out.count) outputs, the graph expects \(node.outputs.count)")
    }
    return out
  }

  /// Every value the graph computes at run time from its inputs, in execution order (recordable layers).
  public var computedValues: [GraphValueInfo] {
    nodes.flatMap { node in
      node.outputs.filter { !$0.isEmpty }.map { GraphValueInfo(name: $0, opType: node.opType, nodeName: node.name) }
    }
  }
}
