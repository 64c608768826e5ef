import Analysis
import Engine
import Foundation
import ImageIO
import Models
import Recording
import Reports
import Stimuli

extension ProtocolRunner {
  /// Writes every result of a run into `dir` (the responses .npy is already there when requested).
  static func writeOutputs(
    _ dir: String, _ p: ProtocolSpec, spec: StimulusSpec, net: ObjectAttentionNet, result r: RecordingResult,
    seed: UInt64
  ) throws {
    func write(_ name: String, _ text: String) throws {
      try writeFileAtomically(Array(text.utf8), to: dir + "/" + name)
    }
    try write("conditions.csv", spec.conditionTableCSV())
    try write("units.csv", r.units.csv())
    var glimpses = ["stimulus,attended_glimpse,prediction_attended,prediction_unattended"]
    for (i, g) in r.attendedGlimpse.enumerated() {
      glimpses.append("\(i),\(g),\(r.predictions[i].attended),\(r.predictions[i].unattended)")
    }
    try write("glimpses.csv", glimpses.joined(separator: "\n") + "\n")

    // Tuning curves: [axis value, phase, unit] as .npy, and a wide CSV (one row per unit and phase).
    let (values, sem) = r.tuning.curves(p.reduce)
    let axis = r.tuning.axisValues
    let u = r.units.units.count
    try NPY.write(StoredTensor(name: "tuning", shape: [axis.count, 2, u], floats: values), to: dir + "/tuning.npy")
    if let sem {
      try NPY.write(
        StoredTensor(name: "tuning_sem", shape: [axis.count, 2, u], floats: sem), to: dir + "/tuning_sem.npy")
    }
    try NPY.write(
      StoredTensor(name: "axis", shape: [axis.count], floats: axis.map(Float.init)), to: dir + "/tuning_axis.npy")
    var csv =
      "unit,layer,channel,y,x,phase," + axis.map { "\(p.tuningAxis)=\(formatNumber($0))" }.joined(separator: ",") + "\n"
    csv.reserveCapacity(u * 2 * axis.count * 10)
    for (k, unit) in r.units.units.enumerated() {
      for (phase, label) in ["attended", "unattended"].enumerated() {
        csv += "\(k),\(unit.layer),\(unit.channel),\(unit.y),\(unit.x),\(label)"
        for a in 0..<axis.count { csv += "," + shortFloat(values[(a * 2 + phase) * u + k]) }
        csv += "\n"
      }
    }
    try write("tuning.csv", csv)

    try stimulusMontage(spec).writePNG(to: dir + "/montage.png")
    try writePNG(
      exampleTuningCurves(r, values: values, sem: sem, axisName: p.tuningAxis), to: dir + "/tuning_examples.png")
    try write("summary.json", summaryJSON(p, spec: spec, net: net, result: r, seed: seed))
    if net.config.variant == .mnist {
      try writeGatingEvaluation(dir, net: net)
    }
    try writeRunAnalysis(dir)
  }

  /// For the gating model: inhibition statistics on the held-out test composites (inhibition.csv, one
  /// row per image) and attention visualisations of the first four (attention_N.png).
  static func writeGatingEvaluation(_ dir: String, net: ObjectAttentionNet) throws {
    let task = try ObjectAttentionTask.mnist(config: net.config)
    var result = ObjectEvaluation()
    for b in 0..<task.test.count { net.evaluate(try task.test.make(b), into: &result, visualize: 4) }
    var lines = ["image,inhibition_attended,inhibition_outside"]
    for (i, (a, o)) in zip(result.inhibitionAttended, result.inhibitionOutside).enumerated() {
      lines.append("\(i),\(a),\(o)")
    }
    try writeFileAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/inhibition.csv")
    for (i, v) in result.visuals.enumerated() {
      try attentionFigure(v, config: net.config).writePNG(to: dir + "/attention_\(i).png")
    }
  }

  /// Statistics and the PDF report of a run folder, from its stored results alone (no model): the
  /// tuning curves (tuning.npy, tuning_axis.npy), the unit table and summary.json. Used by the runner
  /// and by `ephys report`.
  public static func writeRunAnalysis(_ dir: String) throws {
    let tuning = try NPY.read(dir + "/tuning.npy")
    let axis = try NPY.read(dir + "/tuning_axis.npy").floats().map(Double.init)
    guard tuning.shape.count == 3, tuning.shape[0] == axis.count, tuning.shape[1] == 2 else {
      throw RecordingError("\(dir)/tuning.npy has shape \(tuning.shape); expected [\(axis.count), 2, units]")
    }
    let values = try tuning.floats()
    let u = tuning.shape[2]
    let unitRows = try String(contentsOfFile: dir + "/units.csv", encoding: .utf8).split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",") }
    guard unitRows.count == u else {
      throw RecordingError("\(dir)/units.csv lists \(unitRows.count) units, tuning.npy has \(u)")
    }
    guard let data = FileManager.default.contents(atPath: dir + "/summary.json"),
      let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw RecordingError("\(dir)/summary.json is missing or not JSON") }
    let conditions = axis.map(formatNumberForTable)
    var obs: [UnitObservations] = []
    obs.reserveCapacity(u)
    for (k, row) in unitRows.enumerated() {
      guard row.count >= 5 else {
        throw RecordingError("\(dir)/units.csv:\(k + 2): expected unit, layer, channel, y, x, found \(row.count) cells")
      }
      let name = "\(row[1])[\(row[2]),\(row[3]),\(row[4])]"
      var a = [Double](repeating: 0, count: axis.count)
      var un = a
      for i in 0..<axis.count {
        a[i] = Double(values[(i * 2) * u + k])
        un[i] = Double(values[(i * 2 + 1) * u + k])
      }
      obs.append(
        UnitObservations(unit: name, layer: String(row[1]), conditions: conditions, attended: a, unattended: un))
    }
    let axisName = summary["tuning_axis"] as? String ?? "condition"
    let definitions = summary["definitions"] as? [String: String] ?? [:]
    func field(_ k: String) -> String { summary[k].map { "\($0)" } ?? "" }
    let lines = [
      "protocol: \(field("protocol"))   model: \(field("architecture"))   weights: \(field("weights"))",
      "stimuli: \(field("stimuli")) (\((summary["swept_parameters"] as? [String] ?? []).joined(separator: " x ")))   stimulus file: \(field("stimulus"))",
      "attention: \(field("attention_mode"))   tuning axis: \(axisName) (\(field("tuning_reduce")) over the rest)   seed: \(field("seed"))   Ephys \(field("ephys_version"))",
      "swept object attended in glimpse 1: \(field("object_attended_first")) stimuli, glimpse 2: \(field("object_attended_second"))",
      "phases: \(definitions["phases"] ?? "")", "response: \(definitions["response"] ?? "")",
      "conditions of the statistics: the \(axis.count) tuning values (axis points) of each unit",
    ]
    var context = ReportContext(
      title: "Ephys report: \(field("protocol"))", summaryLines: lines, axisName: axisName,
      montagePNG: dir + "/montage.png")
    if let text = try? String(contentsOfFile: dir + "/inhibition.csv", encoding: .utf8) {
      let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }.filter { $0.count == 3 }
      context.inhibition = (rows.compactMap { Double($0[1]) }, rows.compactMap { Double($0[2]) })
      context.attentionPNGs = (0..<4).map { dir + "/attention_\($0).png" }.filter {
        FileManager.default.fileExists(atPath: $0)
      }
    }
    try writeAnalysis(
      obs, into: dir, unitsFile: "unit_statistics.csv", layersFile: "layer_statistics.csv", context: context,
      seed: (summary["seed"] as? Int).flatMap { UInt64(exactly: $0) } ?? 1,
      tuning: axisName == "orientation" ? .wrappedGaussian(period: 180) : .gaussian)
  }

  /// Up to 48 stimuli evenly spread over the sweep, enlarged 3x, 8 per row; the distractor region
  /// framed in red and the swept object's centroid marked in blue.
  public static func stimulusMontage(_ spec: StimulusSpec) -> RasterImage {
    let n = min(48, spec.count)
    let picks = (0..<n).map { $0 * spec.count / n }  // count <= StimulusLimits.maxStimuli: no overflow
    // Small canvases are enlarged 3x; large ones shrunk so that a tile is at most 256 pixels a side.
    let side = max(spec.canvasHeight, spec.canvasWidth)
    let shrink = (side + 255) / 256
    let tiles = picks.map { i -> RasterImage in
      let s = spec.stimulus(i)
      let peak = max(1, s.image.max() ?? 1)
      var img = RasterImage(grey: s.image.map { $0 / peak }, width: spec.canvasWidth, height: spec.canvasHeight).rgb()
      if let d = spec.distractor, d.top < spec.canvasHeight, d.left < spec.canvasWidth, d.height > 0, d.width > 0 {
        for y in max(0, d.top)..<min(spec.canvasHeight, d.top + d.height) {
          for x in max(0, d.left)..<min(spec.canvasWidth, d.left + d.width)
          where y == d.top || x == d.left || y == d.top + d.height - 1 || x == d.left + d.width - 1 {
            img.pixels[(y * spec.canvasWidth + x) * 3] = 220
          }
        }
      }
      var m = 0.0
      var cx = 0.0
      var cy = 0.0
      for (j, v) in s.object.enumerated() where v > 0 {
        m += Double(v)
        cx += Double(v) * Double(j % spec.canvasWidth)
        cy += Double(v) * Double(j / spec.canvasWidth)
      }
      if m > 0 {
        let x = Int((cx / m).rounded())
        let y = Int((cy / m).rounded())
        if x >= 0 && x < spec.canvasWidth && y >= 0 && y < spec.canvasHeight {
          img.pixels[(y * spec.canvasWidth + x) * 3 + 0] = 40
          img.pixels[(y * spec.canvasWidth + x) * 3 + 1] = 90
          img.pixels[(y * spec.canvasWidth + x) * 3 + 2] = 255
        }
      }
      return side <= 96 ? upscaled(img, by: 3) : downsampled(img, by: shrink)
    }
    return montage(tiles, columns: 8, gap: 4)
  }

  /// Tuning curves of the four most selective units of each layer (largest peak-to-trough range of
  /// the attended curve): attended (blue) and unattended (red).
  static func exampleTuningCurves(_ r: RecordingResult, values: [Float], sem: [Float]?, axisName: String) -> PanelGrid {
    let u = r.units.units.count
    let axis = r.tuning.axisValues
    var panels: [LinePanel] = []
    for (layer, range) in r.units.layerRanges {
      let peaks = range.map { k -> (Int, Float) in
        let curve = (0..<axis.count).map { values[($0 * 2) * u + k] }
        return (k, (curve.max() ?? 0) - (curve.min() ?? 0))
      }
      for (k, _) in peaks.sorted(by: { $0.1 > $1.1 }).prefix(4) {
        let unit = r.units.units[k]
        func series(_ phase: Int, _ color: Color, _ label: String) -> Series {
          Series(
            x: axis, y: (0..<axis.count).map { Double(values[($0 * 2 + phase) * u + k]) }, color: color, label: label,
            band: sem.map { s in (0..<axis.count).map { Double(s[($0 * 2 + phase) * u + k]) } })
        }
        panels.append(
          LinePanel(
            title: "\(layer) unit \(k) [c\(unit.channel), y\(unit.y), x\(unit.x)]", xLabel: axisName,
            yLabel: "response",
            series: [series(0, .attended, "attended"), series(1, .unattended, "unattended")]))
      }
    }
    return PanelGrid(panels: panels, columns: 4)
  }

  static func summaryJSON(
    _ p: ProtocolSpec, spec: StimulusSpec, net: ObjectAttentionNet, result r: RecordingResult, seed: UInt64
  ) throws -> String {
    let silent = silentUnits(r)
    var layers: [[String: Any]] = []
    for (layer, range) in r.units.layerRanges {
      layers.append(["layer": layer, "units": range.count, "silent_units_excluded": silent[layer] ?? 0])
    }
    let first = r.attendedGlimpse.filter { $0 == 0 }.count
    let second = r.attendedGlimpse.filter { $0 == 1 }.count
    var digitAccuracy: Any = NSNull()
    if case .digit(_, let label)? = spec.distractor?.kind {
      digitAccuracy =
        Double(r.predictions.filter { $0.unattended == label }.count) / Double(max(1, r.predictions.count))
    }
    let summary: [String: Any] = [
      "protocol": p.name, "description": p.description, "protocol_file": p.file, "architecture": p.architecture,
      "weights": p.weights, "stimulus": p.stimulusSource, "stimuli": spec.count,
      "swept_parameters": spec.sweptParameters, "tuning_axis": p.tuningAxis, "tuning_reduce": p.reduce.rawValue,
      "attention_mode": p.condition.name, "seed": seed, "ephys_version": "0.1.0",
      "model": [
        "strength": net.config.strength, "passes": net.config.passes, "glimpses": 2,
        "ior_threshold": net.config.iorThreshold,
      ],
      "definitions": [
        "unit": "one (channel, y, x) position of a conv layer's output map",
        "response": "post-ReLU, pre-pool conv output at the last pass of the recorded glimpse",
        "phases": phaseDefinition(p.condition),
        "tuning": "per axis value, the \(p.reduce.rawValue) over all other stimulus parameters, per phase and unit",
        "silent_units":
          "units with attended + unattended = 0 at every axis value; excluded from analyses and counted here",
      ],
      "layers": layers, "units_total": r.units.units.count,
      "object_attended_first": first, "object_attended_second": second,
      "distractor_digit_accuracy_when_attended": digitAccuracy,
      "files": [
        "responses.npy": p.writeResponses
          ? "[stimuli, 2 phases (attended, unattended), units] float32" : "not written (record.responses: false)",
        "units.csv": "unit table with receptive fields",
        "conditions.csv": "one row per stimulus, every parameter a column",
        "glimpses.csv": "per stimulus: glimpse that attended the swept object, predictions",
        "tuning.npy": "[axis, 2, units]",
        "tuning.csv": "one row per unit and phase", "montage.png": "stimuli",
        "tuning_examples.png": "example tuning curves",
      ],
    ]
    let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  static func phaseDefinition(_ c: AttentionCondition) -> String {
    switch c {
    case .glimpses:
      return
        "attended = the glimpse (of the model's own 2, with IOR) in which the swept object was selected; unattended = the glimpse that selected the distractor"
    case .cue:
      return
        "attended = glimpse 1 with the distractor's region pre-inhibited (cue on the swept object); unattended = glimpse 1 with the swept object's region pre-inhibited"
    case .spatialGain(let layer, let beta, let sigma):
      return
        "spatial gain 1 + \(beta) exp(-d^2 / (2 * \(sigma)^2)) on \(layer); attended = gain centred on the swept object, unattended = centred on the distractor"
    }
  }
}

/// A float in a compact CSV form (6 significant digits).
func shortFloat(_ v: Float) -> String {
  if v == 0 { return "0" }
  return String(format: "%.6g", Double(v))
}

/// Writes every stimulus of a sweep as float32 [N, 1, H, W] (streamed).
public func writeStimuliNPY(_ spec: StimulusSpec, to path: String) throws {
  let w = try NPYStreamWriter(path: path, shape: [spec.count, 1, spec.canvasHeight, spec.canvasWidth])
  for i in 0..<spec.count { try w.append(spec.stimulus(i).image) }
  try w.finish()
}
