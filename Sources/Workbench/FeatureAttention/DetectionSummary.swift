import Analysis
import Foundation
import Stimuli

/// The measures of one (image kind, attention site, value kind) over categories (Lindsay & Miller 2018):
/// - performance per beta, mean and SEM over categories;
/// - performance change: per category max over beta of (perf(beta) - perf(0)) x 100 (percentage
///   points), mean and SEM over categories. Beta 0 is among the candidates, so this is >= 0 by
///   construction (the reference's measure);
/// - cross-validated change: per category, beta chosen on the even-numbered test images and the change
///   scored on the odd-numbered ones, and the reverse, averaged: it can be negative, so "> 0" means
///   something;
/// - criterion c and d' of the category-mean hit and false-alarm rates at beta 0 and at the beta with
///   the best mean performance.
public struct DetectionSummary: Sendable {
  public var kind: CategoryImageKind
  public var site: String
  public var values: AttentionSource
  public var betas: [Double]
  public var meanPerformance: [Double]
  public var semPerformance: [Double]
  public var change: (mean: Double, sem: Double)
  public var crossValidatedChange: (mean: Double, sem: Double)
  /// Categories whose cross-validated change is above 0, and the count of categories.
  public var improvedCategories: Int
  public var categories: Int
  public var bestBeta: Double
  /// Category-mean hit rate, false-alarm rate, c and d' at beta 0 and at `bestBeta`.
  public var baseline: (hit: Double, falseAlarm: Double, criterion: Double, dPrime: Double)
  public var attended: (hit: Double, falseAlarm: Double, criterion: Double, dPrime: Double)

  /// Summarises `counts[beta][category]`.
  public init(
    kind: CategoryImageKind, site: String, values: AttentionSource, betas: [Double], counts: [[DetectionCounts]]
  ) {
    self.kind = kind
    self.site = site
    self.values = values
    self.betas = betas
    let categories = counts.first?.count ?? 0
    self.categories = categories
    let perf = counts.map { $0.map { $0.performance() } }
    meanPerformance = perf.map { meanAndSEM($0).mean }
    semPerformance = perf.map { meanAndSEM($0).sem }
    let zero = betas.firstIndex(of: 0) ?? 0
    let changes = (0..<categories).map { c in
      (perf.map { $0[c] }.max() ?? .nan) * 100 - perf[zero][c] * 100
    }
    change = meanAndSEM(changes)
    let cv = (0..<categories).map { c -> Double in
      var total = 0.0
      for half in 0..<2 {
        let choose = counts.map { $0[c].performance(half) }
        // The smallest beta among the best on the choosing half.
        let best = choose.indices.max { a, b in choose[a] < choose[b] || (choose[a] == choose[b] && a > b) } ?? zero
        let other = 1 - half
        total += (counts[best][c].performance(other) - counts[zero][c].performance(other)) * 100
      }
      return total / 2
    }
    crossValidatedChange = meanAndSEM(cv)
    improvedCategories = cv.filter { $0 > 0 }.count
    let means = meanPerformance
    let bestIndex = means.indices.max { means[$0] < means[$1] || (means[$0] == means[$1] && $0 > $1) } ?? zero
    bestBeta = betas[bestIndex]
    func rates(_ b: Int) -> (Double, Double, Double, Double) {
      let hit = meanAndSEM(counts[b].map { $0.tpRate() }).mean
      let fa = 1 - meanAndSEM(counts[b].map { $0.tnRate() }).mean
      let sd = signalDetection(hitRate: hit, falseAlarmRate: fa)
      return (hit, fa, sd.criterion, sd.dPrime)
    }
    baseline = rates(zero)
    attended = rates(bestIndex)
  }
}
