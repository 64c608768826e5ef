import Datasets
import Engine
import Foundation
import ImageIO
import ModelInterface

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

  /// The defaults with the settings a command line gives.
  public init(epochs: Int, batchSize: Int, learningRate: Double, seed: UInt64) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.seed = seed
  }
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

/// Digits as a model's input [N, C, H, W]: each 28 x 28 digit (in [0, 1]) resized bilinearly
/// (`resampleBilinear`) to the
/// input's height x width when they differ, repeated in every channel, then normalised per channel.
/// With `side`, the planes are side x side instead of 28 x 28.
public func digitBatch(_ digits: [[Float]], input g: InputGeometry, side: Int = MNIST.side) -> Tensor<Float> {
  let plane = g.height * g.width
  var v = [Float]()
  v.reserveCapacity(digits.count * g.channels * plane)
  for d in digits {
    let resized = resampleBilinear(d, channels: 1, height: side, width: side, toHeight: g.height, toWidth: g.width)
    for c in 0..<g.channels {
      if g.normalization.isIdentity {
        v += resized
      } else {
        let (mean, std) = g.normalization.stats(channel: c)
        v += resized.map { ($0 - mean) / std }
      }
    }
  }
  return Tensor(shape: [digits.count, g.channels, g.height, g.width], scalars: v)
}

/// MNIST's own input: one channel, 28 x 28, values in [0, 1].
public let mnistInput = InputGeometry(channels: 1, height: MNIST.side, width: MNIST.side, normalization: .none)

/// Trains `model` (any classifier with at least 10 outputs, e.g. a registry network) on `data` with
/// Adam and cross-entropy, digits presented at `input` (see `digitBatch`); calls `progress` after each
/// epoch (and `batchProgress(done, total)` within it). With `replica` (a builder of the same
/// architecture) each batch is data parallel (`DataParallel`, slices of at least 8 digits); without,
/// it runs as one batch. With `present`, each training digit is drawn onto the input's canvas by
/// `present(digit, rng)` (one input-size plane in [0, 1]) instead of being shifted and resized.
/// Stops with an error if the loss becomes NaN or infinite.
public func trainClassifier(
  _ model: Module, replica: (() -> Module)? = nil, on data: MNIST, input: InputGeometry = mnistInput,
  config: ClassifierTrainingConfig, present: ((ArraySlice<Float>, inout RandomGenerator) -> [Float])? = nil,
  batchProgress: (Int, Int) -> Void = { _, _ in },
  progress: (EpochReport) throws -> Void = { _ in }
) throws {
  var rng = RandomGenerator(seed: config.seed)
  let opt = Adam(model.parameters(), lr: config.learningRate)
  let parallel = replica.map { DataParallel(model: model, replica: $0) }
  model.train()
  let side = MNIST.side
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
      var digits: [[Float]] = []
      digits.reserveCapacity(idx.count)
      for i in idx {
        let img = data.pixels[(i * side * side)..<((i + 1) * side * side)]
        if let present {
          digits.append(present(img, &rng))
        } else if config.maxShift > 0 {
          let span = UInt64(2 * config.maxShift + 1)
          digits.append(
            shifted(img, dy: Int(rng.next() % span) - config.maxShift, dx: Int(rng.next() % span) - config.maxShift))
        } else {
          digits.append(Array(img))
        }
      }
      let x = digitBatch(digits, input: input, side: present == nil ? side : input.height)
      let y = IntTensor(idx.map { data.labels[$0] })
      let value: Double
      var predictions: [Int] = []
      if let parallel {
        let n = idx.count
        let (loss, slicePredictions) = parallel.lossAndGradients(batchSize: n, empty: [Int]()) { _, net, range in
          let logits = net(x.rows(range))
          return (
            crossEntropy(logits, IntTensor(Array(y.values[range])), reduction: .sum) / Float(n),
            logits.argmax(dim: 1).values
          )
        }
        value = loss
        predictions = slicePredictions.flatMap { $0 }
      } else {
        opt.zeroGrad()
        let logits = model(x)
        let loss = crossEntropy(logits, y)
        value = Double(loss.item)
        if value.isFinite { loss.backward() }
        predictions = logits.argmax(dim: 1).values
      }
      guard value.isFinite else {
        throw TrainingError(
          message:
            "loss became \(value) in epoch \(epoch + 1), batch \(b + 1); stopped (the last saved checkpoint is kept)"
        )
      }
      opt.step()
      lossSum += value * Double(idx.count)
      correct += zip(predictions, y.values).filter { $0 == $1 }.count
      batchProgress(b + 1, batches)
    }
    try progress(
      EpochReport(
        epoch: epoch + 1, loss: lossSum / Double(data.count), trainAccuracy: Double(correct) / Double(data.count),
        seconds: Date().timeIntervalSince(start)))
  }
  model.eval()
}

/// Fraction of digits the model classifies correctly, digits presented at `input` (evaluation mode,
/// no gradients).
public func accuracy(of model: Module, on data: MNIST, input: InputGeometry = mnistInput, batchSize: Int = 250)
  -> Double
{
  model.eval()
  let side = MNIST.side
  var correct = 0
  withNoGrad {
    var i = 0
    while i < data.count {
      let idx = Array(i..<min(data.count, i + batchSize))
      let x = digitBatch(idx.map { Array(data.pixels[($0 * side * side)..<(($0 + 1) * side * side)]) }, input: input)
      let pred = model(x).argmax(dim: 1).values
      correct += zip(pred, idx.map { data.labels[$0] }).filter { $0 == $1 }.count
      i += batchSize
    }
  }
  return Double(correct) / Double(max(1, data.count))
}
