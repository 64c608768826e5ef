import Analysis
import Foundation
import Testing

/// The tuning fit evaluates its residuals and Jacobian whole, into the solver's buffers, reusing the
/// shape terms between the two; the point-wise `leastSquares` form with `TuningModel.value` and the
/// formulas below is its naive twin. Both must give the same bits.
@Suite("Tuning fit: buffered residuals vs the point-wise twin")
struct TuningFitTwinTests {
  /// d model / d [B, A, preferred, width] written out from the model's definition.
  static func gradient(_ model: TuningModel, _ x: Double, _ p: [Double]) -> [Double] {
    switch model {
    case .wrappedGaussian(let period):
      var d = (x - p[2]).truncatingRemainder(dividingBy: period)
      if d >= period / 2 { d -= period }
      if d < -period / 2 { d += period }
      let s2 = p[3] * p[3]
      let e = exp(-d * d / (2 * s2))
      return [1, e, p[1] * e * d / s2, p[1] * e * d * d / (s2 * p[3])]
    case .gaussian:
      let d = x - p[2]
      let s2 = p[3] * p[3]
      let e = exp(-d * d / (2 * s2))
      return [1, e, p[1] * e * d / s2, p[1] * e * d * d / (s2 * p[3])]
    case .vonMises(let period):
      let u = 2 * Double.pi * (x - p[2]) / period
      let e = exp(p[3] * (cos(u) - 1))
      return [1, e, p[1] * e * p[3] * sin(u) * 2 * Double.pi / period, p[1] * e * (cos(u) - 1)]
    }
  }

  @Test(
    "fits of noisy, flat-ish and sharp curves give identical parameters, errors and convergence",
    arguments: [TuningModel.wrappedGaussian(period: 180), .vonMises(period: 180), .gaussian])
  func identical(model: TuningModel) throws {
    var draws = TruthDraws(seed: 7)
    let x = (0..<20).map { Double($0) * 9 }
    var checked = 0
    for curve in 0..<60 {
      // Widths from 3 (one-sample peaks) to 400 (flat: the solver runs to its iteration cap).
      let width = [3.0, 12, 30, 60, 400][curve % 5]
      let preferred = Double(curve * 37 % 180)
      let y = x.map { v in
        let truth = TuningModel.gaussian.value(
          min(abs(v - preferred), 180 - abs(v - preferred)), [0.2, 1, 0, width])
        return truth + 0.05 * draws.normal()
      }
      let fast = try #require(fitTuning(x: x, y: y, model: model))
      let lo = y.min()!
      let hi = y.max()!
      let start: [Double] = {
        switch model {
        case .wrappedGaussian(let period): return [lo, hi - lo, x[y.firstIndex(of: hi)!], period / 6]
        case .vonMises: return [lo, hi - lo, x[y.firstIndex(of: hi)!], 2]
        case .gaussian: return [lo, hi - lo, x[y.firstIndex(of: hi)!], (x.max()! - x.min()!) / 4]
        }
      }()
      let twin = try #require(
        leastSquares(
          points: y, start: start, model: { i, p in model.value(x[i], p) },
          jacobian: { i, p in Self.gradient(model, x[i], p) },
          abandon: { p in !(abs(p[1]) <= TuningModel.degenerateAmplitude * (hi - lo)) }))
      var p = twin.parameters
      if case .gaussian = model {
      } else {
        p[2] = p[2].truncatingRemainder(dividingBy: 180)
        if p[2] < 0 { p[2] += 180 }
      }
      if case .vonMises = model {} else { p[3] = abs(p[3]) }
      #expect(fast.parameters == p, "curve \(curve)")
      #expect(fast.standardErrors == twin.standardErrors, "curve \(curve)")
      #expect(fast.converged == twin.converged, "curve \(curve)")
      #expect(fast.degenerate == twin.abandoned, "curve \(curve)")
      #expect(fast.residualSS == twin.residualSS, "curve \(curve)")
      checked += 1
    }
    #expect(checked == 60)
  }

  @Test("a dipped curve is stopped as degenerate; a peaked one converges as before")
  func degenerate() throws {
    let x = (0..<20).map { Double($0) * 9 }
    let model = TuningModel.wrappedGaussian(period: 180)
    func curve(_ amplitude: Double) -> [Double] {
      x.map { v in 1 + amplitude * exp(-pow(min(abs(v - 90), 180 - abs(v - 90)), 2) / (2 * 20 * 20)) }
    }
    // A dip has no Gaussian peak: without the stop the solver ran to its 500-iteration cap with the
    // width near 1e5 degrees.
    let dip = try #require(fitTuning(x: x, y: curve(-0.5), model: model))
    #expect(dip.degenerate && !dip.converged)
    #expect(abs(dip.amplitude) > TuningModel.degenerateAmplitude * 0.5)
    let peak = try #require(fitTuning(x: x, y: curve(0.5), model: model))
    #expect(!peak.degenerate && peak.converged)
    #expect(abs(peak.preferred - 90) < 1e-6 && abs(peak.width - 20) < 1e-6 && abs(peak.amplitude - 0.5) < 1e-9)
  }
}
