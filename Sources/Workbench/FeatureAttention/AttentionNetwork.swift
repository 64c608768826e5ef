import Engine
import Foundation
import ModelInterface
import Models

/// A network run for feature-based attention: per-channel gains multiply chosen layers' outputs (the
/// post-ReLU conv maps), and the output of the detector layer (fc7's ReLU, `classifier.4`, by
/// default) feeds the binary category detectors. Two ways to run it:
/// - a VGG- or AlexNet-style network (torchvision's `features` / `avgpool` / `classifier` layout) whose
///   attention layers are children of `features`: run child by child, stopping at the detector, and a
///   sweep over gains at one layer resumes from that layer's output;
/// - any other network whose layers are named modules (an imported ONNX graph, a ResNet): gains act
///   through forward modifiers, maps and the detector's output are read by forward hooks, each run is
///   the whole network, and runs take turns (the hooks live on the shared module) with every core.
/// Either way the network is only read, so workers may share one instance.
public final class AttentionNetwork: @unchecked Sendable {
  /// How the network is run (see the type's description).
  enum Backend {
    case features(FeaturesClassifier, featureIndex: [Int], detectorIndex: Int)
    case modules(root: Module, layers: [Module], detector: Module, lock: NSLock)
  }
  let backend: Backend
  /// The attention layers (module names) in network order.
  public let layers: [String]
  public let detectorLayer: String
  public let input: InputGeometry
  /// Each attention layer's map shape [C, H, W] at the input size.
  public let mapShapes: [[Int]]

  /// Wraps `module`. With the features/avgpool/classifier layout, `layers` children of `features`
  /// ("features.1" ...) and `detectorLayer` a child of `classifier`, the network runs child by child;
  /// otherwise every name must be a module of the network, the layers' outputs [N, C, H, W] maps and
  /// the detector's [N, F] (or a map, flattened), in the order a forward pass reaches them.
  public init(_ module: Module, input: InputGeometry, layers: [String], detectorLayer: String) throws {
    self.input = input
    self.layers = layers
    self.detectorLayer = detectorLayer
    module.eval()
    let zero = Tensor<Float>(
      shape: [1, input.channels, input.height, input.width],
      scalars: [Float](repeating: 0, count: input.channels * input.height * input.width))
    if let net = module as? FeaturesClassifier, let (indices, d) = try Self.featureLayout(net, layers, detectorLayer) {
      backend = .features(net, featureIndex: indices, detectorIndex: d)
      var shapes: [[Int]] = []
      _ = withNoGrad {
        var h = zero
        for (i, child) in net.features.children.enumerated() {
          h = child.module(h)
          if indices.contains(i) { shapes.append(Array(h.shape.dropFirst())) }
        }
        return h
      }
      guard shapes.allSatisfy({ $0.count == 3 }) else { throw RecordingError("attention layers must be conv maps") }
      mapShapes = shapes
      return
    }
    var modules: [Module] = []
    for name in layers + [detectorLayer] {
      guard let m = module.module(named: name) else {
        throw RecordingError(
          "'\(name)' is not a layer of the network (`ephys models NAME` or `ephys inspect FILE.onnx` lists them)")
      }
      modules.append(m)
    }
    guard Set(layers).count == layers.count else { throw RecordingError("attention layers must be distinct") }
    // One pass on zeros: the order the layers are reached in, and their shapes.
    var order: [Int] = []
    var shapes = [[Int]?](repeating: nil, count: modules.count)
    var handles: [HookHandle] = []
    for (k, m) in modules.enumerated() {
      handles.append(
        m.registerForwardHook { _, _, y in
          if shapes[k] == nil { order.append(k) }
          shapes[k] = Array(y.shape.dropFirst())
        })
    }
    _ = withNoGrad { module(zero) }
    for handle in handles { handle.remove() }
    if let failure = (module as? FailableForward)?.failure { throw failure }
    for (k, name) in (layers + [detectorLayer]).enumerated() where shapes[k] == nil {
      throw RecordingError("'\(name)' did not run in a forward pass")
    }
    let reached = order.filter { $0 < layers.count }
    guard reached == Array(0..<layers.count) else {
      throw RecordingError(
        "attention layers must be in network order: \(reached.map { layers[$0] }.joined(separator: ", "))")
    }
    guard shapes[..<layers.count].allSatisfy({ $0?.count == 3 }) else {
      throw RecordingError(
        "attention layers must be conv maps [C, H, W]: \(zip(layers, shapes).map { "\($0) \($1 ?? [])" })")
    }
    mapShapes = shapes[..<layers.count].map { $0! }
    backend = .modules(root: module, layers: Array(modules.dropLast()), detector: modules.last!, lock: NSLock())
  }

  /// The child indices of `layers` among `features` and of `detector` among `classifier`, when the
  /// names say so (nil: not that layout); an error when they are children but out of order.
  static func featureLayout(_ net: FeaturesClassifier, _ layers: [String], _ detector: String) throws -> (
    [Int], Int
  )? {
    let featureNames = net.features.children.map { "features." + $0.name }
    let classifierNames = net.classifier.children.map { "classifier." + $0.name }
    let indices = layers.compactMap { featureNames.firstIndex(of: $0) }
    guard indices.count == layers.count, let d = classifierNames.firstIndex(of: detector) else { return nil }
    guard indices == indices.sorted(), Set(indices).count == indices.count else {
      throw RecordingError("attention layers must be distinct and in network order")
    }
    return (indices, d)
  }

  /// Normalised input [N, C, H, W] from images in [0, 1] at the network's input size: C x H x W
  /// planes, or one plane repeated in every channel.
  public func batch(_ images: [[Float]]) -> Tensor<Float> {
    let plane = input.height * input.width
    var v = [Float]()
    v.reserveCapacity(images.count * input.channels * plane)
    for image in images {
      precondition(image.count == plane || image.count == input.channels * plane, "image size")
      for c in 0..<input.channels {
        let source = image.count == plane ? image[...] : image[(c * plane)..<((c + 1) * plane)]
        let (mean, std) = input.normalization.stats(channel: c)
        v += input.normalization.isIdentity ? Array(source) : source.map { ($0 - mean) / std }
      }
    }
    return Tensor(shape: [images.count, input.channels, input.height, input.width], scalars: v)
  }

  /// Runs the network on `x`, modulating attention layer k's output by `gains[k]` (nil: none);
  /// returns the detector layer's output [N, F] and the (gained) output of each attention layer
  /// k in `keep`, keyed by k.
  public func run(_ x: Tensor<Float>, gains: [LayerModulation?], keep: Set<Int> = []) -> (
    detector: Tensor<Float>, maps: [Int: Tensor<Float>]
  ) {
    switch backend {
    case .features(_, let featureIndex, _):
      let r = runFeatures(x, gains: gains, keep: Set(keep.map { featureIndex[$0] }))
      return (r.detector!, Dictionary(uniqueKeysWithValues: keep.map { ($0, r.maps[featureIndex[$0]]!) }))
    case .modules(let root, let modules, let detector, let lock):
      return runModules(x, root: root, modules: modules, detector: detector, lock: lock, gains: gains, keep: keep)
    }
  }

  /// What a sweep over gains at attention layer k reuses: that layer's output without attention for
  /// the features layout, the input itself for other networks (they run whole).
  public func prefix(_ x: Tensor<Float>, through k: Int) -> Tensor<Float> {
    guard case .features(_, let featureIndex, _) = backend else { return x }
    return runFeatures(x, gains: [], stopAfter: featureIndex[k]).prefix!
  }

  /// The detector output with modulation `g` at attention layer k, from `prefix(x, through: k)`.
  public func resume(_ prefix: Tensor<Float>, at k: Int, _ g: LayerModulation) -> Tensor<Float> {
    guard case .features(_, let featureIndex, _) = backend else {
      var gains = [LayerModulation?](repeating: nil, count: layers.count)
      gains[k] = g
      return run(prefix, gains: gains).detector
    }
    return runFeatures(g.apply(prefix), from: featureIndex[k] + 1, gains: []).detector!
  }

  /// The features layout: `features` children from `start` on `x` (the output of child start - 1, or
  /// the input when 0), attention layer k's output modulated by `gains[k]`; the detector's output,
  /// the outputs of the children in `keep`, and the output of child `stopAfter` if given.
  func runFeatures(
    _ x: Tensor<Float>, from start: Int = 0, gains: [LayerModulation?], keep: Set<Int> = [], stopAfter: Int? = nil
  ) -> (detector: Tensor<Float>?, maps: [Int: Tensor<Float>], prefix: Tensor<Float>?) {
    guard case .features(let network, let featureIndex, let detectorIndex) = backend else {
      preconditionFailure("runFeatures needs the features layout")
    }
    var h = x
    var maps: [Int: Tensor<Float>] = [:]
    let children = network.features.children
    for i in start..<children.count {
      h = children[i].module(h)
      if let k = featureIndex.firstIndex(of: i) {
        if k < gains.count, let g = gains[k] { h = g.apply(h) }
        if keep.contains(i) { maps[i] = h }
      }
      if i == stopAfter { return (nil, maps, h) }
    }
    h = network.avgpool(h).flattened(from: 1)
    let head = network.classifier.children
    for j in 0...detectorIndex { h = head[j].module(h) }
    return (h, maps, nil)
  }

  /// Any other network: the whole network on `x` in pieces of its batch limit, with gains as forward
  /// modifiers and maps read by forward hooks, one run at a time on every core.
  func runModules(
    _ x: Tensor<Float>, root: Module, modules: [Module], detector: Module, lock: NSLock, gains: [LayerModulation?],
    keep: Set<Int>
  ) -> (detector: Tensor<Float>, maps: [Int: Tensor<Float>]) {
    let n = x.shape[0]
    let limit = (root as? BatchLimited)?.batchLimit ?? n
    var outputs: [Tensor<Float>] = []
    var maps: [Int: [Tensor<Float>]] = [:]
    lock.lock()
    defer { lock.unlock() }
    Parallel.$insideWorker.withValue(false) {
      for start in stride(from: 0, to: n, by: max(1, limit)) {
        let end = min(n, start + max(1, limit))
        let part = end - start == n ? x : x.slice(dim: 0, start: start, end: end)
        var handles: [HookHandle] = []
        for (k, m) in modules.enumerated() {
          if k < gains.count, let g = gains[k]?.slice(start, end, of: n) {
            handles.append(m.registerForwardModifier { _, _, y in g.apply(y) })
          }
          if keep.contains(k) { handles.append(m.registerForwardHook { _, _, y in maps[k, default: []].append(y) }) }
        }
        var out: Tensor<Float>? = nil
        handles.append(detector.registerForwardHook { _, _, y in out = y })
        // A network whose weights are constants (an imported graph) records no tape from an input
        // that needs no gradient: mark it, so gradients reach the kept maps.
        let tracked = GradMode.isEnabled && !keep.isEmpty && !part.requiresGrad
        _ = root(tracked ? Tensor(shape: part.shape, scalars: part.scalars, requiresGrad: true) : part)
        for handle in handles { handle.remove() }
        if let failure = (root as? FailableForward)?.failure {
          preconditionFailure("the network failed on a batch it ran at set-up: \(failure)")
        }
        outputs.append(out!.rank == 2 ? out! : out!.flattened(from: 1))
      }
    }
    let joined = maps.mapValues { $0.count == 1 ? $0[0] : concat($0, dim: 0) }
    return (outputs.count == 1 ? outputs[0] : concat(outputs, dim: 0), joined)
  }
}

/// How attention changes one layer's output h (post-ReLU, [N, C, H, W]): multiplied by a gain that
/// broadcasts over it ([1, C, 1, 1] per feature map, or [N, 1, H, W] per position), or shifted by an
/// offset per feature map and rectified again, max(0, h + s) (the additive form).
public enum LayerModulation: @unchecked Sendable {
  case scale(Tensor<Float>)
  case shift(Tensor<Float>)

  /// The modulated output.
  public func apply(_ h: Tensor<Float>) -> Tensor<Float> {
    switch self {
    case .scale(let g): return h * g
    case .shift(let s): return (h + s).relu()
    }
  }

  /// The modulation of images start..<end of a batch of n (per-image gains sliced; shared ones kept).
  func slice(_ start: Int, _ end: Int, of n: Int) -> LayerModulation {
    guard end - start < n else { return self }
    switch self {
    case .scale(let g) where g.shape.first == n: return .scale(g.slice(dim: 0, start: start, end: end))
    case .shift(let s) where s.shape.first == n: return .shift(s.slice(dim: 0, start: start, end: end))
    default: return self
    }
  }
}
