import Engine
import Foundation
import Stimuli

/// One binary detector per category on a network's detector-layer features (Lindsay & Miller 2018):
/// detector c says "category c is present" when w_c . f + b_c > 0 (sigmoid >= 0.5; the reference's
/// round(sigmoid), with the tie at exactly 0.5 counted as present).
public struct CategoryDetectors: Sendable {
  /// Weights [categories, features] and biases [categories].
  public var weight: [Float]
  public var bias: [Float]
  public var categories: Int
  public var features: Int

  public init(weight: [Float], bias: [Float], categories: Int, features: Int) {
    precondition(weight.count == categories * features && bias.count == categories, "detector sizes")
    self.weight = weight
    self.bias = bias
    self.categories = categories
    self.features = features
  }

  /// Detector logits [N, categories] of features [N, F].
  public func logits(_ f: Tensor<Float>) -> Tensor<Float> {
    linear(
      f, weight: Tensor(shape: [categories, features], scalars: weight),
      bias: Tensor(shape: [categories], scalars: bias)
    )
  }

  /// The logit of detector `c` for every row of features [N, F].
  public func logit(_ c: Int, _ f: Tensor<Float>) -> [Float] {
    let n = f.shape[0]
    let v = f.scalars
    return (0..<n).map { i in
      var s = bias[c]
      for j in 0..<features { s += weight[c * features + j] * v[i * features + j] }
      return s
    }
  }

  /// Trains detector c on `features` [N, F] with `labels` (category per row): positives are every
  /// row of category c, negatives as many rows drawn (seeded) from the other categories. Loss: mean
  /// sigmoid cross-entropy + `l2` * sum(w^2) / 2 (TensorFlow's l2_loss of the weights, as the reference
  /// code), Adam at `lr` on shuffled minibatches of `batch` for `epochs`.
  public static func train(
    features: Tensor<Float>, labels: [Int], categories: Int, seed: UInt64, epochs: Int = 30, batch: Int = 64,
    lr: Double = 1e-2, l2: Float = 0.01
  ) -> CategoryDetectors {
    let n = features.shape[0]
    let f = features.shape[1]
    let rows = features.scalars
    var weight = [Float](repeating: 0, count: categories * f)
    var bias = [Float](repeating: 0, count: categories)
    var rng = RandomGenerator(seed: seed)
    for c in 0..<categories {
      let positives = (0..<n).filter { labels[$0] == c }
      let pool = (0..<n).filter { labels[$0] != c }
      let shuffled = rng.permutation(pool.count).map { pool[$0] }
      let negatives = Array(shuffled.prefix(positives.count))
      let items = positives.map { ($0, Float(1)) } + negatives.map { ($0, Float(0)) }
      var initRNG = RandomGenerator(seed: rng.next())
      let w = Tensor<Float>(
        shape: [1, f], scalars: (0..<f).map { _ in Float(initRNG.uniform(-1, 1)) / Float(f).squareRoot() },
        requiresGrad: true)
      let b = Tensor<Float>(shape: [1], scalars: [0], requiresGrad: true)
      let opt = Adam([w, b], lr: lr)
      for _ in 0..<epochs {
        let order = rng.permutation(items.count)
        for start in stride(from: 0, to: items.count, by: batch) {
          let idx = order[start..<min(items.count, start + batch)].map { items[$0] }
          var x = [Float]()
          x.reserveCapacity(idx.count * f)
          for (row, _) in idx { x += rows[(row * f)..<((row + 1) * f)] }
          let xs = Tensor(shape: [idx.count, f], scalars: x)
          let target = Tensor(shape: [idx.count, 1], scalars: idx.map(\.1))
          opt.zeroGrad()
          let loss = binaryCrossEntropyWithLogits(linear(xs, weight: w, bias: b), target) + (w * w).sum() * (l2 / 2)
          loss.backward()
          opt.step()
        }
      }
      weight.replaceSubrange((c * f)..<((c + 1) * f), with: w.scalars)
      bias[c] = b.scalars[0]
    }
    return CategoryDetectors(weight: weight, bias: bias, categories: categories, features: f)
  }

  /// The detectors as safetensors: `detectors.weight` [C, F], `detectors.bias` [C], with the layer
  /// they read in the metadata.
  public func write(to path: String, layer: String, names: [String]) throws {
    let archive = TensorArchive(
      tensors: [
        StoredTensor(name: "detectors.weight", shape: [categories, features], floats: weight),
        StoredTensor(name: "detectors.bias", shape: [categories], floats: bias),
      ],
      metadata: ["detector_layer": layer, "categories": names.joined(separator: ",")])
    try Safetensors.write(archive, to: path)
  }

  /// Detectors from a file `write` made; checks their sizes against `categories` and `features`.
  public static func read(_ path: String, categories: Int, features: Int) throws -> CategoryDetectors {
    let archive = try Safetensors.read(path)
    let w = try archive.require("detectors.weight")
    let b = try archive.require("detectors.bias")
    guard w.shape == [categories, features], b.shape == [categories] else {
      throw CheckpointError(
        "detectors.weight is \(w.shape) and detectors.bias \(b.shape); expected [\(categories), \(features)] and [\(categories)]",
        file: path)
    }
    return CategoryDetectors(
      weight: try w.floats(), bias: try b.floats(), categories: categories, features: features)
  }
}

/// Detectors for a study: detector-layer features of up to `limit` images per category, each shown
/// whole and alone in a random quadrant of an otherwise blank canvas (so they detect a category in
/// an array's quadrant too), trained with `CategoryDetectors.train` (seeded).
public func trainStudyDetectors(
  _ net: AttentionNetwork, images: CategoryImages, limit: Int, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }
) -> CategoryDetectors {
  var rows: [Float] = []
  var labels: [Int] = []
  var rng = RandomGenerator(seed: seed &+ 11)
  let side = images.side
  let blank = [Float](repeating: 0, count: images.channels * side * side)
  var features = 0
  for c in 0..<images.count {
    let list = Array(images.images[c].prefix(limit))
    for start in stride(from: 0, to: list.count, by: 16) {
      var batch: [[Float]] = []
      for image in list[start..<min(list.count, start + 16)] {
        let slot = Int(rng.next() % 4)
        batch.append(image)
        batch.append(arrayImage((0..<4).map { $0 == slot ? image : blank }, channels: images.channels, side: side))
      }
      let f = withNoGrad { net.run(net.batch(batch), gains: []).detector }
      features = f.shape[1]
      rows += f.scalars
      labels += batch.map { _ in c }
    }
    progress(c + 1, images.count)
  }
  return CategoryDetectors.train(
    features: Tensor(shape: [labels.count, features], scalars: rows), labels: labels, categories: images.count,
    seed: seed &+ 12)
}
