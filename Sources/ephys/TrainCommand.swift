import ArgumentParser
import Datasets
import Engine
import Foundation
import Models

/// `ephys train ...`: trains a model and writes an atomic checkpoint after every epoch.
struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model.",
    subcommands: [
      TrainSmokeCNN.self, TrainObjectAttention.self, TrainClassifier.self, TrainFeatureGainCNN.self,
      TrainMultiDigitCNN.self, TrainSaliencyMultiset.self,
    ])
}

/// `ephys train smoke-cnn`: the engine's end-to-end check on the MNIST subset.
struct TrainSmokeCNN: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "smoke-cnn",
    abstract:
      "Train the small digit CNN on the 5,000-digit MNIST subset (held-out 20% by digit) and report test accuracy.")

  @Option(help: "Training epochs.") var epochs = 12
  @Option(help: "Minibatch size.") var batch = 32
  @Option(help: "Adam learning rate (cosine-annealed to 0).") var lr = 1e-3
  @Option(help: "Seed for initialisation, data order, augmentation and the split.") var seed: UInt64 = 1
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Checkpoint to write (safetensors).") var out = "Reports/smoke-cnn.safetensors"

  func validate() throws {
    guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    guard batch > 0 else { throw ValidationError("--batch must be positive") }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    try validateCheckpointPath(out)
  }

  func run() throws {
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let (train, test) = all.split(testFraction: 0.2, seed: 7)
    say("MNIST: \(train.count) training and \(test.count) held-out test digits (disjoint)")
    let model = SmallCNN(seed: seed)
    let config = ClassifierTrainingConfig(epochs: epochs, batchSize: batch, learningRate: lr, seed: seed)
    var bar = ProgressBar(total: epochs * ((train.count + batch - 1) / batch), label: "train", unit: "img")
    var done = 0
    try trainClassifier(
      model, on: train, config: config,
      batchProgress: { _, _ in
        done += 1
        bar.update(done, items: min(done * batch, epochs * train.count))
      },
      progress: { r in
        let testAcc = accuracy(of: model, on: test)
        model.train()
        say(
          String(
            format: "epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  (%.1f s)", r.epoch, epochs, r.loss,
            r.trainAccuracy, testAcc, r.seconds))
        try model.save(to: out, metadata: ["ephys.model": "smoke-cnn", "epoch": "\(r.epoch)", "seed": "\(seed)"])
      })
    let acc = accuracy(of: model, on: test)
    say(String(format: "test accuracy %.4f on %d held-out digits; checkpoint %@", acc, test.count, out))
  }
}
