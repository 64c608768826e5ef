internal import CGSL
import Foundation

/// A nonlinear least-squares solution: parameters, their standard errors (covariance scaled by the
/// residual variance SS / (n - p), as scipy.optimize.curve_fit reports them), the residual sum of
/// squares, R^2 against the data's mean, and whether the solver met its tolerances.
public struct LeastSquaresSolution: Sendable, Equatable {
  public var parameters: [Double]
  public var standardErrors: [Double]
  public var residualSS: Double
  public var r2: Double
  public var converged: Bool
  /// True when the solver was stopped because `abandon` held for an iterate (then `converged` is false).
  public var abandoned: Bool = false
}

/// Minimises sum_i (model(i, p) - y_i)^2 over p from `start` with GSL's multifit_nlinear trust-region
/// Levenberg-Marquardt solver and the analytic Jacobian `jacobian(i, p)` (d model(i, p) / d p); up to
/// 500 iterations, tolerances 1e-12 on step, gradient and residual. Returns nil when the solver cannot
/// start or ends on non-finite parameters. `i` indexes the data points, so one call can fit several
/// curves that share parameters. `abandon` as in the buffered form below.
public func leastSquares(
  points y: [Double], start: [Double], model: @escaping (Int, [Double]) -> Double,
  jacobian: @escaping (Int, [Double]) -> [Double], abandon: ((UnsafeBufferPointer<Double>) -> Bool)? = nil
) -> LeastSquaresSolution? {
  let n = y.count
  let k = start.count
  return leastSquares(
    points: y, start: start,
    residuals: { p, r in
      let q = Array(p)
      for i in 0..<n { r[i] = model(i, q) - y[i] }
    },
    jacobian: { p, j in
      let q = Array(p)
      for i in 0..<n {
        for (c, g) in jacobian(i, q).enumerated() where c < k { j[i * k + c] = g }
      }
    }, abandon: abandon)
}

/// The same solver with the residuals and Jacobian evaluated whole into the solver's buffers, for
/// models that fit many times (no allocation per iteration): `residuals(p, r)` writes
/// r_i = model(i, p) - y_i for the n points, `jacobian(p, J)` writes d model(i, p) / d p_c at J[i * k + c]
/// (row-major n x k, k = start.count). `y` gives n and the R^2 reference. `abandon(p)`, when given, is
/// asked after every iteration: once it holds, the solver stops there and reports `abandoned` and not
/// converged (for fits running along a valley that has no minimum, such as a tuning curve's width growing
/// without bound); the iterations are otherwise those of `gsl_multifit_nlinear_driver`.
public func leastSquares(
  points y: [Double], start: [Double],
  residuals: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void,
  jacobian: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void,
  abandon: ((UnsafeBufferPointer<Double>) -> Bool)? = nil
) -> LeastSquaresSolution? {
  let n = y.count
  let k = start.count
  guard n >= k, k > 0, y.allSatisfy(\.isFinite), start.allSatisfy(\.isFinite) else { return nil }
  /// The callbacks' state: the model and scratch buffers for the parameters, residuals and Jacobian.
  final class Problem {
    let n: Int
    let k: Int
    let residuals: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    let jacobian: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    let p: UnsafeMutableBufferPointer<Double>
    let r: UnsafeMutableBufferPointer<Double>
    let j: UnsafeMutableBufferPointer<Double>
    init(
      n: Int, k: Int, residuals: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void,
      jacobian: @escaping (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) {
      self.n = n
      self.k = k
      self.residuals = residuals
      self.jacobian = jacobian
      p = .allocate(capacity: k)
      r = .allocate(capacity: n)
      j = .allocate(capacity: n * k)
    }
    deinit {
      p.deallocate()
      r.deallocate()
      j.deallocate()
    }
    /// Copies GSL's parameter vector into `p`.
    func read(_ v: UnsafePointer<gsl_vector>) -> UnsafeBufferPointer<Double> {
      let data = v.pointee.data!
      let stride = v.pointee.stride
      for c in 0..<k { p[c] = data[c * stride] }
      return UnsafeBufferPointer(p)
    }
  }
  let problem = Problem(n: n, k: k, residuals: residuals, jacobian: jacobian)
  let box = Unmanaged.passRetained(problem)
  defer { box.release() }
  var fdf = gsl_multifit_nlinear_fdf()
  fdf.f = { x, raw, f in
    let d = Unmanaged<Problem>.fromOpaque(raw!).takeUnretainedValue()
    d.residuals(d.read(x!), d.r)
    let data = f!.pointee.data!
    let stride = f!.pointee.stride
    for i in 0..<d.n { data[i * stride] = d.r[i] }
    return Int32(GSL_SUCCESS)
  }
  fdf.df = { x, raw, j in
    let d = Unmanaged<Problem>.fromOpaque(raw!).takeUnretainedValue()
    d.jacobian(d.read(x!), d.j)
    let data = j!.pointee.data!
    let tda = j!.pointee.tda
    for i in 0..<d.n {
      for c in 0..<d.k { data[i * tda + c] = d.j[i * d.k + c] }
    }
    return Int32(GSL_SUCCESS)
  }
  fdf.fvv = nil
  fdf.n = n
  fdf.p = k
  fdf.params = box.toOpaque()
  var settings = gsl_multifit_nlinear_default_parameters()
  guard let w = gsl_multifit_nlinear_alloc(ephys_nlinear_trust(), &settings, n, k) else { return nil }
  defer { gsl_multifit_nlinear_free(w) }
  let x0 = gsl_vector_alloc(k)!
  defer { gsl_vector_free(x0) }
  for (i, v) in start.enumerated() { gsl_vector_set(x0, i, v) }
  let previous = gsl_set_error_handler_off()
  defer { gsl_set_error_handler(previous) }
  guard gsl_multifit_nlinear_init(x0, &fdf, w) == GSL_SUCCESS else { return nil }
  let (status, abandoned) = drive(
    w, maxIterations: 500, tolerance: 1e-12, abandon: abandon.map { test in { test(problem.read($0)) } })
  let position = gsl_multifit_nlinear_position(w)!
  let p = (0..<k).map { gsl_vector_get(position, $0) }
  guard p.allSatisfy(\.isFinite) else { return nil }
  let residuals = gsl_multifit_nlinear_residual(w)!
  let sse = (0..<n).reduce(0.0) { $0 + pow(gsl_vector_get(residuals, $1), 2) }
  let mean = y.reduce(0, +) / Double(n)
  let sst = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
  let covar = gsl_matrix_alloc(k, k)!
  defer { gsl_matrix_free(covar) }
  gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0, covar)
  let scale = n > k ? sse / Double(n - k) : .nan
  let se = (0..<k).map { (max(0, gsl_matrix_get(covar, $0, $0)) * scale).squareRoot() }
  return LeastSquaresSolution(
    parameters: p, standardErrors: se, residualSS: sse, r2: sst > 0 ? 1 - sse / sst : .nan,
    converged: status == GSL_SUCCESS && !abandoned, abandoned: abandoned)
}

/// Iterates the solver as `gsl_multifit_nlinear_driver` does (no progress on the first step ends it;
/// step, gradient and residual tests with one tolerance; at most `maxIterations`), and stops early when
/// `abandon` holds for the new position. Returns GSL's status (GSL_SUCCESS when a tolerance was met) and
/// whether it was abandoned.
private func drive(
  _ w: UnsafeMutablePointer<gsl_multifit_nlinear_workspace>, maxIterations: Int, tolerance: Double,
  abandon: ((UnsafePointer<gsl_vector>) -> Bool)?
) -> (status: Int32, abandoned: Bool) {
  var info: Int32 = 0
  var iteration = 0
  var status: Int32
  repeat {
    status = gsl_multifit_nlinear_iterate(w)
    if status == GSL_ENOPROG && iteration == 0 { return (Int32(GSL_EMAXITER), false) }
    iteration += 1
    if let abandon, abandon(gsl_multifit_nlinear_position(w)) { return (Int32(GSL_CONTINUE), true) }
    status = gsl_multifit_nlinear_test(tolerance, tolerance, tolerance, &info, w)
  } while status == GSL_CONTINUE && iteration < maxIterations
  if status == GSL_ETOLF || status == GSL_ETOLX || status == GSL_ETOLG { status = Int32(GSL_SUCCESS) }
  if iteration >= maxIterations && status != GSL_SUCCESS { status = Int32(GSL_EMAXITER) }
  return (status, false)
}
