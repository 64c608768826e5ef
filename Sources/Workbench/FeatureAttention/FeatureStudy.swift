import Analysis
import Engine
import Foundation
import ModelInterface
import Models
import Stimuli

/// Settings of a feature-attention study (`ephys feature-attention`); the defaults run the shipped
/// CPU-scale CNN on MNIST digits.
public struct FeatureStudyConfig: Sendable {
  public var model = "feature-gain-cnn"
  public var weights = "Checkpoints/feature-gain-cnn.safetensors"
  /// Detectors (safetensors from `CategoryDetectors.write`); nil: train them on the fit images.
  public var detectors: String? = "Checkpoints/feature-gain-cnn-detectors.safetensors"
  /// An image folder (one subfolder per category); nil: MNIST digits.
  public var images: String? = nil
  /// MNIST CSV (nil: the shipped subset).
  public var data: String? = nil
  /// Input side for models that take any size (nil: the model's own).
  public var size: Int? = nil
  /// Attention layers (nil: every conv layer's post-ReLU output the registry lists).
  public var layers: [String]? = nil
  public var detectorLayer = "classifier.4"
  public var betas: [Double] = [0, 0.25, 0.5, 1, 2, 4, 8]
  /// Positive test images per category (as many negatives).
  public var positives = 75
  /// Fit images per category for tuning and gradient values, and for detector training.
  public var fitImages = 200
  /// Multiplicative or additive, bidirectional or positive-only feature gains in the detection sweep.
  public var form = FeatureGainForm()
  public var gainTestBeta = 0.5
  public var gainTestImages = 50
  public var seed: UInt64 = 1
  public var out = "Reports/feature-attention"
  /// The input normalisation of an imported network (nil: the importer's default).
  public var normalization: InputNormalization? = nil

  public init() {}
}

/// Everything a study measured.
public struct FeatureStudyResult: Sendable {
  public var config: FeatureStudyConfig
  public var layers: [String]
  public var layerDescriptions: [String]
  public var categories: [String]
  public var values: FeatureValues
  public var sweeps: [DetectionSweep]
  public var summaries: [DetectionSummary]
  public var gainTest: GainModelTest
  /// Detector accuracy (fraction correct, balanced) on held-out single whole images, per category.
  public var detectorAccuracy: [Double]
  public var detectorsTrained: Bool
  public var detectors: CategoryDetectors
  public var imageSource: String
  public var seconds: [String: Double]
}

/// Runs the study of Lindsay & Miller (2018) at the configured scale: detectors, tuning and gradient
/// values, the beta sweep per layer on merged and array images, and the gain-model test; `stage`
/// names each step, `progress(done, total)` counts within it.
public func runFeatureStudy(
  _ config: FeatureStudyConfig, stage: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }
) throws -> FeatureStudyResult {
  guard let entry = try ModelRegistry.entry(config.model, file: config.weights, normalization: config.normalization)
  else {
    throw FeatureStudyError(
      "unknown model '\(config.model)'; models: \(ModelRegistry.allNames.joined(separator: ", "))")
  }
  guard config.betas.contains(0), config.betas.allSatisfy({ $0 >= 0 && $0.isFinite }), config.betas.count >= 2 else {
    throw FeatureStudyError("betas must be finite, >= 0, include 0 (the baseline) and one more")
  }
  guard (1...10_000).contains(config.positives), (2...100_000).contains(config.fitImages),
    (1...10_000).contains(config.gainTestImages), config.gainTestBeta >= 0
  else { throw FeatureStudyError("positives, fit images and gain-test images must be positive counts") }
  let side = config.size ?? entry.height
  guard side == entry.height || entry.variableSize, side >= entry.minimumSide, side <= 1024, side % 2 == 0 else {
    throw FeatureStudyError(
      "\(entry.name) cannot take \(side)x\(side) inputs (its own: \(entry.height); even sides from \(entry.minimumSide) when variable)"
    )
  }
  var clock = Date()
  var seconds: [String: Double] = [:]
  func lap(_ name: String) {
    seconds[name] = Date().timeIntervalSince(clock)
    clock = Date()
  }
  stage("loading \(entry.name) and images")
  let module = try entry.network(weights: config.weights)
  let conv = entry.layers.filter { $0.description.hasPrefix("conv") && $0.description.contains("post-ReLU") }
  let layers = config.layers ?? conv.map(\.name)
  guard !layers.isEmpty else {
    throw FeatureStudyError(
      "\(entry.name) marks no layers as post-ReLU conv maps; give --layers (`ephys models NAME` or `ephys inspect FILE.onnx` lists them)"
    )
  }
  let input = InputGeometry(channels: entry.channels, height: side, width: side, normalization: entry.normalization)
  let net = try AttentionNetwork(module, input: input, layers: layers, detectorLayer: config.detectorLayer)
  let images =
    try config.images.map { try FeatureStudyImages.folder($0, entry: entry, side: side, seed: config.seed) }
    ?? FeatureStudyImages.digits(data: config.data)
  guard images.fit.channels == entry.channels, images.fit.side == side else {
    throw FeatureStudyError("the digits are 1 x 56 x 56 canvases; \(entry.name) at \(side) needs --images")
  }
  lap("load")

  // Detectors: read, or trained on whole images and single images in a quadrant.
  let featureCount = withNoGrad { net.run(net.batch([images.fit.images[0][0]]), gains: []).detector.shape[1] }
  var detectors: CategoryDetectors
  var trained = false
  if let path = config.detectors {
    detectors = try CategoryDetectors.read(path, categories: images.fit.count, features: featureCount)
  } else {
    stage("training \(images.fit.count) detectors on \(config.detectorLayer)")
    detectors = trainStudyDetectors(
      net, images: images.fit, limit: config.fitImages, seed: config.seed, progress: progress)
    trained = true
  }
  let accuracy = (0..<images.test.count).map { c -> Double in
    var rng = RandomGenerator(seed: config.seed &+ 13 &+ UInt64(c))
    let own = Array(images.test.images[c].prefix(50))
    let others = (0..<own.count).map { _ -> [Float] in
      var o = Int(rng.next() % UInt64(images.test.count - 1))
      if o >= c { o += 1 }
      return images.test.images[o][Int(rng.next() % UInt64(images.test.images[o].count))]
    }
    let f = withNoGrad { net.run(net.batch(own + others), gains: []).detector }
    let counts = DetectionCounts.count(
      logits: detectors.logit(c, f), labels: own.map { _ in 1 } + others.map { _ in 0 })
    return counts.performance()
  }
  lap("detectors")

  stage("tuning and gradient values of \(layers.count) layers")
  let values = FeatureValues.measure(
    net, detectors: detectors, images: images.fit, limit: config.fitImages, progress: progress)
  lap("values")

  var sweeps: [DetectionSweep] = []
  for kind in CategoryImageKind.allCases {
    var rng = RandomGenerator(seed: config.seed &+ (kind == .merged ? 21 : 22))
    let tests = (0..<images.test.count).map { c in
      detectionTestSet(kind, category: c, positives: config.positives, from: images.test, rng: &rng)
    }
    stage(
      "\(kind.rawValue) images: beta sweep over \(layers.count + 1) sites x 2 value kinds x \(config.betas.count) betas"
    )
    sweeps.append(
      DetectionSweep.run(
        net, detectors: detectors, values: values, kind: kind, tests: tests, betas: config.betas, form: config.form,
        progress: progress))
    lap("sweep_\(kind.rawValue)")
  }
  var summaries: [DetectionSummary] = []
  for sweep in sweeps {
    for (s, site) in sweep.sites.enumerated() {
      for (v, kind) in sweep.sources.enumerated() {
        summaries.append(
          DetectionSummary(
            kind: sweep.kind, site: site.name(layers), values: kind, betas: sweep.betas, counts: sweep.counts[s][v]))
      }
    }
  }
  stage("gain-model test (beta \(config.gainTestBeta))")
  let gainTest = GainModelTest.run(
    net, values: values, images: images.test, limit: config.gainTestImages, beta: config.gainTestBeta,
    progress: progress)
  lap("gain_test")
  let described = layers.map { l in entry.layers.first { $0.name == l }?.description ?? l }
  return FeatureStudyResult(
    config: config, layers: layers, layerDescriptions: described, categories: images.fit.names, values: values,
    sweeps: sweeps, summaries: summaries, gainTest: gainTest, detectorAccuracy: accuracy, detectorsTrained: trained,
    detectors: detectors,
    imageSource: images.source, seconds: seconds)
}
