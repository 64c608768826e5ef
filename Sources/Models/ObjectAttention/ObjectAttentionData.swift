import Datasets
import Engine

/// The MNIST data of the object-attention task: source digits split by digit into train /
/// validation / test (70/10/20, stratified, fixed seed) so no test digit is ever seen in training,
/// and composites built from them.
public struct ObjectAttentionMNISTData {
  public var train, validation, test: MultiDigitMNIST

  /// Splits `source` (seed 7: the split never depends on the training seed).
  public init(source: MNIST, config: ObjectAttentionConfig, noise: Float = 0.3) {
    let (tr, va, te) = source.split(validation: 0.1, test: 0.2, seed: 7)
    func make(_ m: MNIST) -> MultiDigitMNIST {
      MultiDigitMNIST(source: m, objects: config.objects, noise: noise, strength: config.strength)
    }
    train = make(tr)
    validation = make(va)
    test = make(te)
  }

  /// Training batches of one epoch: every training digit anchors one composite, partners and order
  /// drawn from a generator seeded by (seed, epoch), so a resumed run draws the same data.
  public func trainingBatches(epoch: Int, batchSize: Int, seed: UInt64) -> (count: Int, make: (Int) -> ObjectBatch) {
    var rng = RandomGenerator(seed: seed &* 1_000_003 &+ UInt64(epoch))
    let order = rng.permutation(train.source.count)
    let count = (order.count + batchSize - 1) / batchSize
    let source = train
    let base = rng.next()
    return (
      count,
      { b in
        var r = RandomGenerator(seed: base &+ UInt64(b))
        let anchors = Array(order[(b * batchSize)..<min(order.count, (b + 1) * batchSize)])
        return source.batch(anchors: anchors, rng: &r).objectBatch
      }
    )
  }

  /// Fixed composites for evaluation: each digit of `set` anchors one composite (seeded, so every
  /// evaluation of the same split sees the same images).
  public static func evaluationBatches(_ set: MultiDigitMNIST, batchSize: Int = 250, seed: UInt64 = 2024)
    -> [ObjectBatch]
  {
    var rng = RandomGenerator(seed: seed)
    return stride(from: 0, to: set.source.count, by: batchSize).map { start in
      set.batch(anchors: Array(start..<min(set.source.count, start + batchSize)), rng: &rng).objectBatch
    }
  }
}
