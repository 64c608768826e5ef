/// Benjamini-Hochberg adjusted p-values (q-values): q_(i) = min over j >= i of p_(j) m / j, capped at 1,
/// as scipy.stats.false_discovery_control(method='bh'). NaN p-values stay NaN and do not count in m.
public func benjaminiHochberg(_ p: [Double]) -> [Double] {
  let valid = p.indices.filter { !p[$0].isNaN }
  let m = Double(valid.count)
  let order = valid.sorted { p[$0] < p[$1] }
  var q = [Double](repeating: .nan, count: p.count)
  var running = 1.0
  for (rank, i) in order.enumerated().reversed() {
    running = min(running, p[i] * m / Double(rank + 1))
    q[i] = min(1, running)
  }
  return q
}

/// Holm step-down adjusted p-values: p_(i) (m - i + 1), made monotone, capped at 1.
public func holm(_ p: [Double]) -> [Double] {
  let valid = p.indices.filter { !p[$0].isNaN }
  let m = valid.count
  let order = valid.sorted { p[$0] < p[$1] }
  var adjusted = [Double](repeating: .nan, count: p.count)
  var running = 0.0
  for (rank, i) in order.enumerated() {
    running = max(running, min(1, p[i] * Double(m - rank)))
    adjusted[i] = running
  }
  return adjusted
}

/// The corrections across included units: Benjamini-Hochberg q and Holm-adjusted p of each unit's
/// modulation p (in unit order), and the verdicts that follow from q.
public struct MultipleComparisons: Sendable {
  /// Per unit, q and Holm p (NaN for excluded units).
  public var q, holm: [Double]

  /// Corrects the p-values of the included units (nil marks an excluded unit).
  public init(_ ps: [Double?]) {
    q = [Double](repeating: .nan, count: ps.count)
    holm = q
    let included = ps.indices.filter { ps[$0] != nil }
    let values = included.map { ps[$0]! }
    for (i, v) in zip(included, benjaminiHochberg(values)) { q[i] = v }
    for (i, v) in zip(included, Analysis.holm(values)) { holm[i] = v }
  }

  /// Sets unit `index`'s q, Holm p and verdicts: "none" when q >= fdr, else the preferred gain model
  /// ("no fit" without one), and likewise the contrast verdict on contrast axes.
  public func apply(to r: inout UnitResult, index: Int, fdr: Double, contrastAxis: Bool) {
    r.q = q[index]
    r.holm = holm[index]
    guard r.excluded == nil else { return }
    let modulated = r.q < fdr
    r.verdict = modulated ? (r.gain?.preferred.rawValue ?? "no fit") : "none"
    if contrastAxis { r.contrastVerdict = modulated ? (r.contrast?.effect.rawValue ?? "no fit") : "none" }
  }
}
