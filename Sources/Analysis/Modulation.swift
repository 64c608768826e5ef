import Foundation

/// Attention modulation index (A - U) / (A + U), in [-1, 1]; nil when A + U = 0.
public func modulationIndex(attended a: Double, unattended u: Double) -> Double? {
  a + u == 0 ? nil : (a - u) / (a + u)
}

/// Circular variance of an orientation tuning curve (Ringach): 1 - |sum r_k e^{2 i theta_k}| / sum |r_k|,
/// theta in degrees; nil for an all-zero curve.
public func circularVariance(_ responses: [Double], orientationsDegrees theta: [Double]) -> Double? {
  var re = 0.0
  var im = 0.0
  var total = 0.0
  for (r, t) in zip(responses, theta) {
    re += r * cos(2 * t * Double.pi / 180)
    im += r * sin(2 * t * Double.pi / 180)
    total += Swift.abs(r)
  }
  // Clamped: with one non-zero response the ratio is 1 up to rounding, which can leave -2e-16.
  return total == 0 ? nil : min(1, max(0, 1 - (re * re + im * im).squareRoot() / total))
}

/// Orientation selectivity index (R_pref - R_orth) / (R_pref + R_orth): R_pref the peak, R_orth the
/// response at the sampled orientation nearest to preferred + 90 degrees.
public func orientationSelectivity(_ responses: [Double], orientationsDegrees theta: [Double]) -> Double? {
  guard let peak = responses.indices.max(by: { responses[$0] < responses[$1] }) else { return nil }
  let target = (theta[peak] + 90).truncatingRemainder(dividingBy: 180)
  func distance(_ a: Double) -> Double {
    let d = Swift.abs(a.truncatingRemainder(dividingBy: 180) - target)
    return min(d, 180 - d)
  }
  let orth = theta.indices.min { distance(theta[$0]) < distance(theta[$1]) }!
  let s = responses[peak] + responses[orth]
  return s == 0 ? nil : (responses[peak] - responses[orth]) / s
}

/// A seeded bootstrap confidence interval for a statistic of `x` (percentile method).
public func bootstrapCI(
  _ x: [Double], level: Double = 0.95, resamples: Int = 2000, seed: UInt64, statistic: ([Double]) -> Double
) -> (low: Double, high: Double) {
  guard x.count > 1 else { return (x.first ?? .nan, x.first ?? .nan) }
  var draws = BootstrapDraws(seed: seed)
  var stats = [Double]()
  stats.reserveCapacity(resamples)
  var sample = [Double](repeating: 0, count: x.count)
  for _ in 0..<resamples {
    for i in 0..<x.count { sample[i] = x[draws.index(below: x.count)] }
    stats.append(statistic(sample))
  }
  return percentileInterval(&stats, level: level)
}

/// `bootstrapCI(x, statistic: median)` with the same draws and result, in O(n) per resample instead
/// of a sort: x is sorted once, each resample only counts how often each rank was drawn, and the
/// median is read off the cumulative counts (used for the per-layer median AMI of ~10^4 units).
public func bootstrapMedianCI(_ x: [Double], level: Double = 0.95, resamples: Int = 2000, seed: UInt64) -> (
  low: Double, high: Double
) {
  guard x.count > 1 else { return (x.first ?? .nan, x.first ?? .nan) }
  let n = x.count
  var draws = BootstrapDraws(seed: seed)
  let order = x.indices.sorted { x[$0] < x[$1] }
  let sorted = order.map { x[$0] }
  var rank = [Int](repeating: 0, count: n)
  for (r, i) in order.enumerated() { rank[i] = r }
  var counts = [Int](repeating: 0, count: n)
  var stats = [Double]()
  stats.reserveCapacity(resamples)
  // The resample's sorted positions that make its median.
  let upper = n / 2
  let lower = n % 2 == 1 ? upper : upper - 1
  for _ in 0..<resamples {
    for i in 0..<n { counts[i] = 0 }
    for _ in 0..<n { counts[rank[draws.index(below: n)]] += 1 }
    var seen = 0
    var low = Double.nan
    for r in 0..<n where counts[r] > 0 {
      if low.isNaN && seen + counts[r] > lower { low = sorted[r] }
      if seen + counts[r] > upper {
        stats.append((low + sorted[r]) / 2)
        break
      }
      seen += counts[r]
    }
  }
  return percentileInterval(&stats, level: level)
}

/// The resampling indices of the bootstraps: SplitMix64 from the seed, index = draw mod n.
struct BootstrapDraws {
  var state: UInt64
  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  mutating func index(below n: Int) -> Int {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Int((z ^ (z >> 31)) % UInt64(n))
  }
}

/// The percentile interval of bootstrap statistics (sorted in place).
func percentileInterval(_ stats: inout [Double], level: Double) -> (low: Double, high: Double) {
  stats.sort()
  let resamples = stats.count
  let lo = Int(((1 - level) / 2 * Double(resamples)).rounded(.down))
  let hi = Int(((1 + level) / 2 * Double(resamples)).rounded(.down)) - 1
  return (stats[max(0, lo)], stats[min(resamples - 1, max(0, hi))])
}

/// The median of a non-empty array.
public func median(_ x: [Double]) -> Double {
  let s = x.sorted()
  guard !s.isEmpty else { return .nan }
  return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
