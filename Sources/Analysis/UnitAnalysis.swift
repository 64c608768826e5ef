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
/// conditions.
public func analyzeUnits(
  _ observations: [UnitObservations], fdr: Double = 0.05, seed: UInt64 = 1, tuning: TuningModel? = nil,
  contrastAxis: Bool = false
) -> (units: [UnitResult], layers: [LayerSummary]) {
  var results: [UnitResult] = parallelMap(observations) { original in
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
      gain: nil,
      excluded: nil)
    r.groups = o.groups
    r.stratum = o.stratum
    r.duplicateConditions = duplicates
    r.trials = o.attendedTrials?.first?.count ?? 1
    if !(o.attended + o.unattended).allSatisfy(\.isFinite) {
      r.excluded = ExclusionReason.nonFinite
      return r
    }
    r.meanAttended = o.attended.reduce(0, +) / Double(max(1, n))
    r.meanUnattended = o.unattended.reduce(0, +) / Double(max(1, n))
    if n < 2 {
      r.excluded = ExclusionReason.singleCondition
      return r
    }
    if zip(o.attended, o.unattended).allSatisfy({ $0 + $1 == 0 }) {
      r.excluded = ExclusionReason.silent
      return r
    }
    r.tTest = PairedTTest(o.attended, o.unattended)
    r.wilcoxon = WilcoxonSignedRank(o.attended, o.unattended)
    if let at = o.attendedTrials, let ut = o.unattendedTrials {
      r.trialTest = TrialModulationTest(attended: at, unattended: ut)
      if let best = (0..<n).max(by: { o.attended[$0] + o.unattended[$0] < o.attended[$1] + o.unattended[$1] }) {
        r.preferredCondition = o.conditions[best]
        r.preferredConditionTest = PairedTTest(at[best], ut[best])
      }
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
  let included = results.indices.filter { results[$0].excluded == nil }
  let ps = included.map { results[$0].modulationP }
  for (i, q) in zip(included, benjaminiHochberg(ps)) { results[i].q = q }
  for (i, h) in zip(included, holm(ps)) { results[i].holm = h }
  for i in results.indices {
    guard results[i].excluded == nil else { continue }
    let modulated = results[i].q < fdr
    results[i].verdict = modulated ? (results[i].gain?.preferred.rawValue ?? "no fit") : "none"
    if contrastAxis {
      results[i].contrastVerdict = modulated ? (results[i].contrast?.effect.rawValue ?? "no fit") : "none"
    }
  }

  var layers: [LayerSummary] = []
  var groupOrder: [String] = []
  var groupIndex: [String: (layer: String, stratum: String)] = [:]
  for r in results {
    let key = r.layer + "\u{1F}" + r.stratum
    if groupIndex[key] == nil {
      groupOrder.append(key)
      groupIndex[key] = (r.layer, r.stratum)
    }
  }
  let members = Dictionary(grouping: results, by: { $0.layer + "\u{1F}" + $0.stratum })
  for (li, key) in groupOrder.enumerated() {
    let (layer, stratum) = groupIndex[key]!
    let members = members[key]!
    let ok = members.filter { $0.excluded == nil }
    var excluded: [String: Int] = [:]
    for m in members { if let e = m.excluded { excluded[e, default: 0] += 1 } }
    let amis = ok.compactMap(\.ami)
    let fits = ok.compactMap(\.gain)
    func share(_ f: (UnitResult) -> Bool) -> Double {
      ok.isEmpty ? .nan : Double(ok.filter(f).count) / Double(ok.count)
    }
    // Shares of the gain-model verdicts among modulated units with a fit ("none" units have no verdict).
    let modulatedFits = ok.filter { $0.verdict != "none" }.compactMap(\.gain)
    func fitShare(_ m: GainFit.Model) -> Double {
      modulatedFits.isEmpty
        ? .nan : Double(modulatedFits.filter { $0.preferred == m }.count) / Double(modulatedFits.count)
    }
    let mean = amis.isEmpty ? .nan : amis.reduce(0, +) / Double(amis.count)
    var summary = LayerSummary(
      layer: layer, units: members.count, included: ok.count, excluded: excluded, amiMean: mean,
      amiMedian: median(amis),
      amiMeanCI: bootstrapCI(amis, seed: seed &+ UInt64(2 * li)) { $0.reduce(0, +) / Double($0.count) },
      amiMedianCI: bootstrapMedianCI(amis, seed: seed &+ UInt64(2 * li + 1)),
      fractionEnhanced: share { $0.q < fdr && $0.meanAttended > $0.meanUnattended },
      fractionSuppressed: share { $0.q < fdr && $0.meanAttended < $0.meanUnattended },
      fractionMultiplicative: fitShare(.multiplicative), fractionAdditive: fitShare(.additive),
      fractionAffine: fitShare(.affine),
      medianGainPercent: fits.isEmpty ? .nan : 100 * (median(fits.map(\.mulGain)) - 1),
      withoutGainFit: ok.count - fits.count)
    summary.stratum = stratum
    summary.fractionUnmodulated = share { $0.verdict == "none" }
    summary.test = ok.contains { $0.trialTest != nil } ? "F-test over trials" : "paired t-test across conditions"
    if contrastAxis {
      for v in ["none"] + ContrastEffect.allCases.map(\.rawValue) {
        summary.contrastShares[v] = share { $0.contrastVerdict == v }
      }
    }
    if tuning != nil {
      let effects = ok.compactMap(\.effects)
      summary.poorlyFit = ok.count - effects.count
      summary.medianAmplitudeRatio = median(effects.map(\.amplitudeRatio))
      summary.medianWidthRatio = median(effects.map(\.widthRatio))
      summary.medianBaselineChange = median(effects.map(\.baselineChange))
      summary.medianPreferredShift = median(effects.map(\.preferredShift))
    }
    layers.append(summary)
  }
  return (results, layers)
}

/// A number for CSV: empty for NaN/nil, full precision otherwise.
func cell(_ v: Double?) -> String {
  guard let v, !v.isNaN else { return "" }
  if v.isInfinite { return v > 0 ? "inf" : "-inf" }
  return "\(v)"
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

/// Quotes a CSV cell that holds a comma or a quote.
func quoted(_ s: String) -> String {
  s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// units.csv: one row per unit (columns documented in docs/analysis.md); group columns (RF class,
/// subject, ...) follow the unit's name.
public func unitsCSV(_ results: [UnitResult]) -> String {
  var groupNames: [String] = []
  for r in results { for g in r.groups where !groupNames.contains(g.name) { groupNames.append(g.name) } }
  var lines = [
    (["unit"] + groupNames + [
      "layer,n,trials,duplicate_conditions,mean_attended,mean_unattended,t,df,p,trial_f,trial_p,preferred_condition,preferred_t,preferred_p,q_bh,p_holm,d_z,wilcoxon_w,wilcoxon_p,ami,gain_mul,gain_mul_se,additive_offset,additive_offset_se,affine_slope,affine_slope_se,affine_intercept,affine_intercept_se,f_mul_vs_affine,p_mul_vs_affine,aic_mul,aic_add,aic_affine,deming_slope,preferred_model,verdict,fit_r2_attended,fit_r2_unattended,preferred_attended,preferred_unattended,width_attended,width_unattended,amplitude_ratio,width_ratio,baseline_change,preferred_shift,circular_variance_attended,circular_variance_unattended,osi_attended,osi_unattended,nr_rmax_attended,nr_rmax_unattended,nr_c50_attended,nr_c50_unattended,nr_n_attended,nr_n_unattended,nr_b_attended,nr_b_unattended,c50_ratio,c50_ratio_ci_low,c50_ratio_ci_high,rmax_ratio,rmax_ratio_ci_low,rmax_ratio_ci_high,nr_baseline_change,nr_baseline_change_ci_low,nr_baseline_change_ci_high,contrast_verdict,excluded_reason"
    ]).joined(separator: ",")
  ]
  for r in results {
    let t = r.tTest
    let g = r.gain
    let w = r.wilcoxon
    let c = r.contrast
    let labels = Dictionary(r.groups.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
    let cols: [String] =
      [r.unit] + groupNames.map { labels[$0] ?? "" } + [
        r.layer, "\(r.n)", "\(r.trials)", "\(r.duplicateConditions)", cell(r.meanAttended), cell(r.meanUnattended),
        cell(t?.t), t.map { "\($0.df)" } ?? "", cell(t?.p), cell(r.trialTest?.f), cell(r.trialTest?.p),
        r.preferredCondition ?? "", cell(r.preferredConditionTest?.t), cell(r.preferredConditionTest?.p),
        cell(r.q), cell(r.holm), cell(t?.effectSize), cell(w?.statistic), cell(w?.p), cell(r.ami), cell(g?.mulGain),
        cell(g?.mulGainSE),
        cell(g?.addOffset), cell(g?.addOffsetSE), cell(g?.affineSlope), cell(g?.affineSlopeSE),
        cell(g?.affineIntercept),
        cell(g?.affineInterceptSE), cell(g?.fMulVsAffine), cell(g?.pMulVsAffine), cell(g?.aicMul), cell(g?.aicAdd),
        cell(g?.aicAffine),
        cell(g?.demingSlope), g?.preferred.rawValue ?? "", r.verdict, cell(r.fitAttended?.r2),
        cell(r.fitUnattended?.r2),
        cell(r.fitAttended?.preferred), cell(r.fitUnattended?.preferred), cell(r.fitAttended?.width),
        cell(r.fitUnattended?.width),
        cell(r.effects?.amplitudeRatio), cell(r.effects?.widthRatio), cell(r.effects?.baselineChange),
        cell(r.effects?.preferredShift),
        cell(r.circularVarianceAttended), cell(r.circularVarianceUnattended), cell(r.osiAttended),
        cell(r.osiUnattended),
        cell(c?.attended.function.rmax), cell(c?.unattended.function.rmax), cell(c?.attended.function.c50),
        cell(c?.unattended.function.c50), cell(c?.attended.function.exponent), cell(c?.unattended.function.exponent),
        cell(c?.attended.function.baseline), cell(c?.unattended.function.baseline), cell(c?.c50Ratio),
        cell(c?.c50RatioCI.low), cell(c?.c50RatioCI.high), cell(c?.rmaxRatio), cell(c?.rmaxRatioCI.low),
        cell(c?.rmaxRatioCI.high), cell(c?.baselineChange), cell(c?.baselineChangeCI.low),
        cell(c?.baselineChangeCI.high), r.contrastVerdict ?? "",
        r.excluded ?? "",
      ]
    lines.append(cols.map(quoted).joined(separator: ","))
  }
  return lines.joined(separator: "\n") + "\n"
}

/// layers.csv: one row per layer and stratum (the stratum names its group labels, e.g.
/// "rf_class=object"; rows are never pooled across strata).
public func layersCSV(_ layers: [LayerSummary]) -> String {
  var lines = [
    "layer,stratum,units,included,excluded_silent,excluded_single_condition,excluded_nonfinite,test,ami_mean,ami_mean_ci_low,ami_mean_ci_high,ami_median,ami_median_ci_low,ami_median_ci_high,fraction_enhanced,fraction_suppressed,fraction_unmodulated,fraction_multiplicative,fraction_additive,fraction_affine,median_gain_percent,without_gain_fit,poorly_fit,median_amplitude_ratio,median_width_ratio,median_baseline_change,median_preferred_shift,fraction_contrast_gain,fraction_response_gain,fraction_activity_gain"
  ]
  for l in layers {
    lines.append(
      [
        l.layer, quoted(l.stratum), "\(l.units)", "\(l.included)", "\(l.excluded[ExclusionReason.silent] ?? 0)",
        "\(l.excluded[ExclusionReason.singleCondition] ?? 0)",
        "\(l.excluded[ExclusionReason.nonFinite] ?? 0)", l.test, cell(l.amiMean), cell(l.amiMeanCI.low),
        cell(l.amiMeanCI.high),
        cell(l.amiMedian),
        cell(l.amiMedianCI.low), cell(l.amiMedianCI.high), cell(l.fractionEnhanced), cell(l.fractionSuppressed),
        cell(l.fractionUnmodulated),
        cell(l.fractionMultiplicative),
        cell(l.fractionAdditive), cell(l.fractionAffine), cell(l.medianGainPercent), "\(l.withoutGainFit)",
        "\(l.poorlyFit)",
        cell(l.medianAmplitudeRatio), cell(l.medianWidthRatio), cell(l.medianBaselineChange),
        cell(l.medianPreferredShift), cell(l.contrastShares[ContrastEffect.contrastGain.rawValue]),
        cell(l.contrastShares[ContrastEffect.responseGain.rawValue]),
        cell(l.contrastShares[ContrastEffect.activityGain.rawValue]),
      ].joined(separator: ","))
  }
  return lines.joined(separator: "\n") + "\n"
}
