import Analysis
import Engine
import Foundation
import ImageIO
import ModelInterface
import Recording
import Reports
import Stimuli

extension ProtocolRunner {
  /// Writes every result of a run into `dir` (the responses .npy is already there when requested);
  /// returns the model's own evaluation files with one line on each, and the report's drawn elements.
  @discardableResult
  static func writeOutputs(
    _ dir: String, _ p: ProtocolSpec, spec: StimulusSpec, net: RecordableModel, result r: RecordingResult,
    seed: UInt64, blank: [Float]? = nil, warnings: [String] = [], caveats: [String] = [],
    statisticsProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> (modelFiles: [String: String], layout: [[DrawnElement]]) {
    func write(_ name: String, _ text: String) throws {
      try writeFileAtomically(Array(text.utf8), to: dir + "/" + name)
    }
    try write("conditions.csv", spec.conditionTableCSV())
    var measureFiles: [String: String] = [:]
    var measured: [MeasuredReceptiveField?]? = nil
    if let blank, let grid = r.conditions {
      let maps = try writeReceptiveFieldMaps(dir, result: r, grid: grid, blank: blank, net: net)
      measureFiles.merge(maps.files) { a, _ in a }
      measured = maps.measured
    }
    // With receptive-field maps, each unit's measured field stands beside its geometric one.
    try r.units.writeCSV(
      to: dir + "/units.csv",
      extra: measured.map { m in
        [
          ("measured_centre_row", m.map { $0.map { "\($0.centreY)" } ?? "" }),
          ("measured_centre_col", m.map { $0.map { "\($0.centreX)" } ?? "" }),
          ("measured_size_px", m.map { $0.map { "\($0.size)" } ?? "" }),
        ]
      } ?? [])
    if let attended = r.attendedGlimpse {
      var glimpses = ["stimulus,attended_glimpse,prediction_attended,prediction_unattended"]
      for (i, g) in attended.enumerated() {
        glimpses.append("\(i),\(g),\(r.predictions[i].attended),\(r.predictions[i].unattended)")
      }
      try write("glimpses.csv", glimpses.joined(separator: "\n") + "\n")
    } else {
      var lines = ["stimulus,prediction_attended,prediction_unattended"]
      for (i, pr) in r.predictions.enumerated() { lines.append("\(i),\(pr.attended),\(pr.unattended)") }
      try write("predictions.csv", lines.joined(separator: "\n") + "\n")
    }

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
    var trialValues: [Float]? = nil
    if r.tuning.trials > 1 {
      let t = r.tuning.trialCurves(p.reduce).values
      trialValues = t
      try NPY.write(
        StoredTensor(name: "tuning_trials", shape: [r.tuning.trials, axis.count, 2, u], floats: t),
        to: dir + "/tuning_trials.npy")
    }
    let tuningTable = try TextStreamWriter(path: dir + "/tuning.csv")
    try tuningTable.line(
      "unit,layer,channel,y,x,phase," + axis.map { "\(p.tuningAxis)=\(formatNumber($0))" }.joined(separator: ","))
    for (k, unit) in r.units.units.enumerated() {
      for (phase, label) in ["attended", "unattended"].enumerated() {
        var line = "\(k),\(unit.layer),\(unit.channel),\(unit.y),\(unit.x),\(label)"
        for a in 0..<axis.count { line += "," + shortFloat(values[(a * 2 + phase) * u + k]) }
        try tuningTable.line(line)
      }
    }
    try tuningTable.finish()

    try stimulusMontage(spec).writePNG(to: dir + "/montage.png")
    try writePNG(
      exampleTuningCurves(r, values: values, sem: sem, axisName: p.tuningAxis), to: dir + "/tuning_examples.png")
    let modelFiles = try net.writeModelOutputs(into: dir)
    if p.measures.contains(.v1), let grid = r.conditions {
      measureFiles.merge(try writeV1Properties(dir, result: r, grid: grid, phases: p.condition == .none ? 1 : 2)) {
        a, _ in a
      }
    }
    var record = runRecord(p, spec: spec, net: net, result: r, seed: seed, values: values, trialValues: trialValues)
    record.warnings = warnings
    record.caveats = caveats
    try write(
      "summary.json", summaryJSON(p, spec: spec, net: net, result: r, record: record, measureFiles: measureFiles))
    let layout = try writeRunAnalysis(record, into: dir, progress: statisticsProgress)
    return (modelFiles, layout)
  }

  /// The record of a recording with its tuning curves `values` [axis, 2, units] and, with repeats,
  /// `trialValues` [trial, axis, 2, units]: what the statistics and the report read.
  static func runRecord(
    _ p: ProtocolSpec, spec: StimulusSpec, net: RecordableModel, result r: RecordingResult, seed: UInt64,
    values: [Float], trialValues: [Float]?
  ) -> RunRecord {
    var record = RunRecord(
      protocolName: p.name, architecture: p.architecture, weights: p.weights, stimulusSource: p.stimulusSource,
      stimuli: spec.count, sweptParameters: spec.sweptParameters, tuningAxis: p.tuningAxis,
      tuningReduce: p.reduce.rawValue, attentionMode: p.condition.name, seed: seed, ephysVersion: ephysVersion,
      definitions: definitions(p, net: net),
      glimpseCounts: r.attendedGlimpse.map { g in (g.filter { $0 == 0 }.count, g.filter { $0 == 1 }.count) },
      axis: r.tuning.axisValues, tuning: values, units: r.units.units)
    record.classes = r.units.classes?.map(\.rawValue)
    record.trials = r.tuning.trials
    record.trialTuning = trialValues
    record.featureTargetOrientation = p.featureTargetOrientation
    return record
  }

  /// modulation_by_pass.csv: per layer, pass (the plain layer is the last pass) and stratum, the AMI
  /// median and mean with 95% CIs and the shares of enhanced, suppressed and unmodulated units.
  static func modulationByPassCSV(_ layers: [LayerSummary]) -> String {
    let lastPass = layers.compactMap { splitPassLayerName($0.layer).pass }.max().map { $0 + 1 } ?? 1
    var lines = [
      "layer,pass,stratum,included,ami_median,ami_median_ci_low,ami_median_ci_high,ami_mean,ami_mean_ci_low,ami_mean_ci_high,fraction_enhanced,fraction_suppressed,fraction_unmodulated"
    ]
    let rows = layers.map { l -> (String, Int, LayerSummary) in
      let (base, pass) = splitPassLayerName(l.layer)
      return (base, pass ?? lastPass, l)
    }.sorted { ($0.0, $0.2.stratum, $0.1) < ($1.0, $1.2.stratum, $1.1) }
    for (base, pass, l) in rows {
      lines.append(
        [
          base, "\(pass)", l.stratum.contains(",") ? "\"\(l.stratum)\"" : l.stratum, "\(l.included)",
          "\(l.amiMedian)", "\(l.amiMedianCI.low)", "\(l.amiMedianCI.high)", "\(l.amiMean)", "\(l.amiMeanCI.low)",
          "\(l.amiMeanCI.high)", "\(l.fractionEnhanced)", "\(l.fractionSuppressed)", "\(l.fractionUnmodulated)",
        ].joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
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
      var img =
        s.colour.map { c in
          RasterImage(
            planarRGB: c.map { $0 / max(1, c.max() ?? 1) }, width: spec.canvasWidth, height: spec.canvasHeight)
        } ?? RasterImage(grey: s.image.map { $0 / peak }, width: spec.canvasWidth, height: spec.canvasHeight).rgb()
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

  /// Plain-language definitions of the run's quantities, from the model and the condition.
  static func definitions(_ p: ProtocolSpec, net: RecordableModel) -> [String: String] {
    [
      "unit": net.unitDefinition,
      "response": net.responseDefinition,
      "phases": net.phaseDefinition(p.condition),
      "tuning":
        "per axis value, the \(p.reduce.rawValue) over all other stimulus parameters, per phase and unit (per trial, then the mean over trials, when there are repeats)",
      "rf_class":
        "where a unit's receptive field (input box from the layer's kernel/stride/padding chain) lies: object = it contains a pixel of the swept object (above 10% of its peak) in some stimulus and no distractor pixel (above 10% of the distractor's peak); distractor = the reverse; both; neither. Statistics are per class, never pooled across classes",
      "silent_units":
        "units with attended + unattended = 0 at every axis value; excluded from analyses and counted here",
    ]
  }

  static func summaryJSON(
    _ p: ProtocolSpec, spec: StimulusSpec, net: RecordableModel, result r: RecordingResult, record: RunRecord,
    measureFiles: [String: String] = [:]
  ) throws -> String {
    let silent = silentUnits(r)
    var layers: [[String: Any]] = []
    for (layer, range) in r.units.layerRanges {
      var entry: [String: Any] = ["layer": layer, "units": range.count, "silent_units_excluded": silent[layer] ?? 0]
      if let classes = r.units.classes {
        var counts: [String: Int] = [:]
        for c in ReceptiveFieldClass.allCases { counts[c.rawValue] = 0 }
        for i in range { counts[classes[i].rawValue, default: 0] += 1 }
        entry["rf_classes"] = counts
      }
      layers.append(entry)
    }
    var digitAccuracy: Any = NSNull()
    if case .digit(_, let label)? = spec.distractor?.kind {
      digitAccuracy =
        Double(r.predictions.filter { $0.unattended == label }.count) / Double(max(1, r.predictions.count))
    }
    var files: [String: Any] = [
      "responses.npy": p.writeResponses
        ? "[stimuli, 2 phases (attended, unattended), units] float32" : "not written (record.responses: false)",
      "units.csv": "unit table with receptive fields",
      "conditions.csv": "one row per stimulus, every parameter a column",
      "tuning.npy": "[axis, 2, units]",
      "tuning.csv": "one row per unit and phase", "montage.png": "stimuli",
      "tuning_examples.png": "example tuning curves",
    ]
    for (k, v) in measureFiles { files[k] = v }
    if r.tuning.trials > 1 { files["tuning_trials.npy"] = "[trials, axis, 2, units]: each trial's tuning curves" }
    if record.hasAttention {
      files["unit_statistics.csv"] = "per unit: tests, q, AMI, gain fits, verdict, tuning fits; rf_class column"
      files["layer_statistics.csv"] = "per layer and receptive-field class (stratum)"
    }
    if p.allPasses { files["modulation_by_pass.csv"] = "per layer, pass and class: AMI median and mean with 95% CIs" }
    if r.attendedGlimpse != nil {
      files["glimpses.csv"] = "per stimulus: glimpse that attended the swept object, predictions"
    } else {
      files["predictions.csv"] = "per stimulus: the model's predicted class in each phase"
    }
    var summary: [String: Any] = [
      "protocol": p.name, "description": p.description, "protocol_file": p.file, "architecture": p.architecture,
      "weights": p.weights, "stimulus": p.stimulusSource, "stimuli": spec.count,
      "swept_parameters": spec.sweptParameters, "tuning_axis": p.tuningAxis, "tuning_reduce": p.reduce.rawValue,
      "attention_mode": record.attentionMode, "seed": record.seed, "ephys_version": record.ephysVersion,
      "definitions": record.definitions,
      "layers": layers, "units_total": r.units.units.count,
      "distractor_digit_accuracy_when_attended": digitAccuracy,
      "files": files, "warnings": record.warnings, "caveats": record.caveats,
      "units_selection": unitSelectionName(p.units),
      "trials": r.tuning.trials,
    ]
    if let fg = p.featureGain, case .featureGain(let gained, let beta, _, let target) = p.condition {
      var entry: [String: Any] = [
        "target": target, "values": fg.values.rawValue, "layers": gained, "beta": Double(beta),
        "source": p.featureGainNote,
      ]
      if let o = p.featureTargetOrientation { entry["target_orientation"] = o }
      summary["feature_gain"] = entry
    }
    if spec.repeats > 1 {
      summary["trial_noise"] = ["repeats": spec.repeats, "pixel_noise_sd": spec.trialNoise, "jitter": spec.jitter]
    }
    let details = net.summaryDetails
    if !details.isEmpty { summary["model"] = details }
    if let g = record.glimpseCounts {
      summary["object_attended_first"] = g.first
      summary["object_attended_second"] = g.second
    }
    if net.inputGeometry.channels != 1 || !net.inputGeometry.normalization.isIdentity {
      let n = net.inputGeometry.normalization
      summary["input"] = [
        "channels": net.inputGeometry.channels, "height": net.inputGeometry.height, "width": net.inputGeometry.width,
        "normalization_mean": n.mean, "normalization_std": n.std,
        "colour": spec.colours == nil ? "luminance in every channel" : "per-object colours",
      ]
    }
    let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}

/// The protocol name of a unit selection.
func unitSelectionName(_ u: UnitSelection) -> String {
  switch u {
  case .object: return "object"
  case .all: return "all"
  case .center: return "center"
  case .covering: return "covering"
  case .list(let l): return "list of \(l.count) units"
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
