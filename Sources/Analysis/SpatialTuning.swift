import Foundation

/// A log-Gaussian spatial-frequency tuning curve R(f) = B + A exp(-log2(f / f_peak)^2 / (2 s^2)) (f in
/// cycles per pixel or per degree, s in octaves), fitted by least squares.
public struct LogGaussianFit: Sendable, Equatable {
  public var baseline, amplitude, peak, sigmaOctaves: Double
  public var r2: Double
  public var converged: Bool

  /// Full width at half the amplitude above baseline, in octaves: 2 s sqrt(2 ln 2).
  public var bandwidthOctaves: Double { 2 * abs(sigmaOctaves) * (2 * log(2.0)).squareRoot() }

  /// The response at frequency `f`.
  public func value(_ f: Double) -> Double {
    let d = log2(f / peak)
    return baseline + amplitude * exp(-d * d / (2 * sigmaOctaves * sigmaOctaves))
  }
}

/// Fits a log-Gaussian to spatial-frequency tuning (at least 4 positive frequencies, a non-flat curve),
/// starting at B = min, A = max - min, the peak at the best frequency and s = 1 octave.
public func fitLogGaussian(frequency f: [Double], response y: [Double]) -> LogGaussianFit? {
  guard f.count == y.count, f.count >= 4, f.allSatisfy({ $0 > 0 && $0.isFinite }), let lo = y.min(),
    let hi = y.max(), hi > lo
  else { return nil }
  let x = f.map(log2)
  let best = x[y.firstIndex(of: hi)!]
  guard
    let s = leastSquares(
      points: y, start: [lo, hi - lo, best, 1],
      model: { i, p in
        let d = x[i] - p[2]
        return p[0] + p[1] * exp(-d * d / (2 * p[3] * p[3]))
      },
      jacobian: { i, p in
        let d = x[i] - p[2]
        let s2 = p[3] * p[3]
        let e = exp(-d * d / (2 * s2))
        return [1, e, p[1] * e * d / s2, p[1] * e * d * d / (s2 * p[3])]
      })
  else { return nil }
  let p = s.parameters
  return LogGaussianFit(
    baseline: p[0], amplitude: p[1], peak: pow(2, p[2]), sigmaOctaves: abs(p[3]), r2: s.r2, converged: s.converged)
}

/// Size tuning with surround suppression: a difference of integrated Gaussians over the stimulus
/// radius r, R(r) = b + Ke (1 - exp(-(r/we)^2)) - Ki (1 - exp(-(r/wi)^2)) (DiCarlo/Cavanaugh-style
/// centre and surround summation; r and w in pixels or degrees), fitted by least squares.
public struct SizeTuningFit: Sendable, Equatable {
  public var baseline, centreGain, centreWidth, surroundGain, surroundWidth: Double
  public var r2: Double
  public var converged: Bool

  public init(
    baseline: Double, centreGain: Double, centreWidth: Double, surroundGain: Double, surroundWidth: Double, r2: Double,
    converged: Bool
  ) {
    self.baseline = baseline
    self.centreGain = centreGain
    self.centreWidth = centreWidth
    self.surroundGain = surroundGain
    self.surroundWidth = surroundWidth
    self.r2 = r2
    self.converged = converged
  }

  /// The response at radius `r`.
  public func value(_ r: Double) -> Double {
    baseline + centreGain * (1 - exp(-pow(r / centreWidth, 2))) - surroundGain * (1 - exp(-pow(r / surroundWidth, 2)))
  }
}

/// Fits the centre-surround size model to responses over stimulus radii (at least 5 positive radii,
/// a non-flat curve), starting at b = the smallest stimulus's response, Ke = the peak's rise, we = the
/// radius of the peak, Ki = the fall from the peak to the largest radius, wi = 2 we. The model has a
/// degenerate valley (we = wi merges centre and surround), so the fit also starts from wi = 4 we and
/// from we / 2 and keeps the solution with the smallest residual.
public func fitSizeTuning(radius r: [Double], response y: [Double]) -> SizeTuningFit? {
  guard r.count == y.count, r.count >= 5, r.allSatisfy({ $0 > 0 && $0.isFinite }), let lo = y.min(),
    let hi = y.max(), hi > lo
  else { return nil }
  let order = r.indices.sorted { r[$0] < r[$1] }
  let peakRadius = r[y.firstIndex(of: hi)!]
  let last = y[order.last!]
  let start = [y[order[0]], hi - y[order[0]], peakRadius, max(1e-3, hi - last), 2 * peakRadius]
  var starts = [start]
  starts.append([start[0], start[1], start[2], start[3], 4 * peakRadius])
  starts.append([start[0], start[1], start[2] / 2, start[3], 2 * peakRadius])
  let solutions = starts.compactMap { start in
    leastSquares(
      points: y, start: start,
      model: { i, p in
        p[0] + p[1] * (1 - exp(-pow(r[i] / p[2], 2))) - p[3] * (1 - exp(-pow(r[i] / p[4], 2)))
      },
      jacobian: { i, p in
        let ee = exp(-pow(r[i] / p[2], 2))
        let ei = exp(-pow(r[i] / p[4], 2))
        return [
          1, 1 - ee, -p[1] * ee * 2 * r[i] * r[i] / (p[2] * p[2] * p[2]), -(1 - ei),
          p[3] * ei * 2 * r[i] * r[i] / (p[4] * p[4] * p[4]),
        ]
      })
  }
  guard let s = solutions.min(by: { $0.residualSS < $1.residualSS }) else { return nil }
  let p = s.parameters
  return SizeTuningFit(
    baseline: p[0], centreGain: p[1], centreWidth: abs(p[2]), surroundGain: p[3], surroundWidth: abs(p[4]), r2: s.r2,
    converged: s.converged)
}
