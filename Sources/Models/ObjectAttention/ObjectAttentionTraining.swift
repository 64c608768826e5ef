import Engine

/// Settings of object-attention training (paper defaults for MNIST: lr 1e-3, phi 1000, batch 64).
public struct ObjectAttentionTrainingConfig: Sendable {
  /// Adam learning rate.
  public var learningRate = 1e-3
  /// Weight phi of the gated-input reconstruction loss.
  public var phi: Float = 1000
  /// Class weights for the cross-entropy (COCO: 1 / label frequency, normalised), or nil.
  public var classWeights: [Float]? = nil
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
public final class ObjectAttentionTrainer {
  public let net: ObjectAttentionNet
  public let optimizer: Adam
  public let config: ObjectAttentionTrainingConfig
  private let weights: Tensor<Float>?

  public init(net: ObjectAttentionNet, config: ObjectAttentionTrainingConfig) {
    self.net = net
    self.config = config
    optimizer = Adam(net.parameters(), lr: config.learningRate)
    weights = config.classWeights.map { Tensor(shape: [$0.count], scalars: $0) }
  }

  /// One batch: every glimpse with its own optimiser step. Throws when the loss is not finite
  /// (the caller keeps its last good checkpoint).
  public func step(_ batch: ObjectBatch) throws -> TrainStepStats {
    net.train()
    let n = batch.count
    var ior = net.emptyIOR(batch: n)
    var selected = [[Bool]](repeating: [Bool](repeating: false, count: batch.targets.count), count: n)
    var lossSum = 0.0
    var correct = 0
    for g in 0..<net.config.objects {
      optimizer.zeroGrad()
      let glimpse = net.glimpse(batch.images, ior: ior)
      let p = glimpse.last
      let choice = ObjectAttentionNet.selectObjects(
        gated: p.gatedInput, targets: batch.targets, alreadySelected: &selected)
      let labels = batch.selectedLabels(choice)
      var loss = crossEntropy(p.logits, labels, weight: weights)
      if config.phi != 0 { loss = loss + config.phi * mseLoss(p.gatedInput, batch.selectedTargets(choice)) }
      let value = Double(loss.item)
      guard value.isFinite else {
        throw TrainingError(message: "loss became \(value) at glimpse \(g + 1); training stopped")
      }
      loss.backward()
      optimizer.step()
      lossSum += value
      let pred = p.logits.argmax(dim: 1).values
      correct += zip(pred, labels.values).filter { $0 == $1 }.count
      ior = glimpse.nextIOR
    }
    return TrainStepStats(loss: lossSum / Double(net.config.objects), correct: correct, total: n * net.config.objects)
  }
}
