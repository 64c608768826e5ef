internal import CGSL
import Foundation

/// Wilcoxon signed-rank test of paired samples (differences a - b), as scipy.stats.wilcoxon with its
/// defaults: zero differences are dropped ("wilcox"); the exact null distribution is used when there
/// are at most 50 non-zero differences and no ties, otherwise the normal approximation with the tie
/// correction (no continuity correction). Two-sided.
public struct WilcoxonSignedRank: Sendable, Equatable, Codable {
  /// Number of non-zero differences.
  public var n: Int
  /// min(W+, W-), the statistic scipy reports for the two-sided test.
  public var statistic: Double
  /// Two-sided p-value.
  public var p: Double
  /// Whether the exact distribution was used.
  public var exact: Bool

  public init?(_ a: [Double], _ b: [Double]) {
    guard a.count == b.count else { return nil }
    let d = zip(a, b).map { $0 - $1 }.filter { $0 != 0 }
    guard d.allSatisfy(\.isFinite), !d.isEmpty else { return nil }
    n = d.count
    let ranks = averageRanks(d.map { Swift.abs($0) })
    let wPlus = zip(d, ranks).filter { $0.0 > 0 }.reduce(0) { $0 + $1.1 }
    let total = Double(n * (n + 1)) / 2
    let wMinus = total - wPlus
    statistic = min(wPlus, wMinus)
    let hasTies = Set(ranks).count != ranks.count
    if n <= 50 && !hasTies {
      exact = true
      // Number of subsets of {1..n} with each rank sum (the null distribution of W+).
      let maxSum = n * (n + 1) / 2
      var counts = [Double](repeating: 0, count: maxSum + 1)
      counts[0] = 1
      for r in 1...n {
        for s in stride(from: maxSum, through: r, by: -1) { counts[s] += counts[s - r] }
      }
      let all = pow(2.0, Double(n))
      let k = Int(statistic.rounded())
      let lower = counts[0...k].reduce(0, +) / all
      p = min(1, 2 * lower)
    } else {
      exact = false
      var tieTerm = 0.0
      var counts: [Double: Int] = [:]
      for r in ranks { counts[r, default: 0] += 1 }
      for (_, t) in counts where t > 1 { tieTerm += Double(t * t * t - t) }
      let mean = total / 2
      let variance = Double(n * (n + 1) * (2 * n + 1)) / 24 - tieTerm / 48
      let z = (wPlus - mean) / variance.squareRoot()
      p = min(1, 2 * gsl_cdf_ugaussian_Q(Swift.abs(z)))
    }
  }
}

/// Ranks 1...n with ties given their average rank.
public func averageRanks(_ x: [Double]) -> [Double] {
  let order = x.indices.sorted { x[$0] < x[$1] }
  var ranks = [Double](repeating: 0, count: x.count)
  var i = 0
  while i < order.count {
    var j = i
    while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
    let r = Double(i + j) / 2 + 1
    for k in i...j { ranks[order[k]] = r }
    i = j + 1
  }
  return ranks
}
