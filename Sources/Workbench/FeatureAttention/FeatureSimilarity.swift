import Analysis
import Engine
import Foundation
import Reports

/// The feature-similarity gain analysis of a feature-gain run on an orientation sweep (Treue &
/// Martinez-Trujillo 1999): per recorded unit, its preferred orientation (the peak of its unattended
/// tuning curve), its distance from the attended orientation (circular, 0-90 degrees) and its gain
/// (mean attended / mean unattended response over the tuning curve). Units silent in either phase (mean
/// response 0) have no finite log gain and are left out. Per layer, log2 gain is regressed on the
/// distance (least squares; t test of the slope; log2 because gains are ratios, heavy-tailed where the
/// unattended response is small): the model predicts a negative slope, gain above 1 near the attended
/// orientation and below 1 near the orthogonal one.
func writeFeatureSimilarity(_ record: RunRecord, target: Double, into dir: String) throws {
  let u = record.units.count
  let axis = record.axis
  var csv = "layer,channel,y,x,preferred_deg,delta_deg,gain,log2_gain\n"
  var perLayer: [String: (delta: [Double], gain: [Double])] = [:]
  var order: [String] = []
  for (k, unit) in record.units.enumerated() {
    let un = axis.indices.map { Double(record.tuning[($0 * 2 + 1) * u + k]) }
    let at = axis.indices.map { Double(record.tuning[($0 * 2) * u + k]) }
    let meanU = un.reduce(0, +) / Double(max(1, un.count))
    let meanA = at.reduce(0, +) / Double(max(1, at.count))
    guard meanU > 0, meanA > 0, let peak = un.indices.max(by: { un[$0] < un[$1] }) else { continue }
    let gain = meanA / meanU
    let d = abs((axis[peak] - target).truncatingRemainder(dividingBy: 180))
    let delta = min(d, 180 - d)
    csv +=
      "\(unit.layer),\(unit.channel),\(unit.y),\(unit.x),\(csvNumber(axis[peak])),\(csvNumber(delta)),\(csvNumber(gain)),\(csvNumber(log2(gain)))\n"
    if perLayer[unit.layer] == nil { order.append(unit.layer) }
    perLayer[unit.layer, default: ([], [])].delta.append(delta)
    perLayer[unit.layer, default: ([], [])].gain.append(log2(gain))
  }
  try writeText(csv, dir + "/feature_similarity.csv")
  var layers =
    "layer,units,log2_gain_slope_per_deg,slope_se,t,p,intercept_log2,mean_log2_gain_within_22_5_deg,mean_log2_gain_beyond_67_5_deg\n"
  for layer in order {
    let (delta, gain) = perLayer[layer]!
    let test = SlopeTest(x: delta, y: gain)
    let near = gain.indices.filter { delta[$0] <= 22.5 }.map { gain[$0] }
    let far = gain.indices.filter { delta[$0] >= 67.5 }.map { gain[$0] }
    layers +=
      [
        layer, "\(delta.count)", csvNumber(test?.slope ?? .nan), csvNumber(test?.standardError ?? .nan),
        csvNumber(test?.t ?? .nan), csvNumber(test?.p ?? .nan), csvNumber(test?.intercept ?? .nan),
        csvNumber(meanAndSEM(near).mean), csvNumber(meanAndSEM(far).mean),
      ].joined(separator: ",") + "\n"
  }
  try writeText(layers, dir + "/feature_similarity_layers.csv")
}

/// The report page of `writeFeatureSimilarity`'s tables: per layer, gain against the distance between
/// preferred and attended orientation (mean +- SEM in 15-degree bins, the fitted line dashed).
func featureSimilarityPage(_ dir: String) -> MeasurePage? {
  guard let units = try? readCSVColumns(dir + "/feature_similarity.csv"),
    let layers = try? readCSVColumns(dir + "/feature_similarity_layers.csv"), let names = layers["layer"]
  else { return nil }
  var page = MeasurePage(
    title: "Feature-similarity gain: gain vs preferred minus attended orientation",
    lines: [
      "gain = mean attended / mean unattended response over the unit's tuning curve (log2: 0 = no change); preferred = peak of the unattended curve; distance circular, 0-90 deg; units silent in a phase left out",
      "feature-similarity gain predicts a negative slope: gain > 1 for units preferring the attended orientation, < 1 for the orthogonal one",
    ])
  for (i, layer) in names.enumerated() {
    let rows = (units["layer"] ?? []).indices.filter { units["layer"]![$0] == layer }
    let delta = rows.compactMap { Double(units["delta_deg"]![$0]) }
    let gain = rows.compactMap { Double(units["log2_gain"]![$0]) }
    let slope = Double(layers["log2_gain_slope_per_deg"]?[i] ?? "") ?? .nan
    let intercept = Double(layers["intercept_log2"]?[i] ?? "") ?? .nan
    let p = Double(layers["p"]?[i] ?? "") ?? .nan
    page.lines.append(
      String(
        format:
          "%@: %d units, log2 gain slope %.3g per deg (t %.1f, p %.2g), mean log2 gain %+.3f within 22.5 deg, %+.3f beyond 67.5 deg",
        layer, delta.count, slope, Double(layers["t"]?[i] ?? "") ?? .nan, p,
        Double(layers["mean_log2_gain_within_22_5_deg"]?[i] ?? "") ?? .nan,
        Double(layers["mean_log2_gain_beyond_67_5_deg"]?[i] ?? "") ?? .nan))
    let bins = stride(from: 0.0, to: 90, by: 15).map { lo -> (x: Double, m: Double, s: Double) in
      let g = gain.indices.filter { delta[$0] >= lo && (delta[$0] < lo + 15 || (lo == 75 && delta[$0] <= 90)) }
        .map { gain[$0] }
      let (m, s) = meanAndSEM(g)
      return (lo + 7.5, m, s)
    }
    var panel =
      LinePanel(
        title: layer, x: AxisSpec("|preferred - attended| (deg)", ticks: [0, 15, 30, 45, 60, 75, 90], suffix: "°"),
        yLabel: "log2 gain (A / U)",
        series: [
          Series(
            x: bins.map(\.x), y: bins.map(\.m), color: .attended, label: "mean ± SEM (15° bins)",
            errors: bins.map(\.s), style: .pointsAndLine),
          Series(
            x: [0, 90], y: [intercept, intercept + 90 * slope], color: .black,
            label: String(format: "fit: slope %.2g/deg, p %.1g", slope, p), dashed: true),
          Series(x: [0, 90], y: [0, 0], color: .grey, label: "no change", dashed: true),
        ])
    panel.notes = [("blue: mean ± SEM in 15° bins; black dashed: least-squares line", .black)]
    page.panels.append(panel)
  }
  return page
}
