import Engine
import ModelInterface
import Models

/// A VGG- or AlexNet-style network (torchvision's `features` / `avgpool` / `classifier` layout) run
/// for feature-based attention: per-channel gains multiply chosen `features` outputs (the post-ReLU
/// conv maps, before any pooling), and the run stops at the detector layer (fc7's ReLU,
/// `classifier.4`, by default), whose output feeds the binary category detectors. The network is only
/// read, so workers may share one instance.
public final class AttentionNetwork: @unchecked Sendable {
  public let network: FeaturesClassifier
  /// The attention layers (`features.K` names) in network order.
  public let layers: [String]
  /// Each attention layer's index among `features`' children.
  let featureIndex: [Int]
  /// The detector layer's index among `classifier`'s children.
  let detectorIndex: Int
  public let detectorLayer: String
  public let input: InputGeometry
  /// Each attention layer's map shape [C, H, W] at the input size.
  public let mapShapes: [[Int]]

  /// Wraps `module` (which must have the features/avgpool/classifier layout); `layers` are children of
  /// `features` (e.g. "features.1" ...), `detectorLayer` a child of `classifier`.
  public init(_ module: Module, input: InputGeometry, layers: [String], detectorLayer: String) throws {
    guard let net = module as? FeaturesClassifier else {
      throw RecordingError(
        "feature attention needs a VGG- or AlexNet-style network (features, avgpool, classifier), not \(type(of: module))"
      )
    }
    network = net
    self.input = input
    let featureNames = net.features.children.map { "features." + $0.name }
    var indices: [Int] = []
    for layer in layers {
      guard let i = featureNames.firstIndex(of: layer) else {
        throw RecordingError("attention layer '\(layer)' is not a child of features (\(featureNames.first ?? "")...)")
      }
      indices.append(i)
    }
    guard indices == indices.sorted(), Set(indices).count == indices.count else {
      throw RecordingError("attention layers must be distinct and in network order")
    }
    let classifierNames = net.classifier.children.map { "classifier." + $0.name }
    guard let d = classifierNames.firstIndex(of: detectorLayer) else {
      throw RecordingError(
        "detector layer '\(detectorLayer)' is not a child of classifier (\(classifierNames.joined(separator: ", ")))")
    }
    self.layers = layers
    featureIndex = indices
    detectorIndex = d
    self.detectorLayer = detectorLayer
    net.eval()
    let zero = Tensor<Float>(
      shape: [1, input.channels, input.height, input.width],
      scalars: [Float](repeating: 0, count: input.channels * input.height * input.width))
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

  /// Runs `features` children from `start` on `x` (the output of child start - 1, or the input when 0),
  /// modulating attention layer k's output by `gains[k]` (nil: none); returns the
  /// detector layer's output [N, F] and, when `keep` is set, the (gained) output of each attention layer
  /// whose child index is in `keep`, and the output of child `stopAfter` if given (a prefix to resume from).
  public func run(
    _ x: Tensor<Float>, from start: Int = 0, gains: [LayerModulation?], keep: Set<Int> = [], stopAfter: Int? = nil
  ) -> (detector: Tensor<Float>?, maps: [Int: Tensor<Float>], prefix: Tensor<Float>?) {
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

  /// The child index of attention layer k among `features`.
  public func childIndex(_ k: Int) -> Int { featureIndex[k] }
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
}
