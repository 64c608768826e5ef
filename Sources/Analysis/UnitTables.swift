import Foundation

/// A number for CSV: empty for NaN/nil, full precision otherwise.
func cell(_ v: Double?) -> String {
  guard let v, !v.isNaN else { return "" }
  if v.isInfinite { return v > 0 ? "inf" : "-inf" }
  return "\(v)"
}

/// Quotes a CSV cell that holds a comma or a quote.
func quoted(_ s: String) -> String {
  // A byte scan: Foundation's contains(_:) on String costs more than the rest of a unit's row.
  s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") }
    ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

/// units.csv: one row per unit (columns documented in docs/analysis.md); group columns (RF class,
/// subject, ...) follow the unit's name.
public func unitsCSV(_ results: [UnitResult]) -> String {
  var groupNames: [String] = []
  for r in results { for g in r.groups where !groupNames.contains(g.name) { groupNames.append(g.name) } }
  var lines = [unitsCSVHeader(groupNames: groupNames)]
  for r in results { lines.append(r.csvRow(groupNames: groupNames)) }
  return lines.joined(separator: "\n") + "\n"
}

/// The header line of units.csv with the group columns `groupNames` after the unit's name.
public func unitsCSVHeader(groupNames: [String]) -> String {
  (["unit"] + groupNames + [
    "layer,n,trials,duplicate_conditions,mean_attended,mean_unattended,t,df,p,trial_f,trial_p,preferred_condition,preferred_t,preferred_p,q_bh,p_holm,d_z,wilcoxon_w,wilcoxon_p,ami,gain_mul,gain_mul_se,additive_offset,additive_offset_se,affine_slope,affine_slope_se,affine_intercept,affine_intercept_se,f_mul_vs_affine,p_mul_vs_affine,aic_mul,aic_add,aic_affine,deming_slope,preferred_model,verdict,fit_r2_attended,fit_r2_unattended,preferred_attended,preferred_unattended,width_attended,width_unattended,amplitude_ratio,width_ratio,baseline_change,preferred_shift,circular_variance_attended,circular_variance_unattended,osi_attended,osi_unattended,nr_rmax_attended,nr_rmax_unattended,nr_c50_attended,nr_c50_unattended,nr_n_attended,nr_n_unattended,nr_b_attended,nr_b_unattended,c50_ratio,c50_ratio_ci_low,c50_ratio_ci_high,rmax_ratio,rmax_ratio_ci_low,rmax_ratio_ci_high,nr_baseline_change,nr_baseline_change_ci_low,nr_baseline_change_ci_high,contrast_verdict,excluded_reason"
  ]).joined(separator: ",")
}

extension UnitResult {
  /// The unit's units.csv line (no newline), its group labels in the columns `groupNames`.
  public func csvRow(groupNames: [String]) -> String {
    let r = self
    let t = r.tTest
    let g = r.gain
    let w = r.wilcoxon
    let c = r.contrast
    let cols: [String] =
      [r.unit] + groupNames.map { name in r.groups.first { $0.name == name }?.value ?? "" } + [
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
    return cols.map(quoted).joined(separator: ",")
  }
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
