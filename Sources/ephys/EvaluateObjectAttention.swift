import Analysis
import ArgumentParser
import Engine
import Foundation
import ImageIO
import Models
import Workbench

/// `ephys evaluate ...`
struct Evaluate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a trained model.",
    subcommands: [EvaluateObjectAttention.self, EvaluateClassifier.self, EvaluateSaliencyMultiset.self])
}

/// `ephys evaluate object-attention --weights FILE`: accuracy, gated-inhibition statistics and
/// attention visualisations on the held-out test split.
struct EvaluateObjectAttention: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "object-attention",
    abstract:
      "Per-object accuracy (mean per-label accuracy for COCO), inhibition inside vs outside the attended object with a paired t-test, and attention visualisations.",
    discussion: """
      Inhibition is the input mask (conv1_in) after pass T-1 of each glimpse: its mean inside the attended
      object (pixels where the selected object supplies at least half the value) and outside it, averaged over
      the glimpses of an image; the paired t-test runs across test images (GSL). --weights takes an Ephys
      safetensors checkpoint or the reference's PyTorch .pt state_dict.
      """)

  @Option(help: "Checkpoint (safetensors or PyTorch .pt).") var weights: String
  @Option(help: "mnist or coco (used when the checkpoint carries no configuration).") var variant:
    ObjectAttentionConfig.Variant = .mnist
  @Option(help: "Gating strength for checkpoints without metadata.") var strength: Float?
  @OptionGroup var data: ObjectAttentionDataOptions
  @Option(help: "Images to visualise as PNG.") var visualize = 8
  @Option(help: "Folder for the visualisations and summary.json.") var out = "Reports/evaluate-object-attention"
  @Flag(help: "Print one JSON object instead of text.") var json = false

  func run() throws {
    var defaults = ObjectAttentionConfig.preset(variant)
    if let strength { defaults.strength = strength }
    let net = try ObjectAttentionNet.load(from: weights, defaults: defaults)
    let task = try data.task(config: net.config, batchSize: 100)
    var result = ObjectEvaluation()
    for b in 0..<task.test.count { net.evaluate(try task.test.make(b), into: &result, visualize: visualize) }
    let report = EvaluationReport(result, config: net.config, perLabel: task.perLabelAccuracy, weights: weights)
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    for (i, v) in result.visuals.enumerated() {
      try attentionFigure(v, config: net.config).writePNG(to: "\(out)/attention_\(i).png")
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let encoded = try encoder.encode(report)
    try writeFileAtomically([UInt8](encoded), to: "\(out)/summary.json")
    if json {
      say(String(decoding: encoded, as: UTF8.self))
    } else {
      say(report.text)
      say("visualisations and summary.json in \(out)/")
    }
  }
}

/// What `evaluate object-attention` reports (JSON keys in snake case).
struct EvaluationReport: Codable {
  var weights: String
  var variant: String
  var nImages: Int
  var nObjects: Int
  var accuracy: Double
  var meanPerLabelAccuracy: Double
  var inhibitionAttendedMean, inhibitionAttendedSD: Double
  var inhibitionOutsideMean, inhibitionOutsideSD: Double
  var inhibitionExcludedImages: Int
  var t: Double
  var df: Int
  var pValue: Double
  var histogramEdges: [Double]
  var histogramAttended: [Int]
  var histogramOutside: [Int]

  enum CodingKeys: String, CodingKey {
    case weights, variant, accuracy, t, df
    case nImages = "n_images"
    case nObjects = "n_objects"
    case meanPerLabelAccuracy = "mean_per_label_accuracy"
    case inhibitionAttendedMean = "inhibition_attended_mean"
    case inhibitionAttendedSD = "inhibition_attended_sd"
    case inhibitionOutsideMean = "inhibition_outside_mean"
    case inhibitionOutsideSD = "inhibition_outside_sd"
    case inhibitionExcludedImages = "inhibition_excluded_images"
    case pValue = "p_value"
    case histogramEdges = "histogram_edges"
    case histogramAttended = "histogram_attended"
    case histogramOutside = "histogram_outside"
  }

  init(_ r: ObjectEvaluation, config: ObjectAttentionConfig, perLabel: Bool, weights: String) {
    self.weights = weights
    variant = config.variant.rawValue
    nImages = r.total / max(1, config.objects)
    nObjects = r.total
    accuracy = perLabel ? r.meanPerLabelAccuracy : r.accuracy
    meanPerLabelAccuracy = r.meanPerLabelAccuracy
    (inhibitionAttendedMean, inhibitionAttendedSD) = meanAndSD(r.inhibitionAttended)
    (inhibitionOutsideMean, inhibitionOutsideSD) = meanAndSD(r.inhibitionOutside)
    inhibitionExcludedImages = r.excludedFromInhibition
    let test = PairedTTest(r.inhibitionOutside, r.inhibitionAttended)
    t = test?.t ?? .nan
    df = test?.df ?? 0
    pValue = test?.p ?? .nan
    histogramEdges = (0...20).map { -1 + Double($0) * 0.1 }
    func hist(_ x: [Double]) -> [Int] {
      var h = [Int](repeating: 0, count: 20)
      for v in x { h[min(19, max(0, Int(((v + 1) / 0.1).rounded(.down))))] += 1 }
      return h
    }
    histogramAttended = hist(r.inhibitionAttended)
    histogramOutside = hist(r.inhibitionOutside)
  }

  var text: String {
    String(
      format: """
        %@ variant, %d test images (%d objects)
        accuracy %.4f%@
        inhibition (input mask after pass T-1): attended object %.3f (sd %.3f), outside %.3f (sd %.3f)
        paired t-test outside vs attended: t = %.1f, df = %d, p = %.3g (%d images excluded: empty region)
        """, variant, nImages, nObjects, accuracy, variant == "coco" ? " (mean per-label)" : " (per object)",
      inhibitionAttendedMean, inhibitionAttendedSD, inhibitionOutsideMean, inhibitionOutsideSD, t, df, pValue,
      inhibitionExcludedImages)
  }
}
