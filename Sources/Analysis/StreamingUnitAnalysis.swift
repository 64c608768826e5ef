import Foundation

/// `analyzeUnits` over units that are never all in memory at once: the same results and summaries,
/// computed in two passes over chunks of `chunk` units, each unit's observations built on demand by
/// `observation(k)` (called from several threads at once).
///
/// Pass 1 screens every unit (exclusions and the modulation test behind q, cheap) and keeps one p
/// per unit; the corrections across units follow. Pass 2 runs each chunk's full statistics (fits
/// included) in parallel, applies q, Holm p and verdicts, hands the chunk to `emit` in unit order and
/// keeps only a `UnitDigest` per unit for the layer summaries. Memory: the chunk's observations and
/// results, plus about 140 bytes per unit (p during pass 1, then q, Holm p and the digest).
public struct StreamingUnitAnalysis {
  public var fdr = 0.05
  public var seed: UInt64 = 1
  public var tuning: TuningModel?
  public var contrastAxis = false
  /// Units per chunk (at least 1).
  public var chunk = 4096

  public init(fdr: Double = 0.05, seed: UInt64 = 1, tuning: TuningModel? = nil, contrastAxis: Bool = false) {
    self.fdr = fdr
    self.seed = seed
    self.tuning = tuning
    self.contrastAxis = contrastAxis
  }

  /// Analyses units 0..<count; `emit(first, observations, results)` receives each chunk's
  /// observations and final results (unit `first` onwards); `progress(done, total)` is called with 0
  /// before pass 1 and then follows pass 2.
  /// Returns the layer summaries.
  public func run(
    count: Int, observation: (Int) -> UnitObservations,
    emit: (_ first: Int, _ observations: [UnitObservations], _ results: [UnitResult]) throws -> Void,
    progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
  ) rethrows -> [LayerSummary] {
    let step = max(1, chunk)
    progress(0, count)
    var ps: [Double?] = []
    ps.reserveCapacity(count)
    for first in stride(from: 0, to: count, by: step) {
      let screened = parallelMap(Array(first..<min(count, first + step))) {
        screenUnit(observation($0), tuning: tuning).1
      }
      ps.append(contentsOf: screened.map { $0.excluded == nil ? $0.modulationP : nil })
    }
    let corrections = MultipleComparisons(ps)
    ps = []
    var groups = UnitGroups()
    var digests: [UnitDigest] = []
    digests.reserveCapacity(count)
    for first in stride(from: 0, to: count, by: step) {
      let analysed = parallelMap(Array(first..<min(count, first + step))) { k in
        let o = observation(k)
        return (o, analyzeUnit(o, tuning: tuning, contrastAxis: contrastAxis))
      }
      let obs = analysed.map(\.0)
      var results = analysed.map(\.1)
      for i in results.indices {
        corrections.apply(to: &results[i], index: first + i, fdr: fdr, contrastAxis: contrastAxis)
        digests.append(UnitDigest(results[i], group: groups.index(results[i].layer, results[i].stratum)))
      }
      try emit(first, obs, results)
      progress(first + obs.count, count)
    }
    return summarizeLayers(
      digests, groups: groups, seed: seed, tuning: tuning != nil, contrastAxis: contrastAxis)
  }
}
