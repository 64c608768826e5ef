internal import CGSL
import Foundation

/// Detection performance (TP rate + TN rate) / 2 of a binary detector (Lindsay & Miller 2018): 0.5 is
/// chance, 1 perfect; rates are fractions in [0, 1].
public func detectionPerformance(truePositiveRate tp: Double, trueNegativeRate tn: Double) -> Double {
  (tp + tn) / 2
}

/// Signal-detection measures from a hit (true-positive) and a false-alarm rate, each clipped to
/// [0.01, 0.99] first (as the reference analysis does): criterion c = -(z(H) + z(F)) / 2 and
/// sensitivity d' = z(H) - z(F), z the standard normal quantile (GSL's `gsl_cdf_ugaussian_Pinv`).
/// Positive c: a conservative detector (says "absent" more often).
public func signalDetection(hitRate: Double, falseAlarmRate: Double) -> (criterion: Double, dPrime: Double) {
  let h = gsl_cdf_ugaussian_Pinv(min(0.99, max(0.01, hitRate)))
  let f = gsl_cdf_ugaussian_Pinv(min(0.99, max(0.01, falseAlarmRate)))
  return (-(h + f) / 2, h - f)
}

/// Values z-scored across categories: (x_c - mean_c x) / sd_c x with the population standard deviation
/// (divisor n, numpy's default); all zeros when the values do not vary (a silent feature map).
public func zScored(_ x: [Double]) -> [Double] {
  guard !x.isEmpty else { return [] }
  let mean = x.reduce(0, +) / Double(x.count)
  let sd = (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
  guard sd > 1e-12 * max(1, abs(mean)), sd.isFinite else { return x.map { _ in 0 } }
  return x.map { ($0 - mean) / sd }
}

/// Values divided by their largest magnitude (Lindsay & Miller's gradient-value normalisation per
/// feature map across categories); all zeros when every value is zero.
public func maxAbsNormalized(_ x: [Double]) -> [Double] {
  let m = x.map(abs).max() ?? 0
  guard m > 0, m.isFinite else { return x.map { _ in 0 } }
  return x.map { $0 / m }
}

/// The least-squares line y = intercept + slope x (GSL's `gsl_fit_linear`) over the pairs where both
/// are finite; nil with fewer than 3 such pairs or no spread in x.
public func fitLine(x: [Double], y: [Double]) -> (slope: Double, intercept: Double)? {
  let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
  guard pairs.count >= 3, let lo = pairs.map(\.0).min(), let hi = pairs.map(\.0).max(), hi > lo else { return nil }
  guard let line = LinearFit(x: pairs.map(\.0), y: pairs.map(\.1)) else { return nil }
  return (line.slope, line.intercept)
}

/// A line fit with the t test of its slope: slope, intercept, the slope's standard error, t = slope /
/// SE, two-sided p (Student's t with n - 2 degrees of freedom, GSL), and n. Nil as for `fitLine`.
public struct SlopeTest: Sendable, Equatable {
  public var slope, intercept, standardError, t, p: Double
  public var n: Int

  /// Fits y against x over the finite pairs and tests slope = 0.
  public init?(x: [Double], y: [Double]) {
    let pairs = zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }
    guard pairs.count >= 3, let lo = pairs.map(\.0).min(), let hi = pairs.map(\.0).max(), hi > lo,
      let line = LinearFit(x: pairs.map(\.0), y: pairs.map(\.1))
    else { return nil }
    let n = pairs.count
    // GSL's slope variance: residual variance (divisor n - 2) over the spread of x.
    let se = line.covSlope.squareRoot()
    slope = line.slope
    intercept = line.intercept
    standardError = se
    self.n = n
    if se > 0 {
      t = line.slope / se
      p = min(1, 2 * gsl_cdf_tdist_Q(abs(t), Double(n - 2)))
    } else {
      t = line.slope == 0 ? 0 : (line.slope > 0 ? .infinity : -.infinity)
      p = line.slope == 0 ? 1 : 0
    }
  }
}

/// Mean and standard error of the mean (sample SD / sqrt(n)); SEM is NaN with fewer than 2 values.
public func meanAndSEM(_ x: [Double]) -> (mean: Double, sem: Double) {
  let finite = x.filter(\.isFinite)
  guard !finite.isEmpty else { return (.nan, .nan) }
  let (mean, sd) = meanAndSD(finite)
  return (mean, finite.count > 1 ? sd / Double(finite.count).squareRoot() : .nan)
}
