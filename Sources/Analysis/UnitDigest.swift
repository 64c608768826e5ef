import Foundation

/// What the layer summaries need of one unit after its corrections (104 bytes of stride instead of
/// the full `UnitResult`), so that the summaries of a million units fit in memory.
public struct UnitDigest: Sendable {
  /// Index of the unit's layer and stratum in a `UnitGroups`.
  public var group: Int32
  public var excluded: String?
  /// Included and q < fdr (its verdict is not "none").
  public var modulated: Bool
  /// The sign of mean attended - mean unattended.
  public var direction: Int8
  public var ami: Double?
  /// The multiplicative gain and preferred gain model, when a gain model was fitted.
  public var mulGain: Double?
  public var preferredModel: GainFit.Model?
  public var effects: TuningEffects?
  /// Contrast axes: the effect of the unit's contrast fits, when fitted.
  public var contrastEffect: ContrastEffect?
  public var hasTrialTest: Bool

  /// The digest of a corrected result (see `MultipleComparisons.apply`), in group `group`.
  public init(_ r: UnitResult, group: Int) {
    self.group = Int32(group)
    excluded = r.excluded
    modulated = r.excluded == nil && r.verdict != "none"
    direction = r.meanAttended > r.meanUnattended ? 1 : r.meanAttended < r.meanUnattended ? -1 : 0
    ami = r.ami
    mulGain = r.gain?.mulGain
    preferredModel = r.gain?.preferred
    effects = r.effects
    contrastEffect = r.contrast?.effect
    hasTrialTest = r.trialTest != nil
  }
}

/// The (layer, stratum) groups of units in order of first appearance: the rows of the layer table.
public struct UnitGroups: Sendable {
  public private(set) var keys: [(layer: String, stratum: String)] = []
  private var index: [String: Int] = [:]

  public init() {}

  /// The group of a unit of `layer` in `stratum`, added when new.
  public mutating func index(_ layer: String, _ stratum: String) -> Int {
    let key = layer + "\u{1F}" + stratum
    if let i = index[key] { return i }
    keys.append((layer, stratum))
    index[key] = keys.count - 1
    return keys.count - 1
  }
}

/// Per layer and stratum (in `groups` order), the summary of its units' digests (in unit order):
/// counts and exclusions, AMI mean and median with seeded bootstrap 95% CIs (seed + 2 g and
/// seed + 2 g + 1 for group g), shares of enhanced / suppressed / unmodulated units, the
/// gain-model shares among modulated units with a fit, the median multiplicative gain, and with
/// `tuning` the medians of the tuning-fit effects, with `contrastAxis` the contrast-verdict shares.
public func summarizeLayers(
  _ digests: [UnitDigest], groups: UnitGroups, seed: UInt64, tuning: Bool, contrastAxis: Bool
) -> [LayerSummary] {
  var members = [[Int]](repeating: [], count: groups.keys.count)
  for (i, d) in digests.enumerated() { members[Int(d.group)].append(i) }
  // Layers are summarised in parallel (each one's bootstrap is seeded by its index alone).
  return parallelMap(Array(groups.keys.enumerated()), grain: 1) { li, key in
    let all = members[li]
    let ok = all.filter { digests[$0].excluded == nil }.map { digests[$0] }
    var excluded: [String: Int] = [:]
    for i in all { if let e = digests[i].excluded { excluded[e, default: 0] += 1 } }
    let amis = ok.compactMap(\.ami)
    let gains = ok.compactMap(\.mulGain)
    func share(_ f: (UnitDigest) -> Bool) -> Double {
      ok.isEmpty ? .nan : Double(ok.filter(f).count) / Double(ok.count)
    }
    // Shares of the gain-model verdicts among modulated units with a fit ("none" units have no verdict).
    let modulatedModels = ok.filter(\.modulated).compactMap(\.preferredModel)
    func modelShare(_ m: GainFit.Model) -> Double {
      modulatedModels.isEmpty
        ? .nan : Double(modulatedModels.filter { $0 == m }.count) / Double(modulatedModels.count)
    }
    let mean = amis.isEmpty ? .nan : amis.reduce(0, +) / Double(amis.count)
    var summary = LayerSummary(
      layer: key.layer, units: all.count, included: ok.count, excluded: excluded, amiMean: mean,
      amiMedian: median(amis),
      amiMeanCI: bootstrapCI(amis, seed: seed &+ UInt64(2 * li)) { $0.reduce(0, +) / Double($0.count) },
      amiMedianCI: bootstrapMedianCI(amis, seed: seed &+ UInt64(2 * li + 1)),
      fractionEnhanced: share { $0.modulated && $0.direction > 0 },
      fractionSuppressed: share { $0.modulated && $0.direction < 0 },
      fractionMultiplicative: modelShare(.multiplicative), fractionAdditive: modelShare(.additive),
      fractionAffine: modelShare(.affine),
      medianGainPercent: gains.isEmpty ? .nan : 100 * (median(gains) - 1),
      withoutGainFit: ok.count - gains.count)
    summary.stratum = key.stratum
    summary.fractionUnmodulated = share { !$0.modulated }
    summary.test = ok.contains { $0.hasTrialTest } ? "F-test over trials" : "paired t-test across conditions"
    if contrastAxis {
      summary.contrastShares["none"] = share { !$0.modulated }
      for e in ContrastEffect.allCases {
        summary.contrastShares[e.rawValue] = share { $0.modulated && $0.contrastEffect == e }
      }
    }
    if tuning {
      let effects = ok.compactMap(\.effects)
      summary.poorlyFit = ok.count - effects.count
      summary.medianAmplitudeRatio = median(effects.map(\.amplitudeRatio))
      summary.medianWidthRatio = median(effects.map(\.widthRatio))
      summary.medianBaselineChange = median(effects.map(\.baselineChange))
      summary.medianPreferredShift = median(effects.map(\.preferredShift))
    }
    return summary
  }
}
