import Datasets
import Engine

/// Images with several objects, each object's target for the gated input and its class.
public struct ObjectBatch {
  /// Inputs [N, C, H, W].
  public var images: Tensor<Float>
  /// Per object k: the target image (1 - s) x + s * object_k, shaped like `images`.
  public var targets: [Tensor<Float>]
  /// Per object k: class of object k in each image.
  public var labels: [[Int]]

  public init(images: Tensor<Float>, targets: [Tensor<Float>], labels: [[Int]]) {
    self.images = images
    self.targets = targets
    self.labels = labels
  }

  /// Number of images.
  public var count: Int { images.shape[0] }

  /// Images `range` of the batch (with their targets and labels).
  public func slice(_ range: Range<Int>) -> ObjectBatch {
    ObjectBatch(
      images: images.rows(range), targets: targets.map { $0.rows(range) }, labels: labels.map { Array($0[range]) })
  }

  /// For each image, the target of the object chosen by `choice` (one tensor like `images`).
  public func selectedTargets(_ choice: [Int]) -> Tensor<Float> {
    let per = images.count / max(1, count)
    var v = [Float](repeating: 0, count: images.count)
    for (i, k) in choice.enumerated() {
      targets[k].scalars.withUnsafeBufferPointer { src in
        for j in (i * per)..<((i + 1) * per) { v[j] = src[j] }
      }
    }
    return Tensor(shape: images.shape, scalars: v)
  }

  /// For each image, the class of the object chosen by `choice`.
  public func selectedLabels(_ choice: [Int]) -> IntTensor { IntTensor(choice.enumerated().map { labels[$1][$0] }) }
}

extension MultiDigitBatch {
  /// The composites as an object batch for the attention model.
  public var objectBatch: ObjectBatch { ObjectBatch(images: images, targets: targets, labels: labels) }
}
