internal import CGSL

/// Result of a paired (dependent-samples) t-test.
public struct PairedTTest: Sendable, Equatable, Codable {
  /// Number of pairs.
  public var n: Int
  /// Mean of the differences a - b.
  public var meanDifference: Double
  /// Sample standard deviation of the differences.
  public var sdDifference: Double
  /// t = mean(d) / (sd(d) / sqrt(n)).
  public var t: Double
  /// Degrees of freedom, n - 1.
  public var df: Int
  /// Two-sided p-value 2 Q_t(|t|; df) from GSL's `gsl_cdf_tdist_Q`.
  public var p: Double
  /// Effect size d_z = mean(d) / sd(d).
  public var effectSize: Double

  /// Tests whether paired samples `a` and `b` differ in mean (GSL's undocumented
  /// `gsl_stats_ttest` is an independent-samples test and is not used). Needs n >= 2.
  public init?(_ a: [Double], _ b: [Double]) {
    guard a.count == b.count, a.count >= 2 else { return nil }
    let d = zip(a, b).map { $0 - $1 }
    guard d.allSatisfy(\.isFinite) else { return nil }
    let stats = meanAndSD(d)
    n = d.count
    df = n - 1
    meanDifference = stats.mean
    sdDifference = stats.sd
    if sdDifference == 0 {
      t = meanDifference == 0 ? 0 : (meanDifference > 0 ? .infinity : -.infinity)
      p = meanDifference == 0 ? 1 : 0
      effectSize = meanDifference == 0 ? 0 : t
    } else {
      t = meanDifference / (sdDifference / Double(n).squareRoot())
      p = min(1, 2 * gsl_cdf_tdist_Q(abs(t), Double(df)))
      effectSize = meanDifference / sdDifference
    }
  }
}

/// Mean and sample standard deviation (GSL).
public func meanAndSD(_ x: [Double]) -> (mean: Double, sd: Double) {
  guard !x.isEmpty else { return (.nan, .nan) }
  let m = x.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, x.count) }
  let s = x.count > 1 ? x.withUnsafeBufferPointer { gsl_stats_sd_m($0.baseAddress, 1, x.count, m) } : 0
  return (m, s)
}
