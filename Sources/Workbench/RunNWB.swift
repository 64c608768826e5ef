import Analysis
import Engine
import Foundation
import NWB
import Reports
import Stimuli

/// Writes a run folder's results as one NWB 2.x file (`run.nwb`), for pynwb, pynapple and DANDI.
///
/// Layout (a virtual clock of one trial per second, since a network has no time course):
/// - /intervals/trials: one trial per stimulus and phase (attended, unattended; one phase "none"
///   without attention), trial r from r s to r + 0.5 s; columns `stimulus` (row of conditions.csv and
///   frame of the stimulus series), `phase`, and every column of conditions.csv (the swept parameters).
/// - /units: one row per recorded unit, every column of units.csv (layer, channel, y, x, receptive-field
///   box, centre and class, measured receptive fields when mapped), the unit's attention statistics
///   from unit_statistics.csv (ami, q_bh, verdict, excluded_reason) and its tuning curves per phase.
/// - /processing/network/responses: TimeSeries [trials, units] of each unit's response per trial
///   (responses.npy reshaped; column k is units-table row k); pynapple reads it as a TsdFrame.
/// - /stimulus/presentation/stimuli: ImageSeries [stimuli, height, width] of the rendered stimuli
///   (luminance), stimulus i from 2i s at 0.5 Hz (under both of its trials).
/// - /general: the protocol file (protocol), summary.json (notes), the protocol's description
///   (experiment_description) and the Ephys version (source_script).
public enum RunNWB {
  /// Writes `dir/run.nwb` from the run folder's files (conditions.csv, units.csv, responses.npy,
  /// summary.json, unit_statistics.csv, tuning.npy) and the sweep `spec` (for the stimulus images).
  public static func write(
    _ dir: String, spec: StimulusSpec, protocolText: String, description: String, hasAttention: Bool,
    compression: Int = 1, progress: ((String) -> Void)? = nil
  ) throws {
    let summary = (try? String(contentsOfFile: dir + "/summary.json", encoding: .utf8)) ?? "{}"
    let responsesPath = dir + "/responses.npy"
    guard FileManager.default.fileExists(atPath: responsesPath) else {
      throw NWBError("\(dir)/run.nwb needs responses.npy (set record.responses: true)")
    }
    // Units.
    let unitRows = try parseCSV(
      try String(contentsOfFile: dir + "/units.csv", encoding: .utf8), file: dir + "/units.csv")
    guard let unitHeader = unitRows.first?.fields else { throw NWBError("\(dir)/units.csv is empty") }
    let unitCount = unitRows.count - 1
    var unitColumns = tableColumns(
      header: unitHeader, rows: unitRows.dropFirst().map(\.fields), descriptions: unitDescriptions)
    if hasAttention, let text = try? String(contentsOfFile: dir + "/unit_statistics.csv", encoding: .utf8) {
      let rows = try parseCSV(text, file: dir + "/unit_statistics.csv")
      if let header = rows.first?.fields, rows.count - 1 == unitCount {
        let keep = ["ami", "q_bh", "verdict", "excluded_reason"]
        let picked = keep.compactMap { name in header.firstIndex(of: name).map { (name, $0) } }
        let cells = rows.dropFirst().map { r in picked.map { r.fields.count > $0.1 ? r.fields[$0.1] : "" } }
        unitColumns += tableColumns(header: picked.map(\.0), rows: cells, descriptions: unitDescriptions)
      }
    }
    let tuning = try NPY.read(dir + "/tuning.npy")
    if tuning.shape.count == 3, tuning.shape[2] == unitCount {
      let (a, values) = (tuning.shape[0], try tuning.floats())
      for (phase, name) in ["attended", "unattended"].enumerated() where hasAttention || phase == 0 {
        var rows = [Float](repeating: 0, count: unitCount * a)
        for k in 0..<unitCount { for i in 0..<a { rows[k * a + i] = values[(i * 2 + phase) * unitCount + k] } }
        unitColumns.append(
          NWBColumn(
            name: hasAttention ? "tuning_\(name)" : "tuning",
            description: "tuning curve [units, axis values of tuning_axis.npy]\(hasAttention ? ", \(name) phase" : "")",
            values: .floatRows(rows, width: a)))
      }
    }
    // Trials.
    let conditionRows = try parseCSV(spec.conditionTableCSV(), file: "conditions.csv")
    let conditionHeader = conditionRows[0].fields
    let phases = hasAttention ? ["attended", "unattended"] : ["none"]
    let trialCount = spec.count * phases.count
    var trialCells: [[String]] = []
    trialCells.reserveCapacity(trialCount)
    for row in conditionRows.dropFirst() {
      for phase in phases { trialCells.append(row.fields + [phase]) }
    }
    let trialColumns = tableColumns(
      header: conditionHeader + ["phase"], rows: trialCells,
      descriptions: [
        "stimulus": "stimulus index: row of conditions.csv and frame of /stimulus/presentation/stimuli",
        "phase": "attended, unattended (the model's attention condition) or none",
      ])
    let starts = (0..<trialCount).map(Double.init)
    // Header checks before the file is created.
    let npyHeader = NPY.encode(
      StoredTensor(name: "r", shape: [spec.count, 2, unitCount], floats: []), headerOnly: true)
    let expected = UInt64(npyHeader.count) + UInt64(spec.count) * 2 * UInt64(unitCount) * 4
    let attrs = try FileManager.default.attributesOfItem(atPath: responsesPath)
    guard (attrs[.size] as? UInt64) == expected,
      let handle = FileHandle(forReadingAtPath: responsesPath),
      (try handle.read(upToCount: npyHeader.count)).map(Array.init) == npyHeader
    else {
      throw NWBError(
        "\(responsesPath) is not float32 [\(spec.count), 2, \(unitCount)] as units.csv and conditions.csv say")
    }
    defer { try? handle.close() }

    let identifier = "ephys-" + String(format: "%016llx", fnv1a(summary + protocolText))
    // NWB wants an explicit offset; the PDF date is UTC with "Z".
    let date = PDFDocument.creationDate.replacingOccurrences(of: "Z", with: "+00:00")
    let nwb = try NWBWriter(
      path: dir + "/run.nwb", identifier: identifier,
      sessionDescription: "Ephys in-silico recording: \(description)", sessionStartTime: date, fileCreateDate: date)
    try nwb.general(
      [
        ("protocol", protocolText), ("notes", summary), ("experiment_description", description),
        (
          "data_collection",
          "unit activations of an artificial neural network recorded by Ephys; no animal, no electrodes"
        ),
      ], sourceScript: ("Ephys \(ProtocolRunner.ephysVersion)", "ephys"))
    try nwb.trials(
      start: starts, stop: starts.map { $0 + 0.5 }, columns: trialColumns,
      description: "one trial per stimulus and phase; times on a virtual clock of one trial per second")
    try nwb.units(
      rows: unitCount, columns: unitColumns,
      description: "recorded network units (layer, channel, y, x of the layer's output map); no spike times")
    // Stimuli, rendered again from the sweep (deterministic, seeded).
    var frames = [Float]()
    frames.reserveCapacity(spec.count * spec.canvasHeight * spec.canvasWidth)
    for i in 0..<spec.count { frames += spec.stimulus(i).image }
    try nwb.stimulusImages(
      name: "stimuli", frames: frames, shape: [spec.count, spec.canvasHeight, spec.canvasWidth], startingTime: 0,
      rate: 1 / Double(phases.count), unit: "luminance (stimulus units, before the model's normalisation)",
      description:
        "every stimulus of the sweep; frame i is shown during trials \(phases.count == 2 ? "2i and 2i + 1" : "i")")
    // Responses, streamed from responses.npy in blocks of stimuli.
    try nwb.processingModule("network", description: "responses of the recorded network units")
    let writer = try nwb.timeSeries(
      module: "network", name: "responses", timestamps: starts, columns: unitCount,
      unit: "activation (layer output, arbitrary units)",
      description:
        "response of each unit (column k = row k of /units) in each trial (row r = row r of /intervals/trials)",
      comments: "responses.npy [stimuli, 2, units] as [trials, units]", compression: compression)
    // Blocks of whole chunk rows (1,024 trials): each compressed chunk is then written once, whole,
    // instead of being evicted half-filled from HDF5's chunk cache and recompressed.
    let chunkStimuli = NWBWriter.chunkRows / phases.count
    let block = chunkStimuli * max(1, (256 << 20) / max(1, NWBWriter.chunkRows * unitCount * 4))
    var done = 0
    while done < spec.count {
      let n = min(block, spec.count - done)
      guard let bytes = try handle.read(upToCount: n * 2 * unitCount * 4), bytes.count == n * 2 * unitCount * 4 else {
        throw NWBError("\(responsesPath): ended early at stimulus \(done)")
      }
      var values = [Float](repeating: 0, count: n * 2 * unitCount)
      _ = values.withUnsafeMutableBytes { bytes.copyBytes(to: $0) }
      if !hasAttention {  // keep phase 0 of each stimulus
        values = (0..<n).flatMap { i in values[(i * 2 * unitCount)..<((i * 2 + 1) * unitCount)] }
      }
      try values.withUnsafeBufferPointer { try writer.append($0) }
      done += n
      progress?("NWB: \(done)/\(spec.count) stimuli")
    }
    try writer.finish()
    try nwb.finish()
  }

  /// Writes `dir/run.nwb` for a finished run folder (`ephys nwb`): the stimuli are rendered again
  /// from the protocol (summary.json's protocol_file unless `protocolFile` is given) with the run's
  /// seed; the protocol must still describe the run (the stimulus count and responses are checked).
  public static func export(_ dir: String, protocolFile: String? = nil, progress: ((String) -> Void)? = nil) throws {
    guard let data = FileManager.default.contents(atPath: dir + "/summary.json"),
      let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw NWBError("\(dir)/summary.json is missing or not JSON: is this a folder written by ephys run?") }
    guard let file = protocolFile ?? summary["protocol_file"] as? String else {
      throw NWBError("\(dir)/summary.json names no protocol_file; pass --protocol")
    }
    let p = try ProtocolFile.load(file)
    let seed = (summary["seed"] as? Int).flatMap { UInt64(exactly: $0) } ?? p.seed
    let input = ProtocolFile.inputCanvas(p.architecture, weights: p.weights, stimulus: p.stimulus)
    let spec = try ProtocolRunner.materialize(p.stimulus, height: input.height, width: input.width, seed: seed)
    if let n = summary["stimuli"] as? Int, n != spec.count {
      throw NWBError("\(file) now gives \(spec.count) stimuli, the run in \(dir) had \(n): pass the protocol it ran")
    }
    let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
    try write(
      dir, spec: spec, protocolText: text, description: p.description.isEmpty ? p.name : p.description,
      hasAttention: (summary["attention_mode"] as? String ?? p.condition.name) != "none", progress: progress)
  }

  /// Columns from CSV cells: integers as int64, numbers (empty = NaN) as float64, else strings.
  static func tableColumns(header: [String], rows: [[String]], descriptions: [String: String]) -> [NWBColumn] {
    header.enumerated().map { j, name in
      let cells = rows.map { $0.count > j ? $0[j] : "" }
      let description = descriptions[name] ?? "\(name) (see docs/protocols.md, outputs)"
      if !cells.isEmpty, cells.allSatisfy({ Int64($0) != nil }) {
        return NWBColumn(name: name, description: description, values: .int64s(cells.map { Int64($0)! }))
      }
      if !cells.isEmpty, cells.allSatisfy({ $0.isEmpty || Double($0) != nil }), cells.contains(where: { !$0.isEmpty }) {
        return NWBColumn(name: name, description: description, values: .doubles(cells.map { Double($0) ?? .nan }))
      }
      return NWBColumn(name: name, description: description, values: .strings(cells))
    }
  }

  static let unitDescriptions: [String: String] = [
    "unit": "row of units.csv and column of responses.npy",
    "layer": "recorded layer (its output map)", "channel": "channel of the layer's output map",
    "y": "row of the layer's output map", "x": "column of the layer's output map",
    "rf_row_min": "receptive field: first input row (pixels, geometric, clamped to the canvas)",
    "rf_row_max": "receptive field: last input row (pixels)", "rf_col_min": "receptive field: first input column",
    "rf_col_max": "receptive field: last input column",
    "rf_centre_row": "geometric receptive-field centre, input row (pixels, not clamped)",
    "rf_centre_col": "geometric receptive-field centre, input column (pixels, not clamped)",
    "rf_class": "where the receptive field lies in the sweep: object, distractor, both, neither",
    "measured_centre_row": "measured receptive-field centre (RF mapping), input row; NaN where not mapped",
    "measured_centre_col": "measured receptive-field centre (RF mapping), input column; NaN where not mapped",
    "measured_size_px": "measured receptive-field size (RF mapping), pixels; NaN where not mapped",
    "ami": "attention modulation index (A - U) / (A + U) of the mean responses; NaN when excluded",
    "q_bh": "Benjamini-Hochberg q of the attention test over included units",
    "verdict": "gain-model verdict: multiplicative, additive, affine or none",
    "excluded_reason": "why the unit was excluded from the statistics (empty when included)",
  ]
}
