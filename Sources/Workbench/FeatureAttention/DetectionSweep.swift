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

/// The beta sweep of one test-image kind: for every attention site, value kind and beta, each
/// category's detection counts with attention to that category (gains max(0, 1 + beta v_k) from the
/// category's values; beta = 0 is the unattended baseline, shared by every site).
public struct DetectionSweep: Sendable {
  public var kind: CategoryImageKind
  public var sites: [AttentionSite]
  public var betas: [Double]
  /// counts[site][valueKind][beta][category].
  public var counts: [[[[DetectionCounts]]]]

  /// Runs the sweep on per-category test sets (`tests[c]`: images and labels); calls `progress` after
  /// each site. Categories run in parallel, each through a prefix computed once per site (the layers
  /// below the attended one do not depend on beta).
  public static func run(
    _ net: AttentionNetwork, detectors: CategoryDetectors, values: FeatureValues, kind: CategoryImageKind,
    tests: [(images: [[Float]], labels: [Int])], betas: [Double], progress: (Int, Int) -> Void = { _, _ in }
  ) -> DetectionSweep {
    let sites = (0..<net.layers.count).map(AttentionSite.layer) + [.all]
    let kinds = FeatureValueKind.allCases
    let valueSets = kinds.map { values.values($0) }
    let categories = tests.count
    var counts: [[[[DetectionCounts]]]] = []
    for (s, site) in sites.enumerated() {
      let out = SharedBuffer<DetectionCounts>(count: categories * kinds.count * betas.count, value: DetectionCounts())
      forEachMicroBatch(categories, size: 1) { range in
        for c in range {
          let x = net.batch(tests[c].images)
          let labels = tests[c].labels
          func score(_ features: Tensor<Float>) -> DetectionCounts {
            DetectionCounts.count(logits: detectors.logit(c, features), labels: labels)
          }
          let baseline = score(net.run(x, gains: []).detector!)
          var prefix: Tensor<Float>? = nil
          if case .layer(let k) = site { prefix = net.run(x, gains: [], stopAfter: net.childIndex(k)).prefix }
          for (v, set) in valueSets.enumerated() {
            for (b, beta) in betas.enumerated() {
              let slot = (c * kinds.count + v) * betas.count + b
              guard beta != 0 else {
                out[slot] = baseline
                continue
              }
              switch site {
              case .layer(let k):
                let g = channelGain(beta: Float(beta), values: set[k][c].map(Float.init))
                out[slot] = score(net.run(prefix! * g, from: net.childIndex(k) + 1, gains: []).detector!)
              case .all:
                let gains: [Tensor<Float>?] = set.map {
                  channelGain(beta: Float(beta / 10), values: $0[c].map(Float.init))
                }
                out[slot] = score(net.run(x, gains: gains).detector!)
              }
            }
          }
        }
      }
      counts.append(
        kinds.indices.map { v in
          betas.indices.map { b in (0..<categories).map { c in out[(c * kinds.count + v) * betas.count + b] } }
        })
      progress(s + 1, sites.count)
    }
    return DetectionSweep(kind: kind, sites: sites, betas: betas, counts: counts)
  }
}
