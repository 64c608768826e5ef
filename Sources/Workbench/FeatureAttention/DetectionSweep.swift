import Analysis
import Engine
import Foundation
import ModelInterface
import Stimuli

/// Where attention is applied: one attention layer (index into the network's attention layers) at
/// strength beta, or every attention layer at once at beta / 10 (the reference's "all layers").
public enum AttentionSite: Sendable, Equatable {
  case layer(Int)
  case all

  /// The layer's name, or "all".
  public func name(_ layers: [String]) -> String {
    if case .layer(let k) = self { return layers[k] }
    return "all"
  }
}

/// Detection of one category at one setting: hit and correct-rejection counts over the category's
/// test images, split into the even- and odd-numbered images of each class (for choosing beta on one
/// half and scoring it on the other).
public struct DetectionCounts: Sendable, Equatable {
  public var hits = [0, 0], correctRejections = [0, 0]
  public var positives = [0, 0], negatives = [0, 0]

  public init() {}

  /// True-positive rate over all images (or one half).
  public func tpRate(_ half: Int? = nil) -> Double { rate(hits, positives, half) }
  /// True-negative rate over all images (or one half).
  public func tnRate(_ half: Int? = nil) -> Double { rate(correctRejections, negatives, half) }
  /// (TP rate + TN rate) / 2.
  public func performance(_ half: Int? = nil) -> Double {
    detectionPerformance(truePositiveRate: tpRate(half), trueNegativeRate: tnRate(half))
  }

  func rate(_ k: [Int], _ n: [Int], _ half: Int?) -> Double {
    let (a, b) = half.map { (k[$0], n[$0]) } ?? (k[0] + k[1], n[0] + n[1])
    return b > 0 ? Double(a) / Double(b) : .nan
  }

  /// Counts the detector's decisions (logit > 0 or = 0: present) against labels (1: present).
  static func count(logits: [Float], labels: [Int]) -> DetectionCounts {
    var d = DetectionCounts()
    var seen = [0, 0]
    for (z, y) in zip(logits, labels) {
      let half = seen[y] % 2
      seen[y] += 1
      if y == 1 {
        d.positives[half] += 1
        if z >= 0 { d.hits[half] += 1 }
      } else {
        d.negatives[half] += 1
        if z < 0 { d.correctRejections[half] += 1 }
      }
    }
    return d
  }
}

/// What directs attention in a sweep: feature gains from tuning or gradient values, or (array images
/// only) spatial attention to one quadrant.
public enum AttentionSource: String, Sendable, CaseIterable {
  case tuning, gradient, spatial

  /// The feature values it uses (nil for spatial attention).
  public var values: FeatureValueKind? { FeatureValueKind(rawValue: rawValue) }
}

/// How feature values become a modulation (Lindsay & Miller's variants): multiplicative
/// max(0, 1 + beta v_k), or additive max(0, h + beta v_k b_l) with b_l the layer's mean response over
/// the fit images; bidirectional, or positive-only (negative values set to 0).
public struct FeatureGainForm: Sendable, Equatable {
  public var additive = false
  public var positiveOnly = false
  public init(additive: Bool = false, positiveOnly: Bool = false) {
    self.additive = additive
    self.positiveOnly = positiveOnly
  }

  /// A short name for tables: multiplicative or additive, bidirectional or positive-only.
  public var name: String {
    (additive ? "additive" : "multiplicative") + ", " + (positiveOnly ? "positive-only" : "bidirectional")
  }

  /// The modulation of one layer for values `v` (per channel) at strength `beta`; `baseline` is the
  /// layer's mean response (used by the additive form).
  func modulation(_ v: [Double], beta: Double, baseline: Double) -> LayerModulation {
    let values = positiveOnly ? v.map { max(0, $0) } : v
    if additive {
      return .shift(Tensor(shape: [1, values.count, 1, 1], scalars: values.map { Float(beta * $0 * baseline) }))
    }
    return .scale(channelGain(beta: Float(beta), values: values.map(Float.init)))
  }
}

/// Spatial attention to quadrant `slot` of each image (0 top-left, 1 top-right, 2 bottom-left, 3
/// bottom-right): map positions in the attended quadrant x (1 + beta), the rest x max(0, 1 - beta);
/// [N, 1, H, W] for a map of `height x width`.
func quadrantGain(slots: [Int], height: Int, width: Int, beta: Double) -> Tensor<Float> {
  var v = [Float](repeating: 0, count: slots.count * height * width)
  for (i, slot) in slots.enumerated() {
    for y in 0..<height {
      for x in 0..<width {
        let q = (2 * y >= height ? 2 : 0) + (2 * x >= width ? 1 : 0)
        v[(i * height + y) * width + x] = Float(q == slot ? 1 + beta : max(0, 1 - beta))
      }
    }
  }
  return Tensor(shape: [slots.count, 1, height, width], scalars: v)
}

/// The beta sweep of one test-image kind: for every attention site, attention source and beta, each
/// category's detection counts with attention to that category (feature gains from the category's
/// values, or spatial attention to the array quadrant that holds it; beta = 0 is the unattended
/// baseline, shared by every site).
public struct DetectionSweep: Sendable {
  public var kind: CategoryImageKind
  public var sites: [AttentionSite]
  public var sources: [AttentionSource]
  public var betas: [Double]
  /// counts[site][source][beta][category].
  public var counts: [[[[DetectionCounts]]]]

  /// Runs the sweep on per-category test sets (`tests[c]`: images, labels and array slots); calls
  /// `progress` after each site. Categories run in parallel, each through a prefix computed once per
  /// site (the layers below the attended one do not depend on beta). Spatial attention runs on array
  /// images only.
  public static func run(
    _ net: AttentionNetwork, detectors: CategoryDetectors, values: FeatureValues, kind: CategoryImageKind,
    tests: [(images: [[Float]], labels: [Int], slots: [Int])], betas: [Double], form: FeatureGainForm = .init(),
    progress: (Int, Int) -> Void = { _, _ in }
  ) -> DetectionSweep {
    let sites = (0..<net.layers.count).map(AttentionSite.layer) + [.all]
    let sources: [AttentionSource] = kind == .array ? AttentionSource.allCases : [.tuning, .gradient]
    let valueSets = FeatureValueKind.allCases.map { values.values($0) }
    // Each layer's mean response over the fit images (the additive form's baseline).
    let baselines = values.meanResponse.map { perCategory in
      perCategory.flatMap { $0 }.reduce(0, +) / Double(max(1, perCategory.flatMap { $0 }.count))
    }
    let categories = tests.count
    // Without attention every site gives the same detections: one pass per category, shared.
    let unattended = SharedBuffer<DetectionCounts>(count: categories, value: DetectionCounts())
    forEachMicroBatch(categories, size: 1) { range in
      for c in range {
        let features = net.run(net.batch(tests[c].images), gains: []).detector
        unattended[c] = DetectionCounts.count(logits: detectors.logit(c, features), labels: tests[c].labels)
      }
    }
    var counts: [[[[DetectionCounts]]]] = []
    for (s, site) in sites.enumerated() {
      let out = SharedBuffer<DetectionCounts>(
        count: categories * sources.count * betas.count, value: DetectionCounts())
      forEachMicroBatch(categories, size: 1) { range in
        for c in range {
          let x = net.batch(tests[c].images)
          let labels = tests[c].labels
          func score(_ features: Tensor<Float>) -> DetectionCounts {
            DetectionCounts.count(logits: detectors.logit(c, features), labels: labels)
          }
          func modulation(_ source: AttentionSource, layer k: Int, beta: Double) -> LayerModulation {
            guard let kind = source.values else {
              let shape = net.mapShapes[k]
              return .scale(quadrantGain(slots: tests[c].slots, height: shape[1], width: shape[2], beta: beta))
            }
            return form.modulation(
              valueSets[kind == .tuning ? 0 : 1][k][c], beta: beta, baseline: baselines[k])
          }
          var prefix: Tensor<Float>? = nil
          if case .layer(let k) = site { prefix = net.prefix(x, through: k) }
          for (v, source) in sources.enumerated() {
            for (b, beta) in betas.enumerated() {
              let slot = (c * sources.count + v) * betas.count + b
              guard beta != 0 else {
                out[slot] = unattended[c]
                continue
              }
              switch site {
              case .layer(let k):
                let g = modulation(source, layer: k, beta: beta)
                out[slot] = score(net.resume(prefix!, at: k, g))
              case .all:
                let gains: [LayerModulation?] = net.layers.indices.map {
                  modulation(source, layer: $0, beta: beta / 10)
                }
                out[slot] = score(net.run(x, gains: gains).detector)
              }
            }
          }
        }
      }
      counts.append(
        sources.indices.map { v in
          betas.indices.map { b in (0..<categories).map { c in out[(c * sources.count + v) * betas.count + b] } }
        })
      progress(s + 1, sites.count)
    }
    return DetectionSweep(kind: kind, sites: sites, sources: sources, betas: betas, counts: counts)
  }
}
