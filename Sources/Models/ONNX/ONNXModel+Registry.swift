import Engine
import Foundation
import ModelInterface
import ONNX
import Synchronization

/// Networks imported from ONNX files (`torch.onnx.export(model, x, "m.onnx")`): the graph runs on the
/// engine, every value a node computes is a recordable layer (by its name, and by the PyTorch module
/// path where the exporter kept the scopes), with receptive fields read off the graph's conv/pool chain.
public enum ONNXModel {
  public static let importer = ModelImporter(
    name: "onnx",
    summary: "any network exported to ONNX (torch.onnx.export, opsets 7-17); --weights names the .onnx file",
    entry: { path, normalization in try entry(path, normalization: normalization) })

  /// Entries already built, by file (path, size and modification time), so that validating a
  /// protocol, sizing its canvas and loading its model read the graph once.
  static let built = Mutex<[String: ModelEntry]>([:])

  /// The cache key of `path`: its standardized path, size and modification time.
  static func key(_ path: String) -> String? {
    guard let a = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
    let size = (a[.size] as? NSNumber)?.intValue ?? -1
    let time = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "\(URL(fileURLWithPath: path).standardizedFileURL.path)|\(size)|\(time)"
  }

  /// The side used when the graph leaves its input size symbolic.
  static let defaultSide = 224

  /// The network in `path`, checked on zeros of height x width.
  public static func network(_ path: String, height: Int? = nil, width: Int? = nil) throws -> GraphNetwork {
    let net = try GraphNetwork(graph: Graph(contentsOf: path))
    try net.prepare(
      height: height ?? net.declaredHeight ?? defaultSide, width: width ?? net.declaredWidth ?? defaultSide)
    return net
  }

  /// The input normalisation of an imported network unless one is given: ImageNet's for 3 channels
  /// (torchvision's and most exported models'), none (images in [0, 1]) for any other count.
  public static func defaultNormalization(channels: Int) -> InputNormalization {
    channels == 3 ? .imagenet : .none
  }

  /// The registry entry of the network in `path`: input geometry from the graph's declared input
  /// (224 x 224 where symbolic, then any size of at least 16 pixels works), `normalization` (nil:
  /// `defaultNormalization`), and as recordable layers every float value of rank 2
  /// or 4 whose receptive fields the graph gives (`Graph.unitFields`: every position sees some pixel).
  public static func entry(_ path: String, normalization: InputNormalization? = nil) throws -> ModelEntry {
    if let n = normalization, !n.isValid {
      throw CheckpointError("input normalisation \(n.mean) / \(n.std) needs finite means and positive deviations")
    }
    let key = key(path).map { k in normalization.map { "\(k)|\($0.mean)/\($0.std)" } ?? k }
    if let key, let known = built.withLock({ $0[key] }) { return known }
    let made = try makeEntry(path, normalization: normalization)
    if let key { built.withLock { $0[key] = made } }
    return made
  }

  /// Lines for `ephys inspect FILE.onnx`: the graph, its inputs and outputs, and every recordable
  /// layer with its output shape [C, H, W] (or [F]) and what it is.
  public static func inspection(_ path: String) throws -> [String] {
    let e = try entry(path)
    let graph = try Graph(contentsOf: path)
    let n = e.normalization
    let said = n == .imagenet ? "ImageNet's" : n.isIdentity ? "none (images in [0, 1])" : "mean \(n.mean), std \(n.std)"
    var lines = [
      e.summary,
      "input normalisation by default: \(said) for \(e.channels) channels (--normalization or model.normalization changes it)",
      "inputs:",
    ]
    lines += graph.inputs.map { "  \($0.name)  \($0.elementType) \($0.shapeDescription)" }
    lines.append("outputs:")
    lines += graph.outputs.map { "  \($0.name)  \($0.elementType) \($0.shapeDescription)" }
    lines.append("recordable layers at \(e.height)x\(e.width) (\(e.layers.count); record them by name):")
    lines += e.layers.map { "  \($0.name)  \($0.description)" }
    let values = Set(graph.computedValues.map(\.name))
    let unmapped = values.count - e.layers.filter { values.contains($0.name) }.count
    if unmapped > 0 {
      lines.append(
        "\(unmapped) other values are not listed: integer shape arithmetic, or values that mix positions in a way no per-axis receptive field describes (a Reshape or Transpose across channels and positions, a softmax over positions), or constant-padded maps whose border positions see no pixel"
      )
    }
    return lines
  }

  /// Receptive fields already read, by file key and input size.
  static let fieldTables = Mutex<[String: [String: ValueFields]]>([:])

  /// The receptive fields of every value of the graph in `path` (by value name and module path) at an
  /// input of height x width, read once per file and size.
  /// `net`, when given, is the graph of `path` already in memory (not read again).
  static func fields(_ path: String, height: Int, width: Int, net: GraphNetwork? = nil) throws -> [String: ValueFields]
  {
    let key = key(path).map { "\($0)|\(height)x\(width)" }
    if let key, let known = fieldTables.withLock({ $0[key] }) { return known }
    let graph = try net ?? GraphNetwork(graph: Graph(contentsOf: path))
    let made = try graph.unitFields(height: height, width: width)
    if let key { fieldTables.withLock { $0[key] = made } }
    return made
  }

  static func makeEntry(_ path: String, normalization: InputNormalization?) throws -> ModelEntry {
    let net = try network(path)
    if let n = normalization, ![1, net.channels].contains(n.mean.count) || ![1, net.channels].contains(n.std.count) {
      throw CheckpointError(
        "input normalisation \(n.mean) / \(n.std) needs one value or \(net.channels) (one per channel)", file: path)
    }
    let h = net.declaredHeight ?? defaultSide
    let w = net.declaredWidth ?? defaultSide
    let own = try fields(path, height: h, width: w, net: net)
    let valueOf = Dictionary(net.modulePaths.map { ($0.path, $0.value) }, uniquingKeysWith: { a, _ in a })
    let ops = Dictionary(net.graph.computedValues.map { ($0.name, $0.opType) }, uniquingKeysWith: { a, _ in a })
    var shapes: [String: [Int]] = [:]
    var handles: [HookHandle] = []
    let candidates = (net.valueNames + net.modulePaths.map(\.path)).filter { own[$0]?.complete == true }
    for name in candidates {
      guard let m = net.module(named: name) else { continue }
      handles.append(m.registerForwardHook { _, _, y in shapes[name] = y.shape })
    }
    let zeros = Tensor<Float>(
      shape: [1, net.channels, h, w], scalars: .init(repeating: 0, count: net.channels * h * w))
    _ = try net.checked { withNoGrad { net(zeros) } }
    for handle in handles { handle.remove() }
    var layers: [RecordableLayer] = []
    for name in candidates {
      guard let shape = shapes[name], shape.count == 2 || shape.count == 4 else { continue }
      let what = valueOf[name].map { "module \(name): \($0)" } ?? "\(ops[name] ?? "?") output"
      layers.append(RecordableLayer(name, "\(what) \(Array(shape.dropFirst()))"))
    }
    let file = URL(fileURLWithPath: path).lastPathComponent
    let symbolic = net.declaredHeight == nil || net.declaredWidth == nil
    let limit = net.batchLimit
    let recordable = Set(layers.map(\.name))
    var entry = ModelEntry(
      name: "onnx",
      summary:
        "\(file): ONNX graph (\(net.graph.producer.isEmpty ? "unknown exporter" : net.graph.producer), opset \(net.graph.opset), \(net.graph.fileNodeCount) nodes)",
      channels: net.channels, height: h, width: w, variableSize: symbolic, minimumSide: symbolic ? 16 : min(h, w),
      normalization: normalization ?? defaultNormalization(channels: net.channels), layers: layers,
      make: {
        do { return try network(path) } catch { return FailedNetwork(error) }
      },
      load: { weights in try network(weights) },
      steps: { _ in nil })
    entry.fieldMaps = { layer, height, width in
      recordable.contains(layer) ? try fields(path, height: height, width: width)[layer] : nil
    }
    let base = entry
    entry.customRecorder = { module, height, width in
      if let net = module as? GraphNetwork, height != nil || width != nil {
        try net.prepare(height: height ?? h, width: width ?? w)
        // The fields at this size from the graph at hand, before the recorder asks for them.
        _ = try fields(path, height: height ?? h, width: width ?? w, net: net)
      }
      return try LayerRecorder(
        module: module, entry: base, height: height, width: width,
        batchLimit: (module as? GraphNetwork)?.batchLimit ?? limit)
    }
    entry.customExtract = { request in
      var r = request
      if let limit { r.batchSize = min(r.batchSize, limit) }
      if r.weights == "random" { r.weights = path }
      try extractModuleOutputs(base, r)
    }
    return entry
  }
}

/// What `make` returns when the file can no longer be read: every forward fails with the error.
final class FailedNetwork: Module, FailableForward {
  let error: Error
  var failure: Error? { error }
  init(_ error: Error) { self.error = error }
  override func forward(_ x: Tensor<Float>) -> Tensor<Float> { Tensor(shape: [x.shape.first ?? 0, 0], scalars: []) }
}
