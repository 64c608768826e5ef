internal import CGSL

/// Ordinary least squares y = intercept + slope x (GSL's `gsl_fit_linear`): the coefficients, their
/// covariance (from the residual variance, divisor n - 2) and the residual sum of squares.
struct LinearFit {
  var intercept, slope: Double
  var covIntercept, covInterceptSlope, covSlope: Double
  var residualSS: Double

  /// Fits `y` on `x` (equal lengths, at least 2); nil when GSL fails or a result is not finite.
  init?(x: [Double], y: [Double]) {
    guard x.count == y.count, x.count >= 2 else { return nil }
    var c0 = 0.0
    var c1 = 0.0
    var cov00 = 0.0
    var cov01 = 0.0
    var cov11 = 0.0
    var ss = 0.0
    let status = x.withUnsafeBufferPointer { xb in
      y.withUnsafeBufferPointer { yb in
        gsl_fit_linear(xb.baseAddress, 1, yb.baseAddress, 1, xb.count, &c0, &c1, &cov00, &cov01, &cov11, &ss)
      }
    }
    guard status == GSL_SUCCESS, c0.isFinite, c1.isFinite else { return nil }
    intercept = c0
    slope = c1
    covIntercept = cov00
    covInterceptSlope = cov01
    covSlope = cov11
    residualSS = ss
  }
}
