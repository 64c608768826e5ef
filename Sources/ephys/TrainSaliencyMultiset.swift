import ArgumentParser
import Datasets
import Engine
import Foundation
import Models

extension MultisetTask: ExpressibleByArgument {}
extension MultisetLoss: ExpressibleByArgument {}

/// `ephys train saliency-multiset`: HSAL-RL's saliency-based sequential attention on MNIST Set or
/// Multiset canvases, by REINFORCE or the cross-entropy baseline.
struct TrainSaliencyMultiset: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "saliency-multiset",
    abstract:
      "Train HSAL-RL (saliency-based sequential attention, multiset prediction) on MNIST Set or Multiset canvases.",
    discussion: """
      Canvases after wellecks/mnist_multi at 64 x 64 (1-4 digits of 14-28 px, 3-5 clutter crops), drawn anew every
      epoch from the 80% training split of the MNIST subset; the held-out 20% make the test canvases of `ephys
      evaluate saliency-multiset`. Multiset: half of the canvases with 2+ digits repeat a label. First the
      activation CNN is pretrained on single-digit canvases (or taken from --activation-from), then frozen; then the
      meta-controller and controller train by REINFORCE (multiset class reward, priority-map location reward,
      value baseline, entropy bonus, supervised stop) or, with --loss cross-entropy, against randomly ordered
      labels. attn_saliency is printed per epoch and kept in the checkpoint's metadata. A checkpoint (weights,
      configuration and optimiser state in one file) is written atomically after every epoch; --resume continues
      it; a non-finite loss stops training and keeps the last good checkpoint.
      """)

  @Option(help: "set (distinct labels) or multiset (duplicates).") var task: MultisetTask = .set
  @Option(help: "reinforce (HSAL-RL) or cross-entropy (the paper's baseline).") var loss: MultisetLoss = .reinforce
  @Option(help: "Attention-training epochs.") var epochs = 100
  @Option(help: "Canvases per epoch (new ones every epoch).") var canvases = 8_000
  @Option(help: "Minibatch size.") var batch = 64
  @Option(help: "Adam learning rate (constant).") var lr = 1e-3
  @Option(help: "Entropy bonus of the REINFORCE surrogate.") var entropy: Float = 0.01
  @Flag(help: "Cross-entropy baseline: feed the target labels back (teacher forcing) instead of the sampled ones.")
  var teacherForcing = false
  @Option(help: "Discount of REINFORCE's returns (0: each action's own reward, as the paper writes the surrogate).")
  var discount: Float = 0.5
  @Option(help: "Activation-CNN pretraining epochs on single-digit canvases.") var pretrainEpochs = 10
  @Option(help: "Single-digit canvases per pretraining epoch.") var pretrainCanvases = 8_000
  @Option(help: "Take the pretrained activation CNN from this saliency-multiset checkpoint instead.")
  var activationFrom: String?
  @Option(help: "Seed for initialisation, canvases and sampled actions.") var seed: UInt64 = 1
  @Option(help: "Validation canvases (greedy, from the held-out digits) printed after each epoch; 0: none.")
  var validation = 500
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Checkpoint to write (safetensors).") var out: String?
  @Flag(help: "Continue from --out (weights, optimiser state, epoch).") var resume = false

  func validate() throws {
    guard epochs > 0, batch > 0, canvases > 0, pretrainEpochs >= 0, pretrainCanvases > 0, validation >= 0 else {
      throw ValidationError(
        "--epochs, --canvases and --batch must be positive; --pretrain-epochs and --validation >= 0")
    }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    guard entropy >= 0, entropy.isFinite else { throw ValidationError("--entropy must be >= 0") }
    guard (0...1).contains(discount) else { throw ValidationError("--discount must be in [0, 1]") }
    try validateCheckpointPath(output)
  }

  var output: String {
    out ?? "Reports/saliency-multiset-\(task.rawValue)\(loss == .crossEntropy ? "-ce" : "").safetensors"
  }

  func run() throws {
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let (train, heldOut) = all.split(testFraction: 0.2, seed: 7)
    var settings = SaliencyMultisetTrainingConfig()
    settings.task = task
    settings.loss = loss
    settings.epochs = epochs
    settings.canvasesPerEpoch = canvases
    settings.batchSize = batch
    settings.learningRate = lr
    settings.entropyBonus = entropy
    settings.discount = discount
    settings.teacherForcing = teacherForcing
    settings.pretrainEpochs = pretrainEpochs
    settings.pretrainCanvases = pretrainCanvases
    settings.seed = seed
    let net = SaliencyMultisetNet(SaliencyMultisetConfig(), seed: seed)
    let optimizer = Adam(net.attentionParameters(), lr: lr)
    var firstEpoch = 0
    var history: [String] = []
    if resume {
      let archive = try Safetensors.read(output)
      guard let state = TrainingCheckpoint.optimizerState(archive) else {
        throw ValidationError("\(output) holds no optimiser state (it was not written by this trainer); train anew")
      }
      guard archive.metadata["hsal.task"] == task.rawValue, archive.metadata["hsal.loss"] == loss.rawValue else {
        throw ValidationError(
          "\(output) was trained with --task \(archive.metadata["hsal.task"] ?? "?") --loss \(archive.metadata["hsal.loss"] ?? "?"); resume with those"
        )
      }
      try net.loadStateDict(try SaliencyMultisetNet.load(from: output).stateDict())
      do { try optimizer.loadState(state) } catch let e as CheckpointError { throw e.inFile(output) }
      firstEpoch = Int(archive.metadata["epoch"] ?? "0") ?? 0
      history = (archive.metadata["hsal.history"] ?? "").split(separator: "\n").map(String.init).filter {
        !$0.hasPrefix("epoch,")
      }
      say("resuming after epoch \(firstEpoch) from \(output)")
    } else if let activationFrom {
      let donor = try SaliencyMultisetNet.load(from: activationFrom)
      guard donor.config == net.config else {
        throw ValidationError("\(activationFrom) has another network configuration than this run's")
      }
      let weights = donor.stateDict().tensors.filter { $0.name.hasPrefix("activation.") }
      try net.activation.loadStateDict(
        TensorArchive(
          tensors: weights.map {
            var t = $0
            t.name = String(t.name.dropFirst("activation.".count))
            return t
          }, metadata: [:]))
      say("activation CNN from \(activationFrom)")
    } else {
      say("pretraining the activation CNN on single-digit 64 x 64 canvases from \(train.count) training digits")
      let perEpoch = (settings.pretrainCanvases + batch - 1) / batch
      var bar = ProgressBar(total: pretrainEpochs * perEpoch, label: "pretrain", unit: "canvases")
      var done = 0
      try net.pretrainActivation(
        on: train, config: settings,
        batchProgress: { _, _ in
          done += 1
          bar.update(done, items: done * batch)
        },
        progress: { epoch, l, acc in
          say(String(format: "pretrain epoch %d/%d  loss %.4f  digit accuracy %.4f", epoch, pretrainEpochs, l, acc))
        })
    }
    var validationCanvases: [MultiDigitCanvas] = []
    if validation > 0 {
      var rng = RandomGenerator(seed: 99)
      validationCanvases = try MultiDigitCanvas.generate(validation, from: heldOut, config: task.canvas(), rng: &rng)
    }
    say(
      "\(task.rawValue) canvases from \(train.count) training digits, \(canvases) per epoch; loss \(loss.rawValue)")
    let perEpoch = (canvases + batch - 1) / batch
    var bar = ProgressBar(total: (epochs - firstEpoch) * perEpoch, label: "train", unit: "canvases")
    var done = 0
    try net.trainAttention(
      on: train, config: settings, optimizer: optimizer, firstEpoch: firstEpoch,
      batchProgress: { _, _, s in
        done += 1
        bar.update(
          done, items: done * batch,
          status: String(
            format: "reward %.3f  exact %.3f", s.classRewardSum / Double(max(1, s.classSteps)),
            Double(s.exactMatches) / Double(max(1, s.examples))))
      },
      progress: { r in
        var line = String(
          format: "epoch %d/%d  loss %.4f  class reward %.3f  sampled exact %.3f  attn_saliency %.2f (normalised %.3f)",
          r.epoch, epochs, r.loss, r.meanClassReward, r.sampledExactMatch, r.attnSaliency, r.attnSaliencyNormalised)
        if !validationCanvases.isEmpty {
          let v = net.evaluate(validationCanvases, maxSteps: 6)
          line += String(format: "  validation exact %.3f F1 %.3f", v.metrics.exactMatch, v.metrics.macroF1)
        }
        line += String(format: "  (%.0f s)", r.seconds)
        say(line)
        history.append(
          String(
            format: "%d,%.6f,%.6f,%.6f,%.6f,%.6f", r.epoch, r.loss, r.meanClassReward, r.sampledExactMatch,
            r.attnSaliency, r.attnSaliencyNormalised))
        let state = optimizer.stateArchive()
        try checkFinite(state)
        try net.saveCheckpoint(
          to: output,
          extra: [
            "epoch": "\(r.epoch)", "epochs": "\(epochs)", "seed": "\(seed)", "lr": "\(lr)", "batch": "\(batch)",
            "canvases": "\(canvases)", "entropy": "\(entropy)", "discount": "\(discount)",
            "teacher_forcing": "\(teacherForcing)", "hsal.task": task.rawValue,
            "hsal.loss": loss.rawValue,
            "hsal.history":
              (["epoch,loss,class_reward,sampled_exact,attn_saliency,attn_saliency_normalised"] + history).joined(
                separator: "\n"),
          ], optimizer: state)
      })
    say("checkpoint: \(output)")
  }
}
