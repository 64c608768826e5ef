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
