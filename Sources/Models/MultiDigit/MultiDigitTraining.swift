import Datasets
import Engine
import Foundation

/// How `MultiDigitCNN.trainMultiLabel` trains: fresh canvases every epoch from the training digits.
public struct MultiDigitTrainingConfig: Sendable {
  public var epochs = 10
  /// Canvases drawn per epoch (new ones every epoch).
  public var canvasesPerEpoch = 16_000
  public var batchSize = 64
  /// Adam's learning rate, cosine-annealed to 0 over the epochs.
  public var learningRate = 5e-3
  public var seed: UInt64 = 1
  public var canvas = MultiDigitCanvasConfig()
  public init() {}
}

/// One epoch's numbers: mean binary cross-entropy per canvas and class, and the share of canvases
/// whose predicted digit set (logit > 0) is exactly right.
public struct MultiLabelEpochReport: Sendable {
  public var epoch: Int
  public var loss: Double
  public var exactMatch: Double
  public var seconds: Double
}

extension MultiDigitCNN {
  /// A batch of canvases as [N, 1, side, side] and their multi-hot targets [N, 10].
  public static func batch(_ canvases: [MultiDigitCanvas]) -> (images: Tensor<Float>, targets: Tensor<Float>) {
    let side = canvases.first?.side ?? Self.side
    var targets = [Float](repeating: 0, count: canvases.count * 10)
    for (i, c) in canvases.enumerated() { for l in c.labels { targets[i * 10 + l] = 1 } }
    return (
      Tensor(shape: [canvases.count, 1, side, side], scalars: canvases.flatMap(\.pixels)),
      Tensor(shape: [canvases.count, 10], scalars: targets)
    )
  }

  /// Trains the network as a multi-label digit detector (which digits are on the canvas): binary
  /// cross-entropy on the 10 logits, Adam with cosine annealing, data parallel (replicas built from
  /// `config.seed`), `config.canvasesPerEpoch` new canvases of `digits` per epoch. Calls
  /// `progress` after every epoch; stops with an error on a non-finite loss (the caller's last
  /// checkpoint is kept). Leaves the network in evaluation mode.
  public func trainMultiLabel(
    on digits: MNIST, config: MultiDigitTrainingConfig, batchProgress: (Int, Int) -> Void = { _, _ in },
    progress: (MultiLabelEpochReport) throws -> Void = { _ in }
  ) throws {
    try config.canvas.validate()
    var rng = RandomGenerator(seed: config.seed)
    let opt = Adam(parameters(), lr: config.learningRate)
    let parallel = DataParallel(model: self, replica: { MultiDigitCNN(seed: config.seed) })
    let schedule = LearningRateSchedule.cosine(tMax: config.epochs, etaMin: 0)
    let batches = (config.canvasesPerEpoch + config.batchSize - 1) / config.batchSize
    train()
    for epoch in 0..<config.epochs {
      opt.learningRate = schedule.rate(base: config.learningRate, epoch: epoch)
      let start = Date()
      var lossSum = 0.0
      var exact = 0
      for b in 0..<batches {
        let n = min(config.batchSize, config.canvasesPerEpoch - b * config.batchSize)
        let canvases = try MultiDigitCanvas.generate(n, from: digits, config: config.canvas, rng: &rng)
        let (x, y) = Self.batch(canvases)
        let (value, hits) = parallel.lossAndGradients(batchSize: n, empty: 0) { _, net, range in
          let ys = y.rows(range)
          let logits = net(x.rows(range))
          var right = 0
          for i in 0..<range.count {
            if (0..<10).allSatisfy({ (logits.scalars[i * 10 + $0] > 0) == (ys.scalars[i * 10 + $0] > 0.5) }) {
              right += 1
            }
          }
          return (binaryCrossEntropyWithLogits(logits, ys, reduction: .sum) / Float(n * 10), right)
        }
        guard value.isFinite else {
          throw TrainingError(
            message:
              "loss became \(value) in epoch \(epoch + 1), batch \(b + 1); stopped (the last saved checkpoint is kept)")
        }
        opt.step()
        lossSum += value * Double(n)
        exact += hits.reduce(0, +)
        batchProgress(b + 1, batches)
      }
      try progress(
        MultiLabelEpochReport(
          epoch: epoch + 1, loss: lossSum / Double(config.canvasesPerEpoch),
          exactMatch: Double(exact) / Double(config.canvasesPerEpoch), seconds: Date().timeIntervalSince(start)))
    }
    eval()
  }
}
