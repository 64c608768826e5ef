import Foundation

// V1 property measures as brain-score's V1 benchmarks (Marques, Schrimpf & DiCarlo 2021) define them,
// computed from a unit's mean responses. Orientation in degrees (period 180), spatial frequency in
// cycles per pixel or degree, grating radius in pixels or degrees, phase in degrees (period 360).

/// A curve over a periodic axis linearly interpolated at `x` (sorted samples, one period).
func periodicInterpolation(_ xs: [Double], _ ys: [Double], period: Double, at x: Double) -> Double {
  let n = xs.count
  var t = x.truncatingRemainder(dividingBy: period)
  if t < 0 { t += period }
  for i in 0..<n {
    let x0 = xs[i]
    let x1 = i + 1 < n ? xs[i + 1] : xs[0] + period
    var u = t
    if u < x0 { u += period }
    if u >= x0 && u <= x1 {
      return x1 == x0 ? ys[i] : ys[i] + (ys[(i + 1) % n] - ys[i]) * (u - x0) / (x1 - x0)
    }
  }
  return ys[0]
}

/// Samples of a periodic curve sorted by their position in one period, later duplicates (same value
/// modulo the period) dropped.
func periodicSamples(_ responses: [Double], _ axis: [Double], period: Double) -> (x: [Double], y: [Double]) {
  var pairs: [(Double, Double)] = []
  for (r, a) in zip(responses, axis) {
    var w = a.truncatingRemainder(dividingBy: period)
    if w < 0 { w += period }
    if !pairs.contains(where: { abs($0.0 - w) < 1e-9 * period }) { pairs.append((w, r)) }
  }
  pairs.sort { $0.0 < $1.0 }
  return (pairs.map(\.0), pairs.map(\.1))
}

/// Orientation bandwidth: the half width (degrees) at which the curve, linearly interpolated on a
/// 0.5-degree grid, falls to 1/sqrt(2) of the way from its minimum to its peak, averaged over both
/// flanks; nil for a flat curve or one that never falls that far within 90 degrees of its peak.
public func orientationBandwidth(_ responses: [Double], orientationsDegrees theta: [Double]) -> Double? {
  let (x, y) = periodicSamples(responses, theta, period: 180)
  guard x.count >= 3, let lo = y.min(), let hi = y.max(), hi > lo else { return nil }
  let threshold = lo + (hi - lo) / 2.0.squareRoot()
  let grid = (0..<360).map { Double($0) * 0.5 }
  let values = grid.map { periodicInterpolation(x, y, period: 180, at: $0) }
  let peak = values.indices.max { values[$0] < values[$1] }!
  func flank(_ step: Int) -> Double? {
    for k in 1...180 {
      let i = ((peak + step * k) % 360 + 360) % 360
      if values[i] <= threshold {
        // Interpolate between the last sample above and this one.
        let prev = values[((peak + step * (k - 1)) % 360 + 360) % 360]
        let frac = prev == values[i] ? 0 : (prev - threshold) / (prev - values[i])
        return 0.5 * (Double(k - 1) + frac)
      }
    }
    return nil
  }
  guard let left = flank(-1), let right = flank(1) else { return nil }
  return (left + right) / 2
}

/// Orthogonal / preferred ratio: the response 90 degrees from the preferred orientation (the sampled
/// peak; the curve interpolated there) divided by the peak response; nil when the peak is not positive.
public func orthogonalPreferredRatio(_ responses: [Double], orientationsDegrees theta: [Double]) -> Double? {
  let (x, y) = periodicSamples(responses, theta, period: 180)
  guard x.count >= 2, let k = y.indices.max(by: { y[$0] < y[$1] }), y[k] > 0 else { return nil }
  return periodicInterpolation(x, y, period: 180, at: x[k] + 90) / y[k]
}

/// Modulation ratio F1/F0 over a drifting grating's phase (degrees, one period sampled evenly): F0 the
/// mean response, F1 the amplitude of the first harmonic, 2 |mean_k r_k exp(i phi_k)|. Above 1:
/// simple-cell-like; below: complex-cell-like. nil when F0 is not positive.
public func modulationRatio(_ responses: [Double], phasesDegrees phi: [Double]) -> Double? {
  let (x, y) = periodicSamples(responses, phi, period: 360)
  guard x.count >= 3 else { return nil }
  let f0 = y.reduce(0, +) / Double(y.count)
  guard f0 > 0 else { return nil }
  var re = 0.0
  var im = 0.0
  for (r, p) in zip(y, x) {
    re += r * cos(p * Double.pi / 180)
    im += r * sin(p * Double.pi / 180)
  }
  let f1 = 2 * (re * re + im * im).squareRoot() / Double(y.count)
  return f1 / f0
}

/// Spatial-frequency peak (the sampled frequency of the largest response) and full bandwidth in
/// octaves: the log2-frequency span over which the curve, interpolated linearly in log2 frequency,
/// stays above 1/sqrt(2) of the way from its minimum to its peak; nil bandwidth
/// when the curve does not fall that far on both sides within the sampled range.
public func frequencyTuning(_ responses: [Double], frequencies f: [Double]) -> (peak: Double, bandwidth: Double?)? {
  let order = f.indices.filter { f[$0] > 0 }.sorted { f[$0] < f[$1] }
  guard order.count >= 3 else { return nil }
  let x = order.map { log2(f[$0]) }
  let y = order.map { responses[$0] }
  guard let lo = y.min(), let hi = y.max(), hi > lo else { return nil }
  let k = y.firstIndex(of: hi)!
  let threshold = lo + (hi - lo) / 2.0.squareRoot()
  func crossing(_ step: Int) -> Double? {
    var i = k
    while i + step >= 0 && i + step < y.count {
      let j = i + step
      if y[j] <= threshold {
        let frac = (y[i] - threshold) / (y[i] - y[j])
        return x[i] + (x[j] - x[i]) * frac
      }
      i = j
    }
    return nil
  }
  let peak = f[order[k]]
  guard let low = crossing(-1), let high = crossing(1) else { return (peak, nil) }
  return (peak, high - low)
}

/// Surround suppression index over grating radius: (R_max - R_largest) / R_max, R_largest the
/// response to the largest grating; nil when R_max is not positive.
public func surroundSuppressionIndex(_ responses: [Double], radii: [Double]) -> Double? {
  guard let largest = radii.indices.max(by: { radii[$0] < radii[$1] }), let peak = responses.max(), peak > 0 else {
    return nil
  }
  return (peak - responses[largest]) / peak
}
