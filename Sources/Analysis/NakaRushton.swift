import Foundation

/// The Naka-Rushton contrast-response function R(c) = Rmax c^n / (c^n + c50^n) + b (c: contrast in
/// (0, 1], R in the response's units; c50 taken as |c50|).
public struct NakaRushton: Sendable, Equatable {
  public var rmax, c50, exponent, baseline: Double

  public init(rmax: Double, c50: Double, exponent: Double, baseline: Double) {
    self.rmax = rmax
    self.c50 = c50
    self.exponent = exponent
    self.baseline = baseline
  }

  /// The response at contrast `c`.
  public func value(_ c: Double) -> Double { NakaRushton.value(c, [rmax, c50, exponent, baseline]) }

  /// R for parameters p = [Rmax, c50, n, b].
  static func value(_ c: Double, _ p: [Double]) -> Double {
    let cn = pow(c, p[2])
    let sn = pow(abs(p[1]), p[2])
    return cn + sn == 0 ? p[3] : p[0] * cn / (cn + sn) + p[3]
  }

  /// d R / d [Rmax, c50, n, b].
  static func gradient(_ c: Double, _ p: [Double]) -> [Double] {
    let s = abs(p[1])
    let cn = pow(c, p[2])
    let sn = pow(s, p[2])
    let d = cn + sn
    guard d > 0, c > 0, s > 0 else { return [d > 0 ? cn / d : 0, 0, 0, 1] }
    let f = cn / d
    let dS = -p[0] * cn * p[2] * pow(s, p[2] - 1) / (d * d) * (p[1] < 0 ? -1 : 1)
    let dN = p[0] * cn * sn * (log(c) - log(s)) / (d * d)
    return [f, dS, dN, 1]
  }
}

/// A fitted contrast-response function with standard errors [Rmax, c50, n, b] and R^2.
public struct NakaRushtonFit: Sendable, Equatable {
  public var function: NakaRushton
  public var standardErrors: [Double]
  public var r2: Double
  public var residualSS: Double
  public var converged: Bool
}

/// The start of a contrast-response fit: Rmax = max - min, c50 = the contrast whose response is
/// nearest half-way between min and max, n = 2, b = min.
func nakaRushtonStart(contrast c: [Double], response y: [Double]) -> [Double] {
  let lo = y.min() ?? 0
  let hi = y.max() ?? 1
  let half = (lo + hi) / 2
  let k = y.indices.min { abs(y[$0] - half) < abs(y[$1] - half) } ?? 0
  return [hi - lo, max(1e-3, c[k]), 2, lo]
}

/// Fits R = Rmax c^n / (c^n + c50^n) + b to one contrast-response curve by least squares (GSL
/// trust-region Levenberg-Marquardt, analytic Jacobian) from `nakaRushtonStart` unless `start` is
/// given. Needs at least 5 contrasts, all positive, and a non-flat curve.
public func fitNakaRushton(contrast c: [Double], response y: [Double], start: [Double]? = nil) -> NakaRushtonFit? {
  guard c.count == y.count, c.count >= 5, c.allSatisfy({ $0 > 0 && $0.isFinite }), y.allSatisfy(\.isFinite),
    let lo = y.min(), let hi = y.max(), hi > lo
  else { return nil }
  guard
    let s = leastSquares(
      points: y, start: start ?? nakaRushtonStart(contrast: c, response: y),
      model: { i, p in NakaRushton.value(c[i], p) }, jacobian: { i, p in NakaRushton.gradient(c[i], p) })
  else { return nil }
  let p = s.parameters
  return NakaRushtonFit(
    function: NakaRushton(rmax: p[0], c50: abs(p[1]), exponent: p[2], baseline: p[3]),
    standardErrors: s.standardErrors, r2: s.r2, residualSS: s.residualSS, converged: s.converged)
}

/// How attention changes a contrast-response function (Reynolds & Heeger 2009; Williford & Maunsell
/// 2006): contrast gain (the curve shifts along log contrast: c50 changes), response gain (Rmax
/// scales) or activity gain (the baseline b shifts).
public enum ContrastEffect: String, Sendable, CaseIterable {
  case contrastGain = "contrast-gain"
  case responseGain = "response-gain"
  case activityGain = "activity-gain"
}

/// Both phases' contrast-response functions and the attention effect on them. Each phase is fitted
/// on its own (parameters with standard errors); the ratios' 95% CIs come from the delta method on the
/// logarithms (c50, Rmax) and from the summed variances (baseline). The verdict compares three joint
/// fits of both curves that share every parameter except one (c50, Rmax or b) and picks the one with
/// the smallest residual sum of squares (each has 5 parameters, so this is also the AIC choice).
public struct ContrastGainFit: Sendable, Equatable {
  public var attended, unattended: NakaRushtonFit
  /// c50_att / c50_un and Rmax_att / Rmax_un with 95% CIs; b_att - b_un with its 95% CI.
  public var c50Ratio, rmaxRatio, baselineChange: Double
  public var c50RatioCI, rmaxRatioCI, baselineChangeCI: (low: Double, high: Double)
  /// Residual sums of squares of the three joint fits, by effect.
  public var jointSS: [ContrastEffect: Double]
  /// The effect whose joint fit leaves the least residual.
  public var effect: ContrastEffect

  public static func == (a: ContrastGainFit, b: ContrastGainFit) -> Bool {
    a.attended == b.attended && a.unattended == b.unattended && a.effect == b.effect && a.jointSS == b.jointSS
  }

  /// Fits both phases over contrasts `c` (means per contrast); nil when either phase cannot be fitted.
  public init?(contrast c: [Double], attended a: [Double], unattended u: [Double]) {
    guard let fa = fitNakaRushton(contrast: c, response: a), let fu = fitNakaRushton(contrast: c, response: u) else {
      return nil
    }
    attended = fa
    unattended = fu
    let z = 1.959963984540054
    func ratio(_ x: Double, _ sx: Double, _ y: Double, _ sy: Double) -> (Double, (Double, Double)) {
      let r = x / y
      let se = ((sx / x) * (sx / x) + (sy / y) * (sy / y)).squareRoot()
      return (r, (r * exp(-z * se), r * exp(z * se)))
    }
    (c50Ratio, c50RatioCI) = ratio(
      fa.function.c50, fa.standardErrors[1], fu.function.c50, fu.standardErrors[1])
    (rmaxRatio, rmaxRatioCI) = ratio(
      fa.function.rmax, fa.standardErrors[0], fu.function.rmax, fu.standardErrors[0])
    baselineChange = fa.function.baseline - fu.function.baseline
    let seB = (fa.standardErrors[3] * fa.standardErrors[3] + fu.standardErrors[3] * fu.standardErrors[3]).squareRoot()
    baselineChangeCI = (baselineChange - z * seB, baselineChange + z * seB)
    // Joint fits: parameters [Rmax, c50, n, b, extra], where `extra` replaces one parameter in the
    // attended curve. Points 0..<m are unattended, m..<2m attended.
    let m = c.count
    let y = u + a
    let start = nakaRushtonStart(contrast: c, response: u)
    var ss: [ContrastEffect: Double] = [:]
    let slots: [(ContrastEffect, Int)] = [(.responseGain, 0), (.contrastGain, 1), (.activityGain, 3)]
    for (effect, slot) in slots {
      let extraStart = [fa.function.rmax, fa.function.c50, 0, fa.function.baseline][slot]
      let solution = leastSquares(
        points: y, start: start + [extraStart],
        model: { i, p in
          var q = Array(p[0..<4])
          if i >= m { q[slot] = p[4] }
          return NakaRushton.value(c[i % m], q)
        },
        jacobian: { i, p in
          var q = Array(p[0..<4])
          if i >= m { q[slot] = p[4] }
          var g = NakaRushton.gradient(c[i % m], q) + [0]
          if i >= m {
            g[4] = g[slot]
            g[slot] = 0
          }
          return g
        })
      ss[effect] = solution?.residualSS ?? .infinity
    }
    jointSS = ss
    effect = slots.map(\.0).min { ss[$0]! < ss[$1]! }!
  }
}
