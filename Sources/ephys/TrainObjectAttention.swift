import ArgumentParser
import Datasets
import Engine
import Foundation
import Models

/// `ephys train object-attention`: trains the recurrent gating model (MNIST or COCO variant).
struct TrainObjectAttention: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "object-attention",
    abstract: "Train the object-based attention network (glimpses with IOR, BPTT, one Adam step per glimpse).",
    discussion: """
      MNIST: two-digit composites built from the 5,000-digit subset (or --data CSV / --idx-images and
      --idx-labels for the full set), split by source digit 70/10/20 so no test digit is seen in training.
      COCO: --coco-images DIR --coco-annotations instances.json (12 supercategories, class-weighted loss).
      A checkpoint (with the configuration in its metadata and the optimiser state for --resume, in one file) is
      written atomically after every epoch. Training stops on a non-finite loss and keeps the last checkpoint.
      """)

  @Option(help: "mnist or coco.") var variant: ObjectAttentionConfig.Variant = .mnist
  @Option(help: "Epochs.") var epochs = 10
  @Option(help: "Minibatch size (paper: 64 MNIST, 32 COCO).") var batch: Int?
  @Option(help: "Adam learning rate (paper: 1e-3 MNIST, 1e-4 COCO).") var lr: Double?
  @Option(help: "Weight phi of the reconstruction loss (paper: 1000 MNIST, 5000 COCO).") var phi: Float?
  @Option(help: "Gating strength s (paper: 0.2 MNIST, 0.3 COCO).") var strength: Float?
  @Option(help: "Passes T per glimpse.") var passes = 5
  @Option(help: "Learning-rate schedule: constant (the paper's) or cosine (annealed to 0 over the epochs).")
  var schedule: ScheduleKind = .constant
  @Option(help: "Seed for initialisation and data order.") var seed: UInt64 = 1
  @OptionGroup var data: ObjectAttentionDataOptions
  @Option(help: "Checkpoint to write (safetensors).") var out: String?
  @Flag(help: "Continue from --out and its optimiser state.") var resume = false

  func validate() throws {
    guard epochs > 0 else { throw ValidationError("--epochs must be positive") }
    if let batch, batch <= 0 { throw ValidationError("--batch must be positive") }
    if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
    if let strength, !(0...1).contains(strength) { throw ValidationError("--strength must be in [0, 1]") }
    guard passes >= 2 else { throw ValidationError("--passes must be at least 2 (IOR is taken after pass T-1)") }
    try data.validate(for: variant)
    if let out { try validateCheckpointPath(out) }
  }

  func run() throws {
    var config = ObjectAttentionConfig.preset(variant)
    config.passes = passes
    if let strength { config.strength = strength }
    let output = out ?? "Reports/object-attention-\(variant.rawValue).safetensors"
    var settings = ObjectAttentionTrainingConfig()
    settings.learningRate = lr ?? (variant == .mnist ? 1e-3 : 1e-4)
    settings.phi = phi ?? (variant == .mnist ? 1000 : 5000)
    let batchSize = batch ?? (variant == .mnist ? 64 : 32)

    let task = try data.task(config: config, batchSize: batchSize)
    settings.classWeights = task.classWeights
    say(task.summary)

    let net = ObjectAttentionNet(config, seed: seed)
    let trainer = ObjectAttentionTrainer(net: net, config: settings)
    var firstEpoch = 0
    if resume {
      let archive = try Safetensors.read(output)
      guard let state = TrainingCheckpoint.optimizerState(archive) else {
        throw ValidationError("\(output) holds no optimiser state (it was not written by this trainer); train anew")
      }
      let saved = try ObjectAttentionNet.load(from: output, defaults: config)
      try net.loadStateDict(saved.stateDict())
      do { try trainer.optimizer.loadState(state) } catch let e as CheckpointError { throw e.inFile(output) }
      firstEpoch = Int(archive.metadata["epoch"] ?? "0") ?? 0
      say("resuming after epoch \(firstEpoch) from \(output)")
    }
    let rates: LearningRateSchedule = schedule == .cosine ? .cosine(tMax: epochs, etaMin: 0) : .constant
    for epoch in firstEpoch..<epochs {
      trainer.optimizer.learningRate = rates.rate(base: settings.learningRate, epoch: epoch)
      let source = task.trainingBatches(epoch, batchSize, seed)
      let count = source.count
      var bar = ProgressBar(total: count, label: "epoch \(epoch + 1)/\(epochs)", unit: "img")
      var loss = 0.0
      var correct = 0
      var total = 0
      var images = 0
      let start = Date()
      for b in 0..<count {
        let batch = try source.make(b)
        let stats: TrainStepStats
        do { stats = try trainer.step(batch) } catch {
          throw ValidationError("\(error); the last good checkpoint (\(output)) is kept")
        }
        loss += stats.loss
        correct += stats.correct
        total += stats.total
        images += batch.count
        bar.update(
          b + 1, items: images,
          status: String(format: "loss %.4f  acc %.3f", loss / Double(b + 1), Double(correct) / Double(total)))
      }
      let val = try task.evaluate(net, task.validation)
      say(
        String(
          format: "epoch %d: loss %.4f  train acc %.4f  val acc %.4f  (%.0f s, %.0f img/s)", epoch + 1,
          loss / Double(count),
          Double(correct) / Double(max(1, total)), val, Date().timeIntervalSince(start),
          Double(images) / Date().timeIntervalSince(start)))
      let state = trainer.optimizer.stateArchive()
      try checkFinite(state)
      try net.saveCheckpoint(
        to: output,
        extra: [
          "epoch": "\(epoch + 1)", "seed": "\(seed)", "lr": "\(settings.learningRate)", "phi": "\(settings.phi)",
          "batch": "\(batchSize)", "schedule": schedule.rawValue, "epochs": "\(epochs)",
          "val_accuracy": String(format: "%.4f", val),
        ], optimizer: state)
    }
    say("checkpoint: \(output)")
  }
}

/// Where object-attention data come from (shared by train and evaluate).
struct ObjectAttentionDataOptions: ParsableArguments {
  @Option(help: "MNIST CSV (default data/mnist_5k.csv.gz).") var data: String?
  @Option(help: "Full MNIST IDX images file (with --idx-labels).") var idxImages: String?
  @Option(help: "Full MNIST IDX labels file.") var idxLabels: String?
  @Option(help: "COCO image folder.") var cocoImages: String?
  @Option(help: "COCO instances JSON.") var cocoAnnotations: String?

  /// Checks that the options fit `variant`.
  func validate(for variant: ObjectAttentionConfig.Variant) throws {
    if variant == .coco && (cocoImages == nil || cocoAnnotations == nil) {
      throw ValidationError("the COCO variant needs --coco-images and --coco-annotations")
    }
    if (idxImages == nil) != (idxLabels == nil) { throw ValidationError("--idx-images and --idx-labels go together") }
  }

  /// The data of `config`'s variant.
  func task(config: ObjectAttentionConfig, batchSize: Int) throws -> ObjectAttentionTask {
    try validate(for: config.variant)
    switch config.variant {
    case .mnist:
      let idx = idxImages.flatMap { images in idxLabels.map { (images, $0) } }
      return try .mnist(config: config, csv: data, idx: idx)
    case .coco:
      guard let cocoImages, let cocoAnnotations else {
        throw ValidationError("the COCO variant needs --coco-images and --coco-annotations")
      }
      return try .coco(config: config, images: cocoImages, annotations: cocoAnnotations, batchSize: batchSize)
    }
  }
}

extension ObjectAttentionConfig.Variant: ExpressibleByArgument {}

/// Learning-rate schedules selectable on the command line.
enum ScheduleKind: String, ExpressibleByArgument, CaseIterable {
  case constant, cosine
}

/// Refuses to save optimiser state with a non-finite moment.
func checkFinite(_ state: TensorArchive) throws {
  for t in state.tensors where t.dtype == .f32 {
    guard try t.floats().allSatisfy(\.isFinite) else {
      throw ValidationError("optimizer state became non-finite; not saving")
    }
  }
}

/// Refuses a checkpoint path that is a folder (or lies in a file) before any training starts.
func validateCheckpointPath(_ path: String) throws {
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
    throw ValidationError(
      "--out \(path) is a folder; give the checkpoint file to write, e.g. \(path)/model.safetensors")
  }
  let parent = (path as NSString).deletingLastPathComponent
  if !parent.isEmpty, FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), !isDirectory.boolValue
  {
    throw ValidationError("--out \(path): \(parent) is a file, not a folder")
  }
}
