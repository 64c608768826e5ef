internal import CGSL
import Foundation

/// Does attention modulate a unit at any condition? An F-test on the paired trial differences
/// d_rc = A_rc - U_rc (trial r, condition c; each trial's attended and unattended responses come from
/// the same stimulus draw): F = (n sum_c mean_c(d)^2 / C) / s^2, s^2 the pooled within-condition
/// variance of d, with C and C (n - 1) degrees of freedom (exact for Gaussian trial noise; n trials
/// per condition). p = gsl_cdf_fdist_Q(F, C, C (n - 1)).
public struct TrialModulationTest: Sendable, Equatable {
  public var conditions: Int
  public var trials: Int
  public var f: Double
  public var p: Double

  /// `attended[c][r]`, `unattended[c][r]`: condition c, trial r. Needs at least 2 trials in every
  /// condition, the same number in both phases.
  public init?(attended a: [[Double]], unattended u: [[Double]]) {
    guard !a.isEmpty, a.count == u.count else { return nil }
    var n = 0
    var between = 0.0
    var within = 0.0
    var dfWithin = 0
    for (ac, uc) in zip(a, u) {
      guard ac.count == uc.count, ac.count >= 2 else { return nil }
      let d = zip(ac, uc).map { $0 - $1 }
      guard d.allSatisfy(\.isFinite) else { return nil }
      let m = d.reduce(0, +) / Double(d.count)
      between += Double(d.count) * m * m
      within += d.reduce(0) { $0 + ($1 - m) * ($1 - m) }
      dfWithin += d.count - 1
      n = d.count
    }
    conditions = a.count
    trials = n
    let s2 = within / Double(dfWithin)
    let meanSquare = between / Double(a.count)
    if s2 == 0 {
      f = meanSquare == 0 ? 0 : .infinity
      p = meanSquare == 0 ? 1 : 0
    } else {
      f = meanSquare / s2
      p = gsl_cdf_fdist_Q(f, Double(a.count), Double(dfWithin))
    }
  }
}
