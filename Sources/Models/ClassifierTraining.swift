import Datasets
import Engine
import Foundation

/// Settings for training a digit classifier.
public struct ClassifierTrainingConfig: Sendable {
  public var epochs = 10
  public var batchSize = 32
  public var learningRate = 1e-3
  /// Learning rate per epoch (cosine annealing to zero over the run by default).
  public var schedule: LearningRateSchedule? = nil
  /// Random translation of each training digit by up to this many pixels (0 = none).
  public var maxShift = 2
  public var seed: UInt64 = 1
  public init() {}
}

/// Progress of one epoch, reported to a callback.
public struct EpochReport: Sendable {
  public var epoch: Int
  public var loss: Double
  public var trainAccuracy: Double
  public var seconds: Double
}

/// Why training stopped early.
public struct TrainingError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Shifts a 28x28 digit by (dy, dx) pixels, filling with 0.
func shifted(_ image: ArraySlice<Float>, dy: Int, dx: Int) -> [Float] {
  var out = [Float](repeating: 0, count: 784)
  let base = image.startIndex
  for y in 0..<28 {
    let sy = y - dy
    if sy < 0 || sy >= 28 { continue }
    for x in 0..<28 {
      let sx = x - dx
      if sx >= 0 && sx < 28 { out[y * 28 + x] = image[base + sy * 28 + sx] }
    }
  }
  return out
}

/// Trains `model` on `data` with Adam and cross-entropy; calls `progress` after each epoch
/// (and `batchProgress(done, total)` within it). Stops with an error if the loss becomes NaN.
public func trainClassifier(
  _ model: Module, on data: MNIST, config: ClassifierTrainingConfig,
  batchProgress: (Int, Int) -> Void = { _, _ in }, progress: (EpochReport) throws -> Void = { _ in }
) throws {
  var rng = RandomGenerator(seed: config.seed)
  let opt = Adam(model.parameters(), lr: config.learningRate)
  model.train()
  let batches = (data.count + config.batchSize - 1) / config.batchSize
  let schedule = config.schedule ?? .cosine(tMax: config.epochs, etaMin: 0)
  for epoch in 0..<config.epochs {
    opt.learningRate = schedule.rate(base: config.learningRate, epoch: epoch)
    let start = Date()
    let order = rng.permutation(data.count)
    var lossSum = 0.0
    var correct = 0
    for b in 0..<batches {
      let idx = Array(order[(b * config.batchSize)..<min(data.count, (b + 1) * config.batchSize)])
      var pixels = [Float]()
      pixels.reserveCapacity(idx.count * 784)
      for i in idx {
        let img = data.pixels[(i * 784)..<((i + 1) * 784)]
        if config.maxShift > 0 {
          let span = UInt64(2 * config.maxShift + 1)
          pixels += shifted(
            img, dy: Int(rng.next() % span) - config.maxShift, dx: Int(rng.next() % span) - config.maxShift)
        } else {
          pixels += img
        }
      }
      let x = Tensor(shape: [idx.count, 1, 28, 28], scalars: pixels)
      let y = IntTensor(idx.map { data.labels[$0] })
      opt.zeroGrad()
      let logits = model(x)
      let loss = crossEntropy(logits, y)
      guard loss.item.isFinite else {
        throw TrainingError(
          message:
            "loss became \(loss.item) in epoch \(epoch + 1), batch \(b + 1); stopped (the last saved checkpoint is kept)"
        )
      }
      loss.backward()
      opt.step()
      lossSum += Double(loss.item) * Double(idx.count)
      let pred = logits.argmax(dim: 1).values
      correct += zip(pred, y.values).filter { $0 == $1 }.count
      batchProgress(b + 1, batches)
    }
    try progress(
      EpochReport(
        epoch: epoch + 1, loss: lossSum / Double(data.count), trainAccuracy: Double(correct) / Double(data.count),
        seconds: Date().timeIntervalSince(start)))
  }
  model.eval()
}

/// Fraction of digits the model classifies correctly (evaluation mode, no gradients).
public func accuracy(of model: Module, on data: MNIST, batchSize: Int = 250) -> Double {
  model.eval()
  var correct = 0
  withNoGrad {
    var i = 0
    while i < data.count {
      let idx = Array(i..<min(data.count, i + batchSize))
      let b = data.batch(idx)
      let pred = model(b.images).argmax(dim: 1).values
      correct += zip(pred, b.labels.values).filter { $0 == $1 }.count
      i += batchSize
    }
  }
  return Double(correct) / Double(max(1, data.count))
}
