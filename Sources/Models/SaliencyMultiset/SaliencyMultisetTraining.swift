import Datasets
import Engine
import Foundation

/// How `SaliencyMultisetNet.pretrainActivation` and `trainAttention` train.
public struct SaliencyMultisetTrainingConfig: Sendable {
  public var task = MultisetTask.set
  public var loss = MultisetLoss.reinforce
  /// Attention training: epochs, new canvases per epoch, minibatch, Adam's learning rate (constant).
  public var epochs = 100
  public var canvasesPerEpoch = 8_000
  public var batchSize = 64
  public var learningRate = 1e-3
  /// Entropy bonus of the REINFORCE surrogate (wellecks/multiset uses 0.01).
  public var entropyBonus: Float = 0.01
  /// Cross-entropy baseline only: feed the target labels back as y_{t-1} (teacher forcing) instead of
  /// the sampled ones. Off by default, so the baseline's rollouts are HSAL-RL's and only the loss
  /// differs; with it, the target "any label not yet fed back" is order-free in disguise.
  public var teacherForcing = false
  /// Discount of the REINFORCE returns (0: each action's own reward, the paper's formula as written).
  public var discount: Float = 0.5
  /// Gradient norm clip per step.
  public var maxGradNorm = 5.0
  /// Activation-model pretraining on single-digit canvases: epochs, canvases per epoch, learning rate.
  public var pretrainEpochs = 10
  public var pretrainCanvases = 8_000
  public var pretrainLearningRate = 2e-3
  public var seed: UInt64 = 1
  public init() {}
}

/// One epoch of attention training: the mean loss per canvas, the mean class reward per class
/// step, the share of canvases whose sampled labels are exactly right, attn_saliency (the mean
/// saliency at the glimpses of steps with a digit left to find: raw sum_c V^2 and normalised to the
/// canvas's maximum), and the wall time.
public struct MultisetEpochReport: Sendable {
  public var epoch: Int
  public var loss: Double
  public var meanClassReward: Double
  public var sampledExactMatch: Double
  public var attnSaliency: Double
  public var attnSaliencyNormalised: Double
  public var seconds: Double
}

extension SaliencyMultisetNet {
  /// Pretrains the activation model f_A as a digit classifier on single-digit canvases of the task's
  /// geometry (the paper fine-tunes its ResNet-34 on single-object images): cross-entropy on the
  /// scores of each channel's global maximum, Adam, data parallel, new canvases every epoch drawn from
  /// `digits`. Reports (epoch, loss, accuracy) after each epoch; stops on a non-finite loss.
  public func pretrainActivation(
    on digits: MNIST, config: SaliencyMultisetTrainingConfig, batchProgress: (Int, Int) -> Void = { _, _ in },
    progress: (Int, Double, Double) throws -> Void = { _, _, _ in }
  ) throws {
    var canvas = config.task.canvas(side: self.config.canvasSide)
    canvas.digitCounts = 1...1
    canvas.distinctLabels = true
    canvas.forcedDuplicateShare = 0
    var rng = RandomGenerator(seed: config.seed &+ 0x5a11)
    let opt = Adam(activation.parameters(), lr: config.pretrainLearningRate)
    let me = self.config
    let seed = config.seed
    let parallel = DataParallel(model: activation) { [me] in
      var r = RandomGenerator(seed: seed)
      return ActivationCNN(me, rng: &r)
    }
    let batches = (config.pretrainCanvases + config.batchSize - 1) / config.batchSize
    for epoch in 0..<config.pretrainEpochs {
      var lossSum = 0.0
      var right = 0
      for b in 0..<batches {
        let n = min(config.batchSize, config.pretrainCanvases - b * config.batchSize)
        let canvases = try MultiDigitCanvas.generate(n, from: digits, config: canvas, rng: &rng)
        let x = MultisetTask.images(canvases)
        let y = canvases.map { $0.labels[0] }
        let (value, hits) = parallel.lossAndGradients(batchSize: n, empty: 0) { _, net, range in
          let scores = net.scores(x.rows(range))
          let right = zip(scores.argmax(dim: 1).values, y[range]).filter { $0 == $1 }.count
          return (crossEntropy(scores, IntTensor(Array(y[range])), reduction: .sum) / Float(n), right)
        }
        guard value.isFinite else {
          throw TrainingError(
            message: "pretraining loss became \(value) in epoch \(epoch + 1), batch \(b + 1); stopped")
        }
        opt.step()
        lossSum += value * Double(n)
        right += hits.reduce(0, +)
        batchProgress(b + 1, batches)
      }
      try progress(
        epoch + 1, lossSum / Double(config.pretrainCanvases), Double(right) / Double(config.pretrainCanvases))
    }
    activation.eval()
  }

  /// Trains the meta-controller and controller (f_A frozen) with `config.loss` on new canvases of
  /// `config.task` every epoch, drawn from `digits`: one rollout per canvas with actions sampled from
  /// the policy (a per-batch, per-worker generator from the seed), meta steps up to the batch's largest
  /// label count + 1, `multisetObjective` as the loss, data parallel, Adam (constant rate) after a
  /// gradient-norm clip. Epochs `firstEpoch ..< config.epochs` run (resume). Calls `progress` after
  /// each epoch (write the checkpoint there); stops with an error on a non-finite loss (the caller's
  /// last checkpoint is kept).
  public func trainAttention(
    on digits: MNIST, config: SaliencyMultisetTrainingConfig, optimizer: Adam, firstEpoch: Int = 0,
    batchProgress: (Int, Int, MultisetBatchStats) -> Void = { _, _, _ in },
    progress: (MultisetEpochReport) throws -> Void = { _ in }
  ) throws {
    let canvas = config.task.canvas(side: self.config.canvasSide)
    try canvas.validate()
    let me = self.config
    let seed = config.seed
    let parallel = DataParallel(model: self) { SaliencyMultisetNet(me, seed: seed) }
    let batches = (config.canvasesPerEpoch + config.batchSize - 1) / config.batchSize
    activation.eval()
    for epoch in firstEpoch..<config.epochs {
      var rng = RandomGenerator(seed: config.seed &+ UInt64(epoch + 1) &* 0x9E37_79B9_7F4A_7C15)
      let start = Date()
      var lossSum = 0.0
      var stats = MultisetBatchStats()
      for b in 0..<batches {
        let n = min(config.batchSize, config.canvasesPerEpoch - b * config.batchSize)
        let canvases = try MultiDigitCanvas.generate(n, from: digits, config: canvas, rng: &rng)
        let volume = volumes(MultisetTask.images(canvases))
        let truth = canvases.map(\.labels)
        let order = truth.map { labels in rng.permutation(labels.count).map { labels[$0] } }
        let cut = parallel.slices(n)
        let policySeeds = cut.indices.map { _ in rng.next() }
        let perCanvas = volume.count / n
        let (value, shares) = parallel.lossAndGradients(batchSize: n, empty: MultisetBatchStats()) {
          worker, net, range in
          net.activation.eval()
          let slice = Array(volume[(range.lowerBound * perCanvas)..<(range.upperBound * perCanvas)])
          let sliceTruth = Array(truth[range])
          let sliceOrder = Array(order[range])
          let steps = (sliceTruth.map(\.count).max() ?? 0) + 1
          let stopLabel = net.config.stop
          let feedback: [[Int]]? =
            config.loss == .crossEntropy && config.teacherForcing
            ? (0..<steps).map { t in sliceOrder.map { t < $0.count ? $0[t] : stopLabel } } : nil
          let r = net.rollout(
            volume: slice, batch: range.count, steps: steps,
            policy: ActionPolicies.sampling(RandomGenerator(seed: policySeeds[worker])), feedback: feedback)
          let (l, s) = multisetObjective(
            r, truth: sliceTruth, order: sliceOrder, loss: config.loss, entropyBonus: config.entropyBonus,
            discount: config.discount, stop: stopLabel, scale: 1 / Float(n))
          return (l, s)
        }
        guard value.isFinite else {
          throw TrainingError(
            message:
              "loss became \(value) in epoch \(epoch + 1), batch \(b + 1); stopped (the last saved checkpoint is kept)")
        }
        _ = clipGradNorm(attentionParameters(), maxNorm: config.maxGradNorm)
        optimizer.step()
        lossSum += value * Double(n)
        var batchStats = MultisetBatchStats()
        for s in shares { batchStats.add(s) }
        stats.add(batchStats)
        batchProgress(b + 1, batches, stats)
      }
      try progress(
        MultisetEpochReport(
          epoch: epoch + 1, loss: lossSum / Double(config.canvasesPerEpoch),
          meanClassReward: stats.classRewardSum / Double(max(1, stats.classSteps)),
          sampledExactMatch: Double(stats.exactMatches) / Double(max(1, stats.examples)),
          attnSaliency: stats.rawSaliencySum / Double(max(1, stats.glimpses)),
          attnSaliencyNormalised: stats.normalisedSaliencySum / Double(max(1, stats.glimpses)),
          seconds: Date().timeIntervalSince(start)))
    }
  }
}
