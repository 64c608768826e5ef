import ArgumentParser
import Datasets
import Engine
import Foundation
import ModelInterface
import Models

/// The digit input of a registry model: its channels and normalisation at `size` (default: its own).
func digitInput(_ entry: ModelEntry, size: Int?) throws -> InputGeometry {
  let side = size ?? entry.height
  guard size == nil || entry.variableSize || (side == entry.height && side == entry.width) else {
    throw ValidationError("\(entry.name) takes \(entry.height)x\(entry.width) inputs only")
  }
  guard side >= entry.minimumSide, side <= 1024 else {
    throw ValidationError("--size must be within \(entry.minimumSide)...1024 for \(entry.name)")
  }
  return InputGeometry(
    channels: entry.channels, height: side, width: size == nil ? entry.width : side,
    normalization: entry.normalization)
}

/// The registry entry called `name` (an imported network's: read from `weights`, normalised by
/// `normalization`, the text of --normalization), or a validation error listing them.
func registryEntry(_ name: String, weights: String? = nil, normalization: String? = nil) throws -> ModelEntry {
  guard let entry = try ModelRegistry.entry(name, file: weights, normalization: normalizationOption(normalization))
  else {
    throw ValidationError("unknown --model '\(name)'; models: \(ModelRegistry.allNames.joined(separator: ", "))")
  }
  return entry
}

/// The normalisation --normalization names (nil when not given), or a validation error.
func normalizationOption(_ text: String?) throws -> InputNormalization? {
  guard let text else { return nil }
  guard let n = InputNormalization(named: text) else {
    throw ValidationError(
      "--normalization: imagenet, none, or MEAN,.../STD,... (finite means, positive deviations), not '\(text)'")
  }
  return n
}

/// `ephys train classifier --model NAME`: any registry network as a digit classifier.
struct TrainClassifier: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "classifier",
    abstract: "Train any registry network (vgg11, resnet18, ...) to classify MNIST digits, data parallel.",
    discussion: """
      Digits (the 5,000-digit subset, 20% held out by digit) are resized bilinearly to --size (default: the
      model's input), repeated in every channel and normalised as the model expects (ImageNet mean/std for the
      zoo); the network keeps its own output layer (labels 0-9 among its classes). Adam with cosine annealing,
      one network copy per worker; a checkpoint (safetensors, PyTorch keys) is written atomically after every
      epoch, and training stops on a non-finite loss keeping the last good one.
      """)

  @Option(help: "A model of `ephys models`.") var model: String
  @Option(help: "Input side in pixels (models that take any size).") var size: Int?
  @Option(help: "Training epochs.") var epochs = 2
  @Option(help: "Minibatch size.") var batch = 32
  @Option(help: "Adam learning rate (cosine-annealed to 0).") var lr = 1e-3
  @Option(help: "Seed for data order, augmentation and the split.") var seed: UInt64 = 1
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Checkpoint to write (safetensors).") var out: String

  func validate() throws {
    guard epochs > 0, batch > 0 else { throw ValidationError("--epochs and --batch must be positive") }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    try validateCheckpointPath(out)
  }

  func run() throws {
    let entry = try registryEntry(model)
    let input = try digitInput(entry, size: size)
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let (train, test) = all.split(testFraction: 0.2, seed: 7)
    say(
      "\(entry.name) at \(input.channels)x\(input.height)x\(input.width): \(train.count) training, \(test.count) held-out digits"
    )
    let net = entry.make()
    let config = ClassifierTrainingConfig(epochs: epochs, batchSize: batch, learningRate: lr, seed: seed)
    var bar = ProgressBar(total: epochs * ((train.count + batch - 1) / batch), label: "train", unit: "img")
    var done = 0
    try trainClassifier(
      net, replica: { entry.make() }, on: train, input: input, config: config,
      batchProgress: { _, _ in
        done += 1
        bar.update(done, items: min(done * batch, epochs * train.count))
      },
      progress: { r in
        let acc = accuracy(of: net, on: test, input: input)
        net.train()
        say(
          String(
            format: "epoch %d/%d  loss %.4f  train acc %.4f  test acc %.4f  (%.1f s)", r.epoch, epochs, r.loss,
            r.trainAccuracy, acc, r.seconds))
        try net.save(
          to: out,
          metadata: ["ephys.model": entry.name, "epoch": "\(r.epoch)", "seed": "\(seed)", "size": "\(input.height)"])
      })
    say(String(format: "test accuracy %.4f; checkpoint %@", accuracy(of: net, on: test, input: input), out))
  }
}

/// `ephys evaluate classifier --model NAME --weights FILE`: digit accuracy of any registry network.
struct EvaluateClassifier: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "classifier",
    abstract: "Held-out MNIST accuracy of a registry network trained on digits (see `ephys train classifier`).")

  @Option(help: "A model of `ephys models`.") var model: String
  @Option(help: "Weights: safetensors, PyTorch .pt/.pth state_dict or .npz.") var weights: String
  @Option(help: "Input side in pixels (default: the model's, or the checkpoint's training size).") var size: Int?
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?

  func run() throws {
    let entry = try registryEntry(model)
    let stored = try readTensorFile(weights).metadata["size"].flatMap { Int($0) }
    let input = try digitInput(entry, size: size ?? stored)
    let net = try entry.network(weights: weights)
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let test = all.split(testFraction: 0.2, seed: 7).test
    say(
      String(
        format: "%@ at %dx%d: accuracy %.4f on %d held-out digits", entry.name, input.height, input.width,
        accuracy(of: net, on: test, input: input), test.count))
  }
}
