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

/// A unit's V1 properties from its mean responses over a grating grid (see `measureV1`); nil where
/// the sweep lacks the parameter or the curve does not define the measure.
public struct V1Measures: Sendable, Equatable {
  public var preferredOrientation: Double
  public var circularVariance: Double?
  public var orientationBandwidth: Double?
  public var orthogonalPreferredRatio: Double?
  public var preferredFrequency: Double?
  public var frequencyBandwidth: Double?
  /// Log-Gaussian fit of the frequency curve (when it fits with R^2 >= 0.5): peak and bandwidth.
  public var fittedPeakFrequency: Double?
  public var fittedFrequencyBandwidth: Double?
  public var modulationRatio: Double?
  public var surroundSuppression: Double?
  public var preferredAperture: Double?

  /// The measures by column name, for tables and per-layer distributions.
  public var named: [(String, Double?)] {
    [
      ("preferred_orientation", preferredOrientation), ("circular_variance", circularVariance),
      ("orientation_bandwidth", orientationBandwidth), ("orth_pref_ratio", orthogonalPreferredRatio),
      ("preferred_frequency", preferredFrequency), ("frequency_bandwidth_octaves", frequencyBandwidth),
      ("log_gaussian_peak", fittedPeakFrequency), ("log_gaussian_bandwidth_octaves", fittedFrequencyBandwidth),
      ("modulation_ratio_f1_f0", modulationRatio), ("surround_suppression_index", surroundSuppression),
      ("preferred_aperture", preferredAperture),
    ]
  }
}

/// V1 property measures of one unit from its mean responses `means` over the full grid of the
/// grating parameters `names` (any of orientation, frequency, phase, aperture; values `values`,
/// combinations in grid order, the last name varying fastest). The procedure, after brain-score's
/// V1 benchmarks: at the largest aperture (0 = the whole canvas counts as largest) and averaged over
/// phase, the preferred orientation and frequency are the grid's maximum; the orientation curve at
/// the preferred frequency gives circular variance, bandwidth and the orthogonal/preferred ratio; the
/// frequency curve at the preferred orientation gives the preferred frequency and bandwidth (and a
/// log-Gaussian fit); the phase curve at both preferences gives F1/F0; the aperture curve at both
/// preferences (averaged over phase) gives the surround suppression index.
public func measureV1(names: [String], values: [[Double]], means: [Double]) -> V1Measures? {
  guard let oi = names.firstIndex(of: "orientation") else { return nil }
  let fi = names.firstIndex(of: "frequency")
  let pi = names.firstIndex(of: "phase")
  let ai = names.firstIndex(of: "aperture")
  let counts = values.map(\.count)
  func flat(_ idx: [Int]) -> Int { zip(idx, counts).reduce(0) { $0 * $1.1 + $1.0 } }
  // Aperture 0 (none) is the whole canvas: the largest.
  let apertureRadius = ai.map { a in values[a].map { $0 == 0 ? Double.infinity : $0 } }
  let largestAperture = apertureRadius.map { r in r.indices.max { r[$0] < r[$1] }! } ?? 0
  /// The mean over phase (and every unnamed axis fixed) at orientation o, frequency f, aperture a.
  func response(o: Int, f: Int, a: Int) -> Double {
    let phases = pi.map { counts[$0] } ?? 1
    var s = 0.0
    for p in 0..<phases {
      var idx = [Int](repeating: 0, count: names.count)
      idx[oi] = o
      if let fi { idx[fi] = f }
      if let pi { idx[pi] = p }
      if let ai { idx[ai] = a }
      s += means[flat(idx)]
    }
    return s / Double(phases)
  }
  let nf = fi.map { counts[$0] } ?? 1
  var best = (o: 0, f: 0, r: -Double.infinity)
  for o in 0..<counts[oi] {
    for f in 0..<nf where response(o: o, f: f, a: largestAperture) > best.r {
      best = (o, f, response(o: o, f: f, a: largestAperture))
    }
  }
  let theta = values[oi]
  let orientationCurve = (0..<counts[oi]).map { response(o: $0, f: best.f, a: largestAperture) }
  var m = V1Measures(preferredOrientation: theta[best.o])
  m.circularVariance = circularVariance(orientationCurve, orientationsDegrees: theta)
  m.orientationBandwidth = orientationBandwidth(orientationCurve, orientationsDegrees: theta)
  m.orthogonalPreferredRatio = orthogonalPreferredRatio(orientationCurve, orientationsDegrees: theta)
  if let fi, counts[fi] >= 3 {
    let curve = (0..<counts[fi]).map { response(o: best.o, f: $0, a: largestAperture) }
    if let t = frequencyTuning(curve, frequencies: values[fi]) {
      m.preferredFrequency = t.peak
      m.frequencyBandwidth = t.bandwidth
    }
    if let fit = fitLogGaussian(frequency: values[fi], response: curve), fit.converged, fit.r2 >= 0.5 {
      m.fittedPeakFrequency = fit.peak
      m.fittedFrequencyBandwidth = fit.bandwidthOctaves
    }
  } else if let fi {
    m.preferredFrequency = values[fi][best.f]
  }
  if let pi, counts[pi] >= 3 {
    let curve = (0..<counts[pi]).map { p -> Double in
      var idx = [Int](repeating: 0, count: names.count)
      idx[oi] = best.o
      if let fi { idx[fi] = best.f }
      idx[pi] = p
      if let ai { idx[ai] = largestAperture }
      return means[flat(idx)]
    }
    m.modulationRatio = modulationRatio(curve, phasesDegrees: values[pi])
  }
  if let ai, let radii = apertureRadius, counts[ai] >= 2 {
    let curve = (0..<counts[ai]).map { response(o: best.o, f: best.f, a: $0) }
    m.surroundSuppression = surroundSuppressionIndex(curve, radii: radii)
    if let k = curve.indices.max(by: { curve[$0] < curve[$1] }) { m.preferredAperture = values[ai][k] }
  }
  return m
}

/// A unit's receptive field measured with a probe at every position of an x-y grid: weights
/// w = |r(x, y) - r_blank| (the response change the probe causes), the centre the w-weighted mean
/// position and the size the w-weighted root-mean-square distance from it (input pixels); `coverage`
/// is the share of probe positions that changed the response. Changes below 1e-5 of the largest are
/// float round-off, not response, and count as none. nil when no probe changed the response.
public struct MeasuredReceptiveField: Sendable, Equatable {
  public var centreX, centreY, size, coverage: Double

  /// `responses[ix * ys.count + iy]` is the response with the probe at (xs[ix], ys[iy]).
  public init?(responses: [Double], xs: [Double], ys: [Double], blank: Double) {
    var total = 0.0
    var sx = 0.0
    var sy = 0.0
    var hits = 0
    let largest = responses.map { abs($0 - blank) }.filter(\.isFinite).max() ?? 0
    let floor = 1e-5 * largest
    for (ix, x) in xs.enumerated() {
      for (iy, y) in ys.enumerated() {
        let w = abs(responses[ix * ys.count + iy] - blank)
        guard w > floor, w.isFinite else { continue }
        total += w
        sx += w * x
        sy += w * y
        hits += 1
      }
    }
    guard total > 0 else { return nil }
    centreX = sx / total
    centreY = sy / total
    var spread = 0.0
    for (ix, x) in xs.enumerated() {
      for (iy, y) in ys.enumerated() {
        let w = abs(responses[ix * ys.count + iy] - blank)
        guard w > floor, w.isFinite else { continue }
        spread += w * ((x - centreX) * (x - centreX) + (y - centreY) * (y - centreY))
      }
    }
    size = (spread / total).squareRoot()
    coverage = Double(hits) / Double(xs.count * ys.count)
  }
}
