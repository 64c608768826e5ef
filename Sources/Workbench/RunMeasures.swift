import Analysis
import Engine
import Foundation
import ModelInterface
import Recording
import Reports

/// A report page of a protocol measure: text lines, histograms and heat maps (the report lays them out).
public struct MeasurePage: Sendable {
  public var title: String
  public var lines: [String]
  public var histograms: [(title: String, values: [Double], lo: Double, hi: Double, xLabel: String)] = []
  public var maps: [(title: String, values: [Double], rows: Int, cols: Int)] = []
  public var panels: [LinePanel] = []
}

extension ProtocolRunner {
  /// Receptive-field maps of an rf-map protocol: per unit the measured centre and size (see
  /// `MeasuredReceptiveField`; with a swept contrast, e.g. ON and OFF dots, the response changes of
  /// every contrast are summed as |r - r_blank|) beside the geometric centre, the offset in pixels and in the layer's
  /// strides (receptive_fields.csv), and the maps of the four most responsive units of each layer
  /// (rf_maps.npy [k, y values, x values] with rf_map_units.csv).
  /// Also returns each unit's measured field (nil where no probe changed its response), for units.csv.
  static func writeReceptiveFieldMaps(
    _ dir: String, result r: RecordingResult, grid: ConditionAccumulator, blank: [Float], net: RecordableModel
  ) throws -> (files: [String: String], measured: [MeasuredReceptiveField?]) {
    var measured = [MeasuredReceptiveField?](repeating: nil, count: r.units.units.count)
    guard let xi = grid.names.firstIndex(of: "x"), let yi = grid.names.firstIndex(of: "y") else {
      return ([:], measured)
    }
    let xs = grid.values[xi]
    let ys = grid.values[yi]
    // Per x-y position, the summed |response - blank| over the probe contrasts (the kept grid runs in
    // the sweep's parameter order: x, y, then contrast for dots).
    func changeMap(_ k: Int) -> [Double] {
      let means = grid.means(unit: k, phase: 0)
      var out = [Double](repeating: 0, count: xs.count * ys.count)
      for c in 0..<grid.combinations {
        let idx = grid.indices(c)
        out[idx[xi] * ys.count + idx[yi]] += abs(means[c] - Double(blank[k]))
      }
      return out
    }
    var lines = [
      "unit,layer,channel,y,x,rf_class,geometric_centre_row,geometric_centre_col,measured_centre_row,measured_centre_col,measured_size_px,coverage,offset_px,stride_px,offset_strides"
    ]
    var examples: [(unit: Int, map: [Float])] = []
    for (layer, range) in r.units.layerRanges {
      let g = try net.geometry(of: layer)
      let c0 = g.centre(0, 0)
      let c1 = g.width > 1 ? g.centre(0, 1) : g.height > 1 ? g.centre(1, 0) : c0
      let stride = max(1, abs(c1.x - c0.x) + abs(c1.y - c0.y))
      var strengths: [(Int, Double)] = []
      for k in range {
        // Response changes indexed [ix * ys.count + iy].
        let responses = changeMap(k)
        let u = r.units.units[k]
        let geometric = r.units.centres[k]
        let m = MeasuredReceptiveField(responses: responses, xs: xs, ys: ys, blank: 0)
        measured[k] = m
        let offset = m.map {
          ((($0.centreX - geometric.x) * ($0.centreX - geometric.x))
            + (($0.centreY - geometric.y) * ($0.centreY - geometric.y))).squareRoot()
        }
        lines.append(
          [
            "\(k)", layer, "\(u.channel)", "\(u.y)", "\(u.x)", r.units.classes?[k].rawValue ?? "",
            "\(geometric.y)", "\(geometric.x)", m.map { "\($0.centreY)" } ?? "", m.map { "\($0.centreX)" } ?? "",
            m.map { "\($0.size)" } ?? "", m.map { "\($0.coverage)" } ?? "0", offset.map { "\($0)" } ?? "", "\(stride)",
            offset.map { "\($0 / stride)" } ?? "",
          ].joined(separator: ","))
        strengths.append((k, responses.reduce(0, +)))
      }
      for (k, s) in strengths.sorted(by: { $0.1 > $1.1 }).prefix(4) where s > 0 {
        let change = changeMap(k)
        // Map rows are y values, columns x values.
        let map = (0..<(ys.count * xs.count)).map { j -> Float in
          Float(change[(j % xs.count) * ys.count + j / xs.count])
        }
        examples.append((k, map))
      }
    }
    try writeFileAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/receptive_fields.csv")
    var files = [
      "receptive_fields.csv":
        "per unit: measured receptive-field centre and size (probe sweep) beside the geometric centre, offset in pixels and strides"
    ]
    if !examples.isEmpty {
      try NPY.write(
        StoredTensor(
          name: "rf_maps", shape: [examples.count, ys.count, xs.count], floats: examples.flatMap(\.map)),
        to: dir + "/rf_maps.npy")
      var unitLines = ["map,unit,layer,channel,y,x"]
      for (i, e) in examples.enumerated() {
        let u = r.units.units[e.unit]
        unitLines.append("\(i),\(e.unit),\(u.layer),\(u.channel),\(u.y),\(u.x)")
      }
      try NPY.write(StoredTensor(name: "x", shape: [xs.count], floats: xs.map(Float.init)), to: dir + "/rf_map_x.npy")
      try NPY.write(StoredTensor(name: "y", shape: [ys.count], floats: ys.map(Float.init)), to: dir + "/rf_map_y.npy")
      try writeFileAtomically(
        Array((unitLines.joined(separator: "\n") + "\n").utf8), to: dir + "/rf_map_units.csv")
      files["rf_maps.npy"] = "[maps, y values, x values]: |response - blank response| of the units in rf_map_units.csv"
    }
    return (files, measured)
  }

  /// V1 property measures (see `measureV1`) of every unit and phase (v1_properties.csv) and their
  /// per-layer distributions (v1_layers.csv: count, median and quartiles per layer, phase and measure).
  static func writeV1Properties(_ dir: String, result r: RecordingResult, grid: ConditionAccumulator, phases: Int)
    throws -> [String: String]
  {
    let phaseNames = phases == 1 ? ["none"] : ["attended", "unattended"]
    var header = ["unit", "layer", "channel", "y", "x", "rf_class", "phase"]
    var measures: [[(String, Double?)]] = []
    var rows: [String] = []
    for (layer, range) in r.units.layerRanges {
      for k in range {
        for (p, phase) in phaseNames.enumerated() {
          guard let m = measureV1(names: grid.names, values: grid.values, means: grid.means(unit: k, phase: p)) else {
            continue
          }
          let u = r.units.units[k]
          let named = m.named
          if header.count == 7 { header += named.map(\.0) }
          measures.append(named)
          rows.append(
            ([
              "\(k)", layer, "\(u.channel)", "\(u.y)", "\(u.x)", r.units.classes?[k].rawValue ?? "", phase,
            ] + named.map { $0.1.map { "\($0)" } ?? "" }).joined(separator: ","))
        }
      }
    }
    try writeFileAtomically(
      Array(([header.joined(separator: ",")] + rows).joined(separator: "\n").appending("\n").utf8),
      to: dir + "/v1_properties.csv")
    // Per layer and phase: the distribution of each measure.
    var summary = ["layer,phase,measure,units,median,q25,q75"]
    var i = 0
    for (layer, range) in r.units.layerRanges {
      var byPhase: [String: [String: [Double]]] = [:]
      for _ in range {
        for phase in phaseNames where i < measures.count {
          for (name, v) in measures[i] {
            if let v, v.isFinite { byPhase[phase, default: [:]][name, default: []].append(v) }
          }
          i += 1
        }
      }
      for phase in phaseNames {
        for name in header.dropFirst(7) {
          let v = (byPhase[phase]?[name] ?? []).sorted()
          func q(_ f: Double) -> String { v.isEmpty ? "" : "\(v[min(v.count - 1, Int(f * Double(v.count - 1)))])" }
          summary.append(
            "\(layer),\(phase),\(name),\(v.count),\(v.isEmpty ? "" : "\(median(v))"),\(q(0.25)),\(q(0.75))")
        }
      }
    }
    try writeFileAtomically(Array((summary.joined(separator: "\n") + "\n").utf8), to: dir + "/v1_layers.csv")
    return [
      "v1_properties.csv":
        "per unit and phase: brain-score's V1 measures (circular variance, orientation bandwidth, orthogonal/preferred ratio, preferred frequency and bandwidth, F1/F0, surround suppression)",
      "v1_layers.csv": "per layer, phase and measure: units with a value, median and quartiles",
    ]
  }

  /// Report pages of the measures a run folder holds (receptive-field maps, V1 properties), read
  /// back from their CSV and NPY files.
  static func measurePages(_ dir: String) -> [MeasurePage] {
    var pages: [MeasurePage] = []
    if let page = featureSimilarityPage(dir) { pages.append(page) }
    if let table = try? readCSVColumns(dir + "/receptive_fields.csv") {
      var page = MeasurePage(
        title: "Receptive fields measured with a probe at every position vs geometric receptive fields",
        lines: [
          "measured centre: the |response - blank response|-weighted mean probe position; size: the weighted RMS distance from it (pixels)",
          "offset: distance from the geometric centre (kernel/stride/padding chain), in pixels and in the layer's strides",
        ])
      var layers: [String] = []
      for l in table["layer"] ?? [] where !layers.contains(l) { layers.append(l) }
      for layer in layers {
        let rows = (table["layer"] ?? []).indices.filter { table["layer"]![$0] == layer }
        let offsets = rows.compactMap { Double(table["offset_strides"]![$0]) }
        let sizes = rows.compactMap { Double(table["measured_size_px"]![$0]) }
        page.lines.append(
          String(
            format:
              "%@: %d units, %d mapped; median offset %.2f strides (%.0f%% within one stride); median size %.1f px",
            layer, rows.count, offsets.count, median(offsets),
            offsets.isEmpty ? 0 : 100 * Double(offsets.filter { $0 <= 1 }.count) / Double(offsets.count), median(sizes))
        )
        page.histograms.append(("\(layer): centre offset", offsets, 0, 3, "offset (strides)"))
      }
      if let maps = try? NPY.read(dir + "/rf_maps.npy"), maps.shape.count == 3, let values = try? maps.floats(),
        let units = try? readCSVColumns(dir + "/rf_map_units.csv")
      {
        let (k, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
        for i in 0..<min(k, 12) {
          let map = values[(i * h * w)..<((i + 1) * h * w)].map(Double.init)
          let title =
            "\(units["layer"]?[i] ?? "") [\(units["channel"]?[i] ?? ""),\(units["y"]?[i] ?? ""),\(units["x"]?[i] ?? "")]"
          page.maps.append((title, map, h, w))
        }
      }
      pages.append(page)
    }
    if let table = try? readCSVColumns(dir + "/v1_properties.csv") {
      var layers: [String] = []
      for l in table["layer"] ?? [] where !layers.contains(l) { layers.append(l) }
      let phases = Set(table["phase"] ?? [])
      let phase = phases.contains("unattended") ? "unattended" : "none"
      let shown: [(String, String, Double, Double)] = [
        ("circular_variance", "circular variance", 0, 1),
        ("orientation_bandwidth", "orientation bandwidth (deg)", 0, 90),
        ("orth_pref_ratio", "orthogonal / preferred", 0, 1),
        ("frequency_bandwidth_octaves", "SF bandwidth (octaves)", 0, 6),
        ("modulation_ratio_f1_f0", "F1/F0", 0, 2), ("surround_suppression_index", "surround suppression", 0, 1),
      ]
      for layer in layers {
        let rows = (table["layer"] ?? []).indices.filter {
          table["layer"]![$0] == layer && table["phase"]![$0] == phase
        }
        var page = MeasurePage(
          title:
            "\(layer): V1 property measures (\(phase == "none" ? "no attention" : "unattended phase"), \(rows.count) units)",
          lines: [
            "as brain-score's V1 benchmarks define them; at the preferred orientation and frequency, largest aperture, mean over phase (see docs/analysis.md)"
          ])
        for (column, label, lo, hi) in shown {
          let values = rows.compactMap { i in table[column].flatMap { Double($0[i]) } }
          page.histograms.append(
            (String(format: "%@ (n = %d, median %.3g)", label, values.count, median(values)), values, lo, hi, label))
        }
        pages.append(page)
      }
    }
    return pages
  }
}

/// The cells of a small CSV by column name (no quoted commas; for the files Ephys writes itself).
func readCSVColumns(_ path: String) throws -> [String: [String]] {
  let text = try String(contentsOfFile: path, encoding: .utf8)
  let rows = text.split(separator: "\n").map {
    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
  }
  guard let header = rows.first else { return [:] }
  var out: [String: [String]] = [:]
  for (c, name) in header.enumerated() { out[name] = rows.dropFirst().map { c < $0.count ? $0[c] : "" } }
  return out
}
