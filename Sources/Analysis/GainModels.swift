internal import CGSL
import Foundation

/// Fits of attended responses A against unattended responses U over one unit's stimulus conditions:
/// multiplicative A = m U (gsl_fit_mul), additive A = U + b, affine A = m U + b (gsl_fit_linear),
/// with standard errors; the nested F-test of multiplicative within affine, AIC for all three, and
/// optionally the Deming (orthogonal, error ratio 1) slope, which OLS biases towards 0 when U is noisy.
public struct GainFit: Sendable, Equatable, Codable {
  public enum Model: String, Sendable, Codable, CaseIterable { case multiplicative, additive, affine }

  public var n: Int
  public var mulGain, mulGainSE, mulSS: Double
  public var addOffset, addOffsetSE, addSS: Double
  public var affineSlope, affineSlopeSE, affineIntercept, affineInterceptSE, affineSS: Double
  /// F = (SS_mul - SS_aff) / (SS_aff / (n - 2)), p from gsl_cdf_fdist_Q(F, 1, n - 2).
  public var fMulVsAffine, pMulVsAffine: Double
  /// AIC = n ln(SS / n) + 2k for each model (k = 1, 1, 2).
  public var aicMul, aicAdd, aicAffine: Double
  /// Deming slope (errors of equal variance in A and U).
  public var demingSlope: Double
  /// The verdict: the better of the one-parameter models (multiplicative or additive, by residual sum
  /// of squares), unless the affine model fits significantly better than it (nested F-test, p < 0.05).
  /// With noise, AIC alone would pick the affine model for about 16% of truly one-parameter units.
  public var preferred: Model
  /// p of the nested F-test of the chosen one-parameter model within the affine one.
  public var pSimpleVsAffine: Double

  /// Fits A against U; needs n >= 3 and some variation in U.
  public init?(attended a: [Double], unattended u: [Double]) {
    let n = a.count
    guard n == u.count, n >= 3, a.allSatisfy(\.isFinite), u.allSatisfy(\.isFinite) else { return nil }
    guard u.contains(where: { $0 != u[0] }) else { return nil }
    self.n = n
    guard let line = LinearFit(x: u, y: a) else { return nil }
    affineIntercept = line.intercept
    affineSlope = line.slope
    affineInterceptSE = line.covIntercept.squareRoot()
    affineSlopeSE = line.covSlope.squareRoot()
    affineSS = line.residualSS
    var m = 0.0
    var covm = 0.0
    var ssm = 0.0
    u.withUnsafeBufferPointer { x in
      a.withUnsafeBufferPointer { y in _ = gsl_fit_mul(x.baseAddress, 1, y.baseAddress, 1, n, &m, &covm, &ssm) }
    }
    mulGain = m
    mulGainSE = covm.squareRoot()
    mulSS = ssm
    let d = zip(a, u).map { $0 - $1 }
    let md = d.reduce(0, +) / Double(n)
    addOffset = md
    addSS = d.reduce(0) { $0 + ($1 - md) * ($1 - md) }
    addOffsetSE = (addSS / Double(n - 1)).squareRoot() / Double(n).squareRoot()
    if n > 2 && affineSS > 0 {
      fMulVsAffine = max(0, (mulSS - affineSS) / (affineSS / Double(n - 2)))
      pMulVsAffine = gsl_cdf_fdist_Q(fMulVsAffine, 1, Double(n - 2))
    } else {
      fMulVsAffine = affineSS == 0 && mulSS > 0 ? .infinity : 0
      pMulVsAffine = affineSS == 0 && mulSS > 0 ? 0 : 1
    }
    func aic(_ ss: Double, _ k: Int) -> Double { Double(n) * log(max(ss, 1e-300) / Double(n)) + 2 * Double(k) }
    aicMul = aic(mulSS, 1)
    aicAdd = aic(addSS, 1)
    aicAffine = aic(affineSS, 2)
    let mu = u.reduce(0, +) / Double(n)
    let ma = a.reduce(0, +) / Double(n)
    var sxx = 0.0
    var syy = 0.0
    var sxy = 0.0
    for (x, y) in zip(u, a) {
      sxx += (x - mu) * (x - mu)
      syy += (y - ma) * (y - ma)
      sxy += (x - mu) * (y - ma)
    }
    demingSlope = sxy == 0 ? 0 : (syy - sxx + ((syy - sxx) * (syy - sxx) + 4 * sxy * sxy).squareRoot()) / (2 * sxy)
    let simple: Model = mulSS <= addSS ? .multiplicative : .additive
    let simpleSS = min(mulSS, addSS)
    if affineSS > 0 && n > 2 {
      let f = max(0, (simpleSS - affineSS) / (affineSS / Double(n - 2)))
      pSimpleVsAffine = gsl_cdf_fdist_Q(f, 1, Double(n - 2))
    } else {
      pSimpleVsAffine = simpleSS > 0 ? 0 : 1
    }
    preferred = pSimpleVsAffine < 0.05 ? .affine : simple
  }
}
