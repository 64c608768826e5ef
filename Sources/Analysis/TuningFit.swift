import Foundation

/// Tuning-curve models with parameters [baseline B, amplitude A, preferred value, width].
public enum TuningModel: Sendable, Equatable {
  /// B + A exp(-d^2 / (2 sigma^2)), d = x - preferred wrapped into [-period/2, period/2)
  /// (McAdams & Maunsell; period 180 for orientation). Width = sigma.
  case wrappedGaussian(period: Double)
  /// B + A exp(kappa (cos(2 pi (x - preferred) / period) - 1)). Width = kappa (larger = narrower).
  case vonMises(period: Double)
  /// B + A exp(-(x - preferred)^2 / (2 sigma^2)) for non-periodic axes (position, size).
  case gaussian

  /// The model's value at x for parameters p = [B, A, preferred, width].
  public func value(_ x: Double, _ p: [Double]) -> Double {
    p[0] + p[1] * shape(x, p).e
  }

  /// exp(...) term and the offset used by the derivatives.
  func shape(_ x: Double, _ p: [Double]) -> (e: Double, d: Double) { shape(x, preferred: p[2], width: p[3]) }

  /// exp(...) term and the offset used by the derivatives, for the preferred value and width alone.
  @inline(__always)
  func shape(_ x: Double, preferred: Double, width: Double) -> (e: Double, d: Double) {
    switch self {
    case .wrappedGaussian(let period):
      var d = x - preferred
      // fmod returns d itself when |d| < period: skip the call, same bits.
      if !(abs(d) < period) { d = d.truncatingRemainder(dividingBy: period) }
      if d >= period / 2 { d -= period }
      if d < -period / 2 { d += period }
      return (exp(-d * d / (2 * width * width)), d)
    case .vonMises(let period):
      let u = 2 * Double.pi * (x - preferred) / period
      return (exp(width * (cos(u) - 1)), u)
    case .gaussian:
      let d = x - preferred
      return (exp(-d * d / (2 * width * width)), d)
    }
  }

  /// d(value)/d(parameters) at x.
  func gradient(_ x: Double, _ p: [Double]) -> (Double, Double, Double, Double) {
    let (e, d) = shape(x, p)
    return gradient(e: e, d: d, amplitude: p[1], width: p[3])
  }

  /// d(value)/d(parameters) from the shape's exp term `e` and offset `d`.
  @inline(__always)
  func gradient(e: Double, d: Double, amplitude: Double, width: Double) -> (Double, Double, Double, Double) {
    switch self {
    case .wrappedGaussian, .gaussian:
      let s2 = width * width
      return (1, e, amplitude * e * d / s2, amplitude * e * d * d / (s2 * width))
    case .vonMises(let period):
      return (1, e, amplitude * e * width * sin(d) * 2 * Double.pi / period, amplitude * e * (cos(d) - 1))
    }
  }
}

/// One tuning curve's residuals and Jacobian for `leastSquares`, without allocating per iteration: the
/// shape terms of the last residual evaluation are kept and reused when the solver asks for the Jacobian
/// at the same parameters (it does after every accepted step).
final class TuningResiduals {
  let model: TuningModel
  let x: [Double]
  let y: [Double]
  /// e_i, d_i of the shape at the cached parameters, then the cached preferred value and width (raw
  /// storage: class `var`s would pay Swift's dynamic exclusivity checks on every access).
  private let terms: UnsafeMutableBufferPointer<Double>

  init(model: TuningModel, x: [Double], y: [Double]) {
    self.model = model
    self.x = x
    self.y = y
    terms = .allocate(capacity: 2 * x.count + 2)
    terms.initialize(repeating: .nan)
  }

  deinit { terms.deallocate() }

  /// Fills the shape terms for p = [B, A, preferred, width] unless they are those of the last call.
  @inline(__always)
  private func shapes(_ p: UnsafeBufferPointer<Double>) {
    let n = x.count
    if terms[2 * n] == p[2], terms[2 * n + 1] == p[3] { return }
    for i in 0..<n {
      let s = model.shape(x[i], preferred: p[2], width: p[3])
      terms[i] = s.e
      terms[n + i] = s.d
    }
    terms[2 * n] = p[2]
    terms[2 * n + 1] = p[3]
  }

  /// r_i = B + A e_i - y_i.
  func residuals(_ p: UnsafeBufferPointer<Double>, _ r: UnsafeMutableBufferPointer<Double>) {
    shapes(p)
    for i in 0..<x.count { r[i] = p[0] + p[1] * terms[i] - y[i] }
  }

  /// Row i of d model / d [B, A, preferred, width].
  func jacobian(_ p: UnsafeBufferPointer<Double>, _ j: UnsafeMutableBufferPointer<Double>) {
    shapes(p)
    let n = x.count
    for i in 0..<n {
      let g = model.gradient(e: terms[i], d: terms[n + i], amplitude: p[1], width: p[3])
      j[4 * i] = g.0
      j[4 * i + 1] = g.1
      j[4 * i + 2] = g.2
      j[4 * i + 3] = g.3
    }
  }
}

/// A fitted tuning curve: parameters [B, A, preferred, width], their standard errors (covariance
/// scaled by the residual variance, as scipy.optimize.curve_fit), R^2 and whether the solver converged
/// (false too for a degenerate fit, stopped where it was).
public struct TuningFit: Sendable, Equatable {
  public var model: TuningModel
  public var parameters: [Double]
  public var standardErrors: [Double]
  public var r2: Double
  public var residualSS: Double
  public var converged: Bool
  /// The fit was stopped because |A| exceeded `TuningModel.degenerateAmplitude` times the data's range:
  /// the curve has no Gaussian peak to fit (flat or dipped), and the solver trades baseline against
  /// amplitude while the width grows without bound (orientation fits reached sigma ~ 1e5 degrees).
  public var degenerate: Bool = false

  public var baseline: Double { parameters[0] }
  public var amplitude: Double { parameters[1] }
  public var preferred: Double { parameters[2] }
  public var width: Double { parameters[3] }

  /// Half width at half maximum (for the Gaussian models: sigma sqrt(2 ln 2); for von Mises in
  /// axis units: period/(2 pi) acos(1 + ln(0.5)/kappa), nil when kappa < ln 2 / 2).
  public var halfWidth: Double? {
    switch model {
    case .wrappedGaussian, .gaussian: return abs(width) * (2 * log(2.0)).squareRoot()
    case .vonMises(let period):
      let c = 1 + log(0.5) / width
      return c < -1 || c > 1 ? nil : period / (2 * Double.pi) * acos(c)
    }
  }
}

/// Fits `model` to (x, y) by nonlinear least squares (GSL multifit_nlinear, Levenberg-Marquardt trust
/// region, analytic Jacobian). The start is B = min y, A = max y - min y, preferred = x at the maximum,
/// width 30 (Gaussians on a periodic axis: period/6; non-periodic: a quarter of the x range; von Mises 2),
/// unless `start` is given. Returns nil with fewer than 5 points or a flat curve. A fit whose amplitude
/// leaves `degenerateAmplitude` times the data's range is stopped there and marked degenerate (not
/// converged).
public func fitTuning(x: [Double], y: [Double], model: TuningModel, start: [Double]? = nil) -> TuningFit? {
  let n = x.count
  guard n == y.count, n >= 5, y.allSatisfy(\.isFinite), let lo = y.min(), let hi = y.max(), hi > lo else { return nil }
  let peak = x[y.firstIndex(of: hi)!]
  let width: Double
  switch model {
  case .wrappedGaussian(let period): width = period / 6
  case .vonMises: width = 2
  case .gaussian: width = max(1e-6, ((x.max() ?? 1) - (x.min() ?? 0)) / 4)
  }
  let p0 = start ?? [lo, hi - lo, peak, width]
  let curve = TuningResiduals(model: model, x: x, y: y)
  let amplitudeLimit = TuningModel.degenerateAmplitude * (hi - lo)
  guard
    let solution = leastSquares(
      points: y, start: p0, residuals: { p, r in curve.residuals(p, r) }, jacobian: { p, j in curve.jacobian(p, j) },
      abandon: { p in !(abs(p[1]) <= amplitudeLimit) })
  else { return nil }
  var p = solution.parameters
  // Canonical form: positive width, preferred value within one period.
  switch model {
  case .wrappedGaussian(let period), .vonMises(let period):
    p[2] = p[2].truncatingRemainder(dividingBy: period)
    if p[2] < 0 { p[2] += period }
  case .gaussian: break
  }
  if case .vonMises = model {} else { p[3] = abs(p[3]) }
  return TuningFit(
    model: model, parameters: p, standardErrors: solution.standardErrors, r2: solution.r2,
    residualSS: solution.residualSS, converged: solution.converged, degenerate: solution.abandoned)
}

extension TuningModel {
  /// A tuning fit is degenerate once its amplitude exceeds this multiple of the data's range (max - min):
  /// a curve that peaks within the data needs |A| of about the range, while on a flat or dipped curve
  /// the solver follows a valley without minimum (A -> infinity, B -> -infinity, width -> infinity) and
  /// would run to its 500-iteration cap (12% of the orientation protocol's fits did, 71% of its iterations).
  public static let degenerateAmplitude = 100.0
}

/// How attention changed a unit's fitted tuning (McAdams & Maunsell 1999): amplitude ratio A_att/A_un,
/// width ratio w_att/w_un, baseline change B_att - B_un, and shift of the preferred value (wrapped).
public struct TuningEffects: Sendable, Equatable {
  public var amplitudeRatio, widthRatio, baselineChange, preferredShift: Double

  public init(attended a: TuningFit, unattended u: TuningFit) {
    amplitudeRatio = a.amplitude / u.amplitude
    widthRatio = abs(a.width) / abs(u.width)
    baselineChange = a.baseline - u.baseline
    var shift = a.preferred - u.preferred
    switch a.model {
    case .wrappedGaussian(let period), .vonMises(let period):
      shift = shift.truncatingRemainder(dividingBy: period)
      if shift >= period / 2 { shift -= period }
      if shift < -period / 2 { shift += period }
    case .gaussian: break
    }
    preferredShift = shift
  }
}
