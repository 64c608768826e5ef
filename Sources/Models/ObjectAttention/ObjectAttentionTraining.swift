import Engine

/// Settings of object-attention training (paper defaults for MNIST: lr 1e-3, phi 1000, batch 64).
public struct ObjectAttentionTrainingConfig: Sendable {
  /// Adam learning rate.
  public var learningRate = 1e-3
  /// Weight phi of the gated-input reconstruction loss.
  public var phi: Float = 1000
  /// Class weights for the cross-entropy (COCO: 1 / label frequency, normalised), or nil.
  public var classWeights: [Float]? = nil
  /// Data-parallel workers, each on a slice of at least 8 images (nil: the engine's thread count).
  public var workers: Int? = nil
  public init() {}
}

/// Statistics of one training batch.
public struct TrainStepStats: Sendable {
  /// Mean loss over glimpses.
  public var loss: Double
  /// Objects classified correctly (over all glimpses).
  public var correct: Int
  /// Objects seen (images x glimpses).
  public var total: Int
}

/// Trains the object-attention network as the reference does: per glimpse, T passes with BPTT
/// through all of them, the attended object chosen by least squared error, loss
/// CE(logits, label) + phi * MSE(gated input, target), and one Adam step.
///
/// Data parallel on the engine's workers (`DataParallel`): each worker runs its contiguous slice of
/// the batch through its own copy of the network, the slices' losses are scaled so that they add up
/// to the full batch's mean loss, and their parameter gradients are summed in worker order before the
/// one Adam step per glimpse.
public final class ObjectAttentionTrainer {
  public let net: ObjectAttentionNet
  public let optimizer: Adam
  public let config: ObjectAttentionTrainingConfig
  private let weights: Tensor<Float>?
  private let parallel: DataParallel<ObjectAttentionNet>

  public init(net: ObjectAttentionNet, config: ObjectAttentionTrainingConfig) {
    self.net = net
    self.config = config
    optimizer = Adam(net.parameters(), lr: config.learningRate)
    weights = config.classWeights.map { Tensor(shape: [$0.count], scalars: $0) }
    let architecture = net.config
    parallel = DataParallel(model: net) { ObjectAttentionNet(architecture, seed: 0) }
  }

  /// One worker's slice of the batch and its state across glimpses.
  private final class Worker: @unchecked Sendable {
    let net: ObjectAttentionNet
    let batch: ObjectBatch
    var ior: [Tensor<Float>]
    var selected: [[Bool]]
    var pass: AttentionPass? = nil
    var labels = IntTensor([])
    var targets: Tensor<Float>? = nil
    var nextIOR: [Tensor<Float>] = []
    var loss: Tensor<Float>? = nil

    init(net: ObjectAttentionNet, batch: ObjectBatch) {
      self.net = net
      self.batch = batch
      ior = net.emptyIOR(batch: batch.count)
      selected = [[Bool]](repeating: [Bool](repeating: false, count: batch.targets.count), count: batch.count)
    }
  }

  /// One batch: every glimpse with its own optimiser step. Throws when the loss is not finite
  /// (the caller keeps its last good checkpoint).
  public func step(_ batch: ObjectBatch) throws -> TrainStepStats {
    let n = batch.count
    let slices = parallel.slices(n, limit: config.workers)
    let networks = parallel.prepare(workers: slices.count)
    let workers = slices.enumerated().map { w, range in
      Worker(net: networks[w], batch: slices.count == 1 ? batch : batch.slice(range))
    }
    let per = batch.images.count / max(1, n)
    var lossSum = 0.0
    var correct = 0
    for g in 0..<net.config.objects {
      if g > 0 { _ = parallel.prepare(workers: slices.count) }
      // Forward passes and object selection, each worker on its slice.
      parallel.forEachWorker(workers.count) { i in
        let w = workers[i]
        let glimpse = w.net.glimpse(w.batch.images, ior: w.ior)
        let choice = ObjectAttentionNet.selectObjects(
          gated: glimpse.last.gatedInput, targets: w.batch.targets, alreadySelected: &w.selected)
        w.pass = glimpse.last
        w.labels = w.batch.selectedLabels(choice)
        w.targets = w.batch.selectedTargets(choice)
        w.nextIOR = glimpse.nextIOR
      }
      // The full batch's mean: CE is normalised by the total (class) weight of the chosen labels,
      // the reconstruction error by the number of pixels in the batch.
      let labelWeight: Float =
        weights.map { wt in workers.reduce(0) { $0 + $1.labels.values.reduce(0) { $0 + wt.scalars[$1] } } }
        ?? Float(n)
      let phi = config.phi
      parallel.forEachWorker(workers.count) { i in
        let w = workers[i]
        let p = w.pass!
        var loss = crossEntropy(p.logits, w.labels, weight: weights, reduction: .sum) / labelWeight
        if phi != 0 { loss = loss + (phi / Float(n * per)) * mseLoss(p.gatedInput, w.targets!, reduction: .sum) }
        w.loss = loss
        if loss.item.isFinite { loss.backward() }
      }
      let value = workers.reduce(0.0) { $0 + Double($1.loss!.item) }
      guard value.isFinite else {
        throw TrainingError(message: "loss became \(value) at glimpse \(g + 1); training stopped")
      }
      parallel.reduceGradients(workers: workers.count)
      optimizer.step()
      lossSum += value
      for w in workers {
        let pred = w.pass!.logits.argmax(dim: 1).values
        correct += zip(pred, w.labels.values).filter { $0 == $1 }.count
        w.ior = w.nextIOR
        w.pass = nil
        w.targets = nil
        w.loss = nil
      }
    }
    return TrainStepStats(loss: lossSum / Double(net.config.objects), correct: correct, total: n * net.config.objects)
  }
}
