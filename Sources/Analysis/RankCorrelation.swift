internal import CGSL

/// Spearman's rank correlation of paired samples: Pearson's correlation (GSL) of their average
/// ranks (ties share the mean rank). NaN when fewer than 2 pairs or either side is constant.
public func spearmanCorrelation(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "spearmanCorrelation: \(a.count) and \(b.count) values")
  guard a.count >= 2 else { return .nan }
  let (ra, rb) = (averageRanks(a), averageRanks(b))
  guard ra.contains(where: { $0 != ra[0] }), rb.contains(where: { $0 != rb[0] }) else { return .nan }
  return ra.withUnsafeBufferPointer { pa in
    rb.withUnsafeBufferPointer { pb in gsl_stats_correlation(pa.baseAddress, 1, pb.baseAddress, 1, a.count) }
  }
}
