import Foundation

/// Statistics of one unit (definitions: A and U are the unit's attended and unattended responses over
/// its stimulus conditions; means are over conditions).
public struct UnitResult: Sendable {
  public var unit: String
  public var layer: String
  public var n: Int
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
}

/// Exclusion reasons, as written to the tables.
public enum ExclusionReason {
  public static let nonFinite = "non-finite values"
  public static let singleCondition = "fewer than 2 conditions"
  public static let silent = "silent (attended + unattended = 0 everywhere)"
}

/// Runs every per-unit statistic, the multiple-comparison corrections across included units and the
/// per-layer summaries (bootstrap CIs seeded by `seed`). With `tuning`, the conditions are read as
/// values of a tuning axis and each phase's curve is fitted (plus circular variance and OSI when the
/// model has period 180).
public func analyzeUnits(
  _ observations: [UnitObservations], fdr: Double = 0.05, seed: UInt64 = 1, tuning: TuningModel? = nil
) -> (units: [UnitResult], layers: [LayerSummary]) {
  var results: [UnitResult] = parallelMap(observations) { o in
    let n = o.attended.count
    var r = UnitResult(
      unit: o.unit, layer: o.layer, n: n, meanAttended: .nan, meanUnattended: .nan, tTest: nil, wilcoxon: nil, ami: nil,
      gain: nil,
      excluded: nil)
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
  let ps = included.map { results[$0].tTest?.p ?? .nan }
  for (i, q) in zip(included, benjaminiHochberg(ps)) { results[i].q = q }
  for (i, h) in zip(included, holm(ps)) { results[i].holm = h }

  var layers: [LayerSummary] = []
  var layerOrder: [String] = []
  for r in results where !layerOrder.contains(r.layer) { layerOrder.append(r.layer) }
  for (li, layer) in layerOrder.enumerated() {
    let members = results.filter { $0.layer == layer }
    let ok = members.filter { $0.excluded == nil }
    var excluded: [String: Int] = [:]
    for m in members { if let e = m.excluded { excluded[e, default: 0] += 1 } }
    let amis = ok.compactMap(\.ami)
    let fits = ok.compactMap(\.gain)
    func share(_ f: (UnitResult) -> Bool) -> Double {
      ok.isEmpty ? .nan : Double(ok.filter(f).count) / Double(ok.count)
    }
    func fitShare(_ m: GainFit.Model) -> Double {
      fits.isEmpty ? .nan : Double(fits.filter { $0.preferred == m }.count) / Double(fits.count)
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

/// units.csv: one row per unit (columns documented in docs/analysis.md).
public func unitsCSV(_ results: [UnitResult]) -> String {
  var lines = [
    "unit,layer,n,mean_attended,mean_unattended,t,df,p,q_bh,p_holm,d_z,wilcoxon_w,wilcoxon_p,ami,gain_mul,gain_mul_se,additive_offset,additive_offset_se,affine_slope,affine_slope_se,affine_intercept,affine_intercept_se,f_mul_vs_affine,p_mul_vs_affine,aic_mul,aic_add,aic_affine,deming_slope,preferred_model,fit_r2_attended,fit_r2_unattended,preferred_attended,preferred_unattended,width_attended,width_unattended,amplitude_ratio,width_ratio,baseline_change,preferred_shift,circular_variance_attended,circular_variance_unattended,osi_attended,osi_unattended,excluded_reason"
  ]
  for r in results {
    let t = r.tTest
    let g = r.gain
    let w = r.wilcoxon
    let cols: [String] = [
      r.unit, r.layer, "\(r.n)", cell(r.meanAttended), cell(r.meanUnattended), cell(t?.t), t.map { "\($0.df)" } ?? "",
      cell(t?.p),
      cell(r.q), cell(r.holm), cell(t?.effectSize), cell(w?.statistic), cell(w?.p), cell(r.ami), cell(g?.mulGain),
      cell(g?.mulGainSE),
      cell(g?.addOffset), cell(g?.addOffsetSE), cell(g?.affineSlope), cell(g?.affineSlopeSE), cell(g?.affineIntercept),
      cell(g?.affineInterceptSE), cell(g?.fMulVsAffine), cell(g?.pMulVsAffine), cell(g?.aicMul), cell(g?.aicAdd),
      cell(g?.aicAffine),
      cell(g?.demingSlope), g?.preferred.rawValue ?? "", cell(r.fitAttended?.r2), cell(r.fitUnattended?.r2),
      cell(r.fitAttended?.preferred), cell(r.fitUnattended?.preferred), cell(r.fitAttended?.width),
      cell(r.fitUnattended?.width),
      cell(r.effects?.amplitudeRatio), cell(r.effects?.widthRatio), cell(r.effects?.baselineChange),
      cell(r.effects?.preferredShift),
      cell(r.circularVarianceAttended), cell(r.circularVarianceUnattended), cell(r.osiAttended), cell(r.osiUnattended),
      r.excluded ?? "",
    ]
    lines.append(cols.map { $0.contains(",") ? "\"\($0)\"" : $0 }.joined(separator: ","))
  }
  return lines.joined(separator: "\n") + "\n"
}

/// layers.csv: one row per layer.
public func layersCSV(_ layers: [LayerSummary]) -> String {
  var lines = [
    "layer,units,included,excluded_silent,excluded_single_condition,excluded_nonfinite,ami_mean,ami_mean_ci_low,ami_mean_ci_high,ami_median,ami_median_ci_low,ami_median_ci_high,fraction_enhanced,fraction_suppressed,fraction_multiplicative,fraction_additive,fraction_affine,median_gain_percent,without_gain_fit,poorly_fit,median_amplitude_ratio,median_width_ratio,median_baseline_change,median_preferred_shift"
  ]
  for l in layers {
    lines.append(
      [
        l.layer, "\(l.units)", "\(l.included)", "\(l.excluded[ExclusionReason.silent] ?? 0)",
        "\(l.excluded[ExclusionReason.singleCondition] ?? 0)",
        "\(l.excluded[ExclusionReason.nonFinite] ?? 0)", cell(l.amiMean), cell(l.amiMeanCI.low), cell(l.amiMeanCI.high),
        cell(l.amiMedian),
        cell(l.amiMedianCI.low), cell(l.amiMedianCI.high), cell(l.fractionEnhanced), cell(l.fractionSuppressed),
        cell(l.fractionMultiplicative),
        cell(l.fractionAdditive), cell(l.fractionAffine), cell(l.medianGainPercent), "\(l.withoutGainFit)",
        "\(l.poorlyFit)",
        cell(l.medianAmplitudeRatio), cell(l.medianWidthRatio), cell(l.medianBaselineChange),
        cell(l.medianPreferredShift),
      ].joined(separator: ","))
  }
  return lines.joined(separator: "\n") + "\n"
}
