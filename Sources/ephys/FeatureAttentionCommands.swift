import ArgumentParser
import Datasets
import Engine
import Foundation
import ModelInterface
import Models
import Workbench

/// `ephys train feature-gain-cnn`: the feature-attention study's CNN and its category detectors.
struct TrainFeatureGainCNN: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "feature-gain-cnn",
    abstract: "Train the VGG-style digit CNN of the feature-attention study, then its 10 binary detectors on fc7.",
    discussion: """
      The backbone learns 10-way digit classification on 56 x 56 canvases (a digit enlarged to fill the canvas
      or at its own size in a quadrant, shifted, contrast 0.5-1) from the 80% training split of the MNIST subset
      (the 20% held out by digit are never seen); Adam with cosine annealing, data parallel, a checkpoint after
      every epoch (stops on a non-finite loss keeping the last good one). Then the backbone is frozen and one
      logistic detector per digit is trained on its fc7 (classifier.4) output, written to --detectors-out.
      """)

  @Option(help: "Training epochs.") var epochs = 30
  @Option(help: "Minibatch size.") var batch = 64
  @Option(help: "Adam learning rate (cosine-annealed to 0).") var lr = 1e-3
  @Option(help: "Seed for initialisation, data order, augmentation and the detectors.") var seed: UInt64 = 1
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Backbone checkpoint to write (safetensors).") var out = "Checkpoints/feature-gain-cnn.safetensors"
  @Option(help: "Detectors to write (safetensors).")
  var detectorsOut = "Checkpoints/feature-gain-cnn-detectors.safetensors"

  func validate() throws {
    guard epochs > 0, batch > 0 else { throw ValidationError("--epochs and --batch must be positive") }
    guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number") }
    try validateCheckpointPath(out)
    try validateCheckpointPath(detectorsOut)
  }

  func run() throws {
    let all = try data.map { try MNIST.loadCSV($0) } ?? MNIST.defaultSubset()
    let (train, test) = all.split(testFraction: 0.2, seed: 7)
    say("MNIST: \(train.count) training and \(test.count) held-out digits, on 56 x 56 canvases")
    let config = ClassifierTrainingConfig(epochs: epochs, batchSize: batch, learningRate: lr, seed: seed)
    let input = FeatureGainCNN.registryEntry.input
    let wholeTest = DigitCanvas.categories(test)
    var bar = ProgressBar(total: epochs * ((train.count + batch - 1) / batch), label: "train", unit: "img")
    var done = 0
    let model = FeatureGainCNN(seed: seed)
    try model.trainBackbone(
      on: train, config: config,
      batchProgress: { _, _ in
        done += 1
        bar.update(done, items: min(done * batch, epochs * train.count))
      },
      progress: { r in
        say(
          String(
            format: "epoch %d/%d  loss %.4f  train acc %.4f  (%.1f s)", r.epoch, epochs, r.loss, r.trainAccuracy,
            r.seconds))
        try model.save(
          to: out, metadata: ["ephys.model": "feature-gain-cnn", "epoch": "\(r.epoch)", "seed": "\(seed)"])
        model.train()
      })
    model.eval()
    let whole = wholeTest.images.enumerated().flatMap { c, list in list.map { ($0, c) } }
    var correct = 0
    withNoGrad {
      for start in stride(from: 0, to: whole.count, by: 100) {
        let part = Array(whole[start..<min(whole.count, start + 100)])
        let pred = model(digitBatch(part.map(\.0), input: input, side: input.height)).argmax(dim: 1).values
        correct += zip(pred, part.map(\.1)).filter { $0 == $1 }.count
      }
    }
    say(
      String(
        format: "backbone: accuracy %.4f on %d held-out whole-canvas digits", Double(correct) / Double(whole.count),
        whole.count))
    let net = try AttentionNetwork(
      model, input: input, layers: ["features.1"], detectorLayer: "classifier.4")
    var dbar = ProgressBar(total: 10, label: "detector features", unit: "categories")
    let detectors = trainStudyDetectors(
      net, images: DigitCanvas.categories(train), limit: 200, seed: seed,
      progress: { d, _ in dbar.update(d, items: d) })
    try detectors.write(to: detectorsOut, layer: "classifier.4", names: (0..<10).map(String.init))
    say("detectors (10 x \(detectors.features) on classifier.4): \(detectorsOut)")
  }
}

/// `ephys feature-attention`: the feature-similarity gain study of Lindsay & Miller (2018).
struct FeatureAttention: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "feature-attention",
    abstract: "Feature-based attention as per-map gains from tuning or gradient values: detection vs beta per layer.",
    discussion: """
      Runs the whole study (docs/feature-attention.md): binary detectors per category on fc7, tuning and
      gradient values of every conv layer's feature maps, merged and 2x2-array test images (--positives
      positives and as many negatives per category, held-out images), the beta sweep at each layer and at all
      layers (beta / 10), performance change (max over beta, and cross-validated) with SEM, criterion and d',
      and the gain-model slope test; writes tables, summary.json and report.pdf to --out. Defaults: the shipped
      CNN and detectors on MNIST digits. For torchvision's VGG16 with ImageNet weights:
        ephys feature-attention --model vgg16 --weights vgg16.pth --detectors none --images DIR
      where DIR holds one subfolder of images per category (detectors are then trained and saved). Any
      other network works with its layers named, e.g. one exported from PyTorch to ONNX:
        ephys feature-attention --model onnx --weights vgg16.onnx --detectors none --images DIR \\
          --layers features.1,features.3 --detector-layer classifier.4
      """)

  @Option(help: "A model of `ephys models`, or onnx (then --weights is the .onnx file).") var model = "feature-gain-cnn"
  @Option(help: "Weights: safetensors, .pt/.pth state_dict or .npz (or random); the file for --model onnx.")
  var weights = "Checkpoints/feature-gain-cnn.safetensors"
  @Option(help: "Detectors (safetensors), or 'none' to train them on the fit images.")
  var detectors = "Checkpoints/feature-gain-cnn-detectors.safetensors"
  @Option(help: "Image folder, one subfolder per category (default: MNIST digits).") var images: String?
  @Option(help: "MNIST CSV file (default: data/mnist_5k.csv.gz, or $EPHYS_DATA).") var data: String?
  @Option(help: "Input side for models that take any size.") var size: Int?
  @Option(help: "Attention layers, comma-separated (default: every conv layer, post-ReLU).") var layers: String?
  @Option(help: "Layer the detectors read.") var detectorLayer = "classifier.4"
  @Option(help: "Attention strengths, comma-separated; must include 0.") var betas = "0,0.25,0.5,1,2,4,8"
  @Option(help: "Positive test images per category (as many negatives).") var positives = 75
  @Option(help: "Images per category for values and detectors.") var fitImages = 200
  @Flag(help: "Additive feature gains, max(0, h + beta v_k b_l) with b_l the layer's mean response.")
  var additive = false
  @Flag(help: "Positive-only feature gains (negative values set to 0).") var positiveOnly = false
  @Option(help: "Beta of the gain-model test.") var gainBeta = 0.5
  @Option(help: "Images per category in the gain-model test.") var gainImages = 50
  @Option(help: "Seed for test images and detector training.") var seed: UInt64 = 1
  @Option(help: "Output folder.") var out = "Reports/feature-attention"
  @Option(
    help:
      "Input normalisation of an imported network (--model onnx): imagenet, none or MEAN,.../STD,... (default: imagenet for 3 channels, else none)."
  )
  var normalization: String?

  func run() throws {
    var c = FeatureStudyConfig()
    c.model = model
    c.weights = weights
    c.detectors = detectors == "none" ? nil : detectors
    c.images = images
    c.normalization = try normalizationOption(normalization)
    c.data = data
    c.size = size
    c.layers = layers.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
    c.detectorLayer = detectorLayer
    let parsed = betas.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard parsed.allSatisfy({ $0 != nil }) else { throw ValidationError("--betas: a comma-separated list of numbers") }
    c.betas = parsed.map { $0! }
    c.positives = positives
    c.fitImages = fitImages
    c.form = FeatureGainForm(additive: additive, positiveOnly: positiveOnly)
    c.gainTestBeta = gainBeta
    c.gainTestImages = gainImages
    c.seed = seed
    c.out = out
    if let problem = OutputFolder.problem(out) { throw ValidationError(problem) }
    let start = Date()
    var bar: ProgressBar? = nil
    let result = try runFeatureStudy(
      c,
      stage: { name in
        bar = nil
        say(name)
      },
      progress: { done, total in
        if bar == nil || bar!.total != max(1, total) { bar = ProgressBar(total: total, label: "  ", unit: "steps") }
        bar!.update(done, items: done)
      })
    let files = try writeFeatureStudy(result, to: out, notice: say)
    for s in result.summaries where s.site == "all" || s.site == result.layers.first {
      say(
        String(
          format: "%@ %@ %@: change %.1f ± %.1f pp (cross-validated %+.1f ± %.1f)", s.kind.rawValue,
          s.values.rawValue, s.site, s.change.mean, s.change.sem, s.crossValidatedChange.mean,
          s.crossValidatedChange.sem))
    }
    say(
      "timings (s): "
        + result.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))" }
        .joined(separator: ", "))
    say(
      "wrote \(files.count) files to \(out) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s (report.pdf, performance_change.csv, ...)"
    )
  }
}
