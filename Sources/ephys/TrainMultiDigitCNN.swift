import ArgumentParser
import Datasets
import Engine
import Foundation
import Models

/// `ephys train multi-digit-cnn`: the Pointing Game study's multi-label CNN.
struct TrainMultiDigitCNN: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "multi-digit-cnn",
    abstract: "Train the multi-label digit CNN of the Pointing Game study on generated multi-digit canvases.",
    discussion: """
      Canvases after wellecks/mnist_multi at 64 x 64: 1-4 digits with distinct labels, 14-28 px squares in
      distinct cells of a grid whose cell is the largest digit, 3-5 clutter crops of 5 px, drawn anew every
      epoch from the 80% training split of the MNIST subset (the held-out 20% make the Pointing Game's canvases).
      Binary cross-entropy on 10 logits (which digits are present), Adam cosine-annealed, data parallel; a
      checkpoint after every epoch (stops on a non-finite loss keeping the last good one).
      """)

  @Option(help: "Training epochs.") var epochs = 10
  @Option(help: "Canvases per epoch (new ones every epoch).") var canvases = 16_000
  @Option(help: "Minibatch size.") var batch = 64
  @Option(help: "Adam learning rate (cosine-annealed to 0).") var lr = 5e-3
  @Option(help: "Seed for initialisation and canvases.") var seed: UInt64 = 1
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Checkpoint to write (safetensors).") var out = "Checkpoints/multi-digit-cnn.safetensors"

  func validate() throws {
    guard epochs > 0, batch > 0, canvases > 0 else {
      throw ValidationError("--epochs, --canvases and --batch must be positive")
    }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    try validateCheckpointPath(out)
  }

  func run() throws {
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let (train, _) = all.split(testFraction: 0.2, seed: 7)
    var config = MultiDigitTrainingConfig()
    config.epochs = epochs
    config.canvasesPerEpoch = canvases
    config.batchSize = batch
    config.learningRate = lr
    config.seed = seed
    say("multi-digit canvases from \(train.count) training digits, \(canvases) per epoch, 64 x 64")
    let perEpoch = (canvases + batch - 1) / batch
    var bar = ProgressBar(total: epochs * perEpoch, label: "train", unit: "canvases")
    var done = 0
    let model = MultiDigitCNN(seed: seed)
    try model.trainMultiLabel(
      on: train, config: config,
      batchProgress: { _, _ in
        done += 1
        bar.update(done, items: min(done * batch, epochs * canvases))
      },
      progress: { r in
        say(
          String(
            format: "epoch %d/%d  loss %.4f  exact set %.4f  (%.1f s)", r.epoch, epochs, r.loss, r.exactMatch,
            r.seconds))
        try model.save(
          to: out, metadata: ["ephys.model": "multi-digit-cnn", "epoch": "\(r.epoch)", "seed": "\(seed)"])
        model.train()
      })
    model.eval()
    say("checkpoint: \(out)")
  }
}
