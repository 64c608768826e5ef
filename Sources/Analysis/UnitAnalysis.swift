import Foundation

/// Statistics of one unit (definitions: A and U are the unit's attended and unattended responses over
/// its stimulus conditions, trial means when there are trials; means are over conditions).
public struct UnitResult: Sendable {
  public var unit: String
  public var layer: String
  /// The unit's group labels (receptive-field class, subject, ...) and the stratum they make.
  public var groups: [(name: String, value: String)] = []
  public var stratum: String = ""
  public var n: Int
  /// Trials per condition (1 without trials).
  public var trials: Int = 1
  /// Conditions dropped because a periodic axis repeats them (0 and 180 degrees of orientation).
  public var duplicateConditions: Int = 0
  /// With trials: the F-test of attention at any condition (paired trial differences), and the paired
  /// t-test across trials at the preferred condition (largest mean of A and U) with its condition.
  public var trialTest: TrialModulationTest?
  public var preferredConditionTest: PairedTTest?
  public var preferredCondition: String?
  /// The gain-model verdict: "none" when attention does not significantly modulate the unit (q of the
  /// modulation test >= the FDR level), else the preferred gain model; "no fit" when modulated but
  /// A cannot be regressed on U.
  public var verdict: String = ""
  /// Contrast axes: both phases' Naka-Rushton fits and the effect; the verdict is "none" when the unit
  /// is not significantly modulated.
  public var contrast: ContrastGainFit?
  public var contrastVerdict: String?
  public var meanAttended, meanUnattended: Double
  public var tTest: PairedTTest?
  public var wilcoxon: WilcoxonSignedRank?
  /// Benjamini-Hochberg q of the t-test p across all included units.
  public var q: Double = .nan
  /// Holm-adjusted p.
  public var holm: Double = .nan
  /// AMI of the mean responses.
  public var ami: Double?
  public var gain: GainFit?
  /// Fitted tuning curves (when the conditions are values of a tuning axis).
  public var fitAttended, fitUnattended: TuningFit?
  /// Attention effects on the fitted parameters; nil when either fit is poor (R^2 < 0.5 or not converged).
  public var effects: TuningEffects?
  /// Circular variance and orientation selectivity of each phase (orientation axes only).
  public var circularVarianceAttended, circularVarianceUnattended, osiAttended, osiUnattended: Double?
  /// Why the unit was excluded from the statistics, or nil when included.
  public var excluded: String?
}

/// Per-layer summary of the included units.
public struct LayerSummary: Sendable {
  public var layer: String
  public var units: Int
  public var included: Int
  /// Excluded units by reason.
  public var excluded: [String: Int]
  public var amiMean, amiMedian: Double
  public var amiMeanCI, amiMedianCI: (low: Double, high: Double)
  /// Included units with q < fdr and attended above (enhanced) or below (suppressed) unattended.
  public var fractionEnhanced, fractionSuppressed: Double
  /// Among units with a gain fit: share of each verdict (see `GainFit.preferred`).
  public var fractionMultiplicative, fractionAdditive, fractionAffine: Double
  /// Median multiplicative gain, as percent change (100 (m - 1)).
  public var medianGainPercent: Double
  /// Units whose gain could not be fitted (fewer than 3 conditions, or constant U).
  public var withoutGainFit: Int
  /// Included units whose tuning fits are poor (R^2 < 0.5 or not converged in either phase), so they
  /// have no tuning-parameter effects; and the medians of those effects over the well-fitted units.
  public var poorlyFit: Int = 0
  public var medianAmplitudeRatio: Double = .nan, medianWidthRatio: Double = .nan
  public var medianBaselineChange: Double = .nan, medianPreferredShift: Double = .nan
  /// The stratum (group labels) the summary covers; "" when units have no groups.
  public var stratum: String = ""
  /// Share of included units whose verdict is "none" (not modulated after FDR).
  public var fractionUnmodulated: Double = .nan
  /// Contrast axes: share of included units per contrast verdict (none, contrast, response, activity gain).
  public var contrastShares: [String: Double] = [:]
  /// The test behind q: "F-test over trials" or "paired t-test across conditions".
  public var test: String = ""
}

/// Exclusion reasons, as written to the tables.
public enum ExclusionReason {
  public static let nonFinite = "non-finite values"
  public static let singleCondition = "fewer than 2 conditions"
  public static let silent = "silent (attended + unattended = 0 everywhere)"
}

/// Runs every per-unit statistic, the multiple-comparison corrections across included units and the
/// summaries per layer and stratum (bootstrap CIs seeded by `seed`). With `tuning`, the conditions are
/// read as values of a tuning axis and each phase's curve is fitted (plus circular variance and OSI
/// when the model has period 180); a periodic axis's repeated values (0 and 180 degrees) count once.
/// With `contrastAxis`, the conditions are contrasts and both phases get Naka-Rushton fits. The test
/// behind each unit's q is the trial F-test when the unit has trials, else the paired t-test across
/// conditions. Holds every unit's results; `StreamingUnitAnalysis` gives the same numbers in memory
/// that does not grow with the units' results.
public func analyzeUnits(
  _ observations: [UnitObservations], fdr: Double = 0.05, seed: UInt64 = 1, tuning: TuningModel? = nil,
  contrastAxis: Bool = false
) -> (units: [UnitResult], layers: [LayerSummary]) {
  var results = parallelMap(observations) { analyzeUnit($0, tuning: tuning, contrastAxis: contrastAxis) }
  let corrections = MultipleComparisons(results.map { $0.excluded == nil ? $0.modulationP : nil })
  var groups = UnitGroups()
  var digests: [UnitDigest] = []
  digests.reserveCapacity(results.count)
  for i in results.indices {
    corrections.apply(to: &results[i], index: i, fdr: fdr, contrastAxis: contrastAxis)
    digests.append(UnitDigest(results[i], group: groups.index(results[i].layer, results[i].stratum)))
  }
  let layers = summarizeLayers(
    digests, groups: groups, seed: seed, tuning: tuning != nil, contrastAxis: contrastAxis)
  return (results, layers)
}

/// One unit's statistics before the corrections across units (q, Holm p and verdicts are set by
/// `MultipleComparisons.apply`); see `analyzeUnits` for the definitions.
public func analyzeUnit(_ original: UnitObservations, tuning: TuningModel?, contrastAxis: Bool) -> UnitResult {
  var (o, r) = screenUnit(original, tuning: tuning)
  guard r.excluded == nil else { return r }
  let n = o.attended.count
  r.wilcoxon = WilcoxonSignedRank(o.attended, o.unattended)
  if let at = o.attendedTrials, let ut = o.unattendedTrials,
    let best = (0..<n).max(by: { o.attended[$0] + o.unattended[$0] < o.attended[$1] + o.unattended[$1] })
  {
    r.preferredCondition = o.conditions[best]
    r.preferredConditionTest = PairedTTest(at[best], ut[best])
  }
  if contrastAxis {
    let c = o.conditions.compactMap(Double.init)
    if c.count == n { r.contrast = ContrastGainFit(contrast: c, attended: o.attended, unattended: o.unattended) }
  }
  r.ami = modulationIndex(attended: r.meanAttended, unattended: r.meanUnattended)
  r.gain = GainFit(attended: o.attended, unattended: o.unattended)
  if let tuning {
    let x = o.conditions.compactMap(Double.init)
    if x.count == n {
      r.fitAttended = fitTuning(x: x, y: o.attended, model: tuning)
      r.fitUnattended = fitTuning(x: x, y: o.unattended, model: tuning)
      if let fa = r.fitAttended, let fu = r.fitUnattended, fa.converged, fu.converged, fa.r2 >= 0.5, fu.r2 >= 0.5 {
        r.effects = TuningEffects(attended: fa, unattended: fu)
      }
      if tuning == .wrappedGaussian(period: 180) || tuning == .vonMises(period: 180) {
        r.circularVarianceAttended = circularVariance(o.attended, orientationsDegrees: x)
        r.circularVarianceUnattended = circularVariance(o.unattended, orientationsDegrees: x)
        r.osiAttended = orientationSelectivity(o.attended, orientationsDegrees: x)
        r.osiUnattended = orientationSelectivity(o.unattended, orientationsDegrees: x)
      }
    }
  }
  return r
}

/// The first, cheap part of a unit's statistics: a periodic axis's repeated conditions dropped, the
/// exclusions, the means and the modulation tests behind q (what the corrections across units need).
/// Returns the observations as analysed and the partial result.
func screenUnit(_ original: UnitObservations, tuning: TuningModel?) -> (UnitObservations, UnitResult) {
  var o = original
  var duplicates = 0
  if let period = tuning?.period {
    // Keep the first of conditions that are one period apart.
    var seen: [Double] = []
    var keep: [Int] = []
    for (i, c) in o.conditions.enumerated() {
      guard let v = Double(c) else {
        keep.append(i)
        continue
      }
      var w = v.truncatingRemainder(dividingBy: period)
      if w < 0 { w += period }
      if seen.contains(where: { abs($0 - w) < 1e-9 * period }) { continue }
      seen.append(w)
      keep.append(i)
    }
    duplicates = o.conditions.count - keep.count
    if duplicates > 0 {
      o.conditions = keep.map { o.conditions[$0] }
      o.attended = keep.map { o.attended[$0] }
      o.unattended = keep.map { o.unattended[$0] }
      o.attendedTrials = o.attendedTrials.map { t in keep.map { t[$0] } }
      o.unattendedTrials = o.unattendedTrials.map { t in keep.map { t[$0] } }
    }
  }
  let n = o.attended.count
  var r = UnitResult(
    unit: o.unit, layer: o.layer, n: n, meanAttended: .nan, meanUnattended: .nan, tTest: nil, wilcoxon: nil, ami: nil,
    gain: nil, excluded: nil)
  r.groups = o.groups
  r.stratum = o.stratum
  r.duplicateConditions = duplicates
  r.trials = o.attendedTrials?.first?.count ?? 1
  if !(o.attended.allSatisfy(\.isFinite) && o.unattended.allSatisfy(\.isFinite)) {
    r.excluded = ExclusionReason.nonFinite
    return (o, r)
  }
  r.meanAttended = o.attended.reduce(0, +) / Double(max(1, n))
  r.meanUnattended = o.unattended.reduce(0, +) / Double(max(1, n))
  if n < 2 {
    r.excluded = ExclusionReason.singleCondition
    return (o, r)
  }
  if zip(o.attended, o.unattended).allSatisfy({ $0 + $1 == 0 }) {
    r.excluded = ExclusionReason.silent
    return (o, r)
  }
  r.tTest = PairedTTest(o.attended, o.unattended)
  if let at = o.attendedTrials, let ut = o.unattendedTrials {
    r.trialTest = TrialModulationTest(attended: at, unattended: ut)
  }
  return (o, r)
}

extension UnitResult {
  /// The p-value behind the unit's q: the trial F-test when there are trials, else the paired t-test
  /// across conditions.
  public var modulationP: Double { trialTest?.p ?? tTest?.p ?? .nan }
}

extension TuningModel {
  /// The axis period of a periodic model (nil for a plain Gaussian).
  public var period: Double? {
    switch self {
    case .wrappedGaussian(let p), .vonMises(let p): return p
    case .gaussian: return nil
    }
  }
}
