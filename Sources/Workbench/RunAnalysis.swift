import Analysis
import Engine
import Foundation
import ModelInterface
import Recording
import Reports

extension ProtocolRunner {
  /// The tuning-curve model fitted to a run's curves: a wrapped Gaussian of period 180 degrees for
  /// orientation, a Gaussian for every other axis.
  static func tuningModel(axis: String) -> TuningModel {
    axis == "orientation" ? .wrappedGaussian(period: 180) : .gaussian
  }

  /// The version written into summaries and reports.
  static let ephysVersion = "0.1.0"

  /// Statistics and the PDF report of a run folder, from its stored results alone (no model): the
  /// tuning curves (tuning.npy, tuning_axis.npy), the unit table and summary.json. Used by the runner
  /// and by `ephys report`.
  @discardableResult
  public static func writeRunAnalysis(_ dir: String) throws -> [[DrawnElement]] {
    try writeRunAnalysis(try RunRecord.read(dir), into: dir)
  }

  /// Statistics and the PDF report of a run record, written into `dir` (where the run's montage and
  /// any model outputs such as the gating evaluation are).
  /// Returns every report page's drawn elements (see `reportLayoutProblems`); `progress(done, total)`
  /// follows the per-unit statistics.
  @discardableResult
  public static func writeRunAnalysis(
    _ record: RunRecord, into dir: String, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> [[DrawnElement]] {
    var context = ReportContext(
      title: "Ephys report: \(record.protocolName)", summaryLines: record.summaryLines, axisName: record.tuningAxis,
      montagePNG: dir + "/montage.png")
    context.warnings = record.warnings
    context.caveats = record.caveats
    if let target = record.featureTargetOrientation, record.tuningAxis == "orientation", record.hasAttention {
      try writeFeatureSimilarity(record, target: target, into: dir)
    }
    context.measurePages = measurePages(dir)
    // Gating pages belong to runs whose attention is the model's own gating (glimpses, cue), not to
    // a spatial or channel gain applied to the same model.
    if !AttentionCondition.layerConditions.contains(record.attentionMode),
      let text = try? String(contentsOfFile: dir + "/inhibition.csv", encoding: .utf8)
    {
      let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",") }.filter { $0.count == 3 }
      context.inhibition = (rows.compactMap { Double($0[1]) }, rows.compactMap { Double($0[2]) })
      context.attentionPNGs = (0..<4).map { dir + "/attention_\($0).png" }.filter {
        FileManager.default.fileExists(atPath: $0)
      }
    }
    guard record.hasAttention else {
      // No phases to compare: the report holds the summary, the stimuli and the measures.
      return try writeReport(dir + "/report.pdf", obs: [], units: [], layers: [], context: context)
    }
    let (layers, layout) = try writeStreamingAnalysis(record, into: dir, context: context, progress: progress)
    if layers.contains(where: { splitPassLayerName($0.layer).pass != nil }) {
      try writeFileAtomically(Array(modulationByPassCSV(layers).utf8), to: dir + "/modulation_by_pass.csv")
    }
    return layout
  }

  /// A run's paired observations, unit by unit: unit k's conditions are the tuning axis values, A and
  /// U its attended and unattended tuning values (with the trials' values when there are repeats),
  /// grouped by its receptive-field class. The condition labels are formatted once for every unit.
  static func runObservations(_ record: RunRecord) -> (Int) -> UnitObservations {
    let conditions = record.axis.map(formatNumberForTable)
    return { k in runObservation(record, k, conditions: conditions) }
  }

  /// The statistics a run's units get: seeded by the run, its curves fitted with `tuningModel(axis:)`,
  /// Naka-Rushton fits on a contrast axis.
  static func statisticsOfRun(_ record: RunRecord) -> StreamingUnitAnalysis {
    StreamingUnitAnalysis(
      seed: record.seed, tuning: tuningModel(axis: record.tuningAxis), contrastAxis: record.tuningAxis == "contrast")
  }

  /// Unit `k`'s observations (see `runObservations`), its condition labels given.
  static func runObservation(_ record: RunRecord, _ k: Int, conditions: [String]) -> UnitObservations {
    let axis = record.axis
    let u = record.units.count
    let unit = record.units[k]
    let name = "\(unit.layer)[\(unit.channel),\(unit.y),\(unit.x)]"
    let groups = record.classes.map { [(name: "rf_class", value: $0[k])] } ?? []
    if let trialValues = record.trialTuning, record.trials > 1 {
      let width = axis.count * 2 * u
      let a = (0..<axis.count).map { i in
        (0..<record.trials).map { t in Double(trialValues[t * width + (i * 2) * u + k]) }
      }
      let un = (0..<axis.count).map { i in
        (0..<record.trials).map { t in Double(trialValues[t * width + (i * 2 + 1) * u + k]) }
      }
      return UnitObservations(
        unit: name, layer: unit.layer, conditions: conditions, attendedTrials: a, unattendedTrials: un,
        groups: groups)
    }
    let a = (0..<axis.count).map { Double(record.tuning[($0 * 2) * u + k]) }
    let un = (0..<axis.count).map { Double(record.tuning[($0 * 2 + 1) * u + k]) }
    return UnitObservations(
      unit: name, layer: unit.layer, conditions: conditions, attended: a, unattended: un, groups: groups)
  }

  /// The per-unit statistics of a run as `analyzeUnits` defines them, streamed over its units:
  /// unit_statistics.csv written a chunk at a time, layer_statistics.csv, and the report drawn from
  /// the units `ReportSample` keeps (every unit of runs up to `reportUnitLimit`). Memory stays at the chunk
  /// plus about 100 bytes per unit. Returns the layer summaries and the report's drawn elements.
  static func writeStreamingAnalysis(
    _ record: RunRecord, into dir: String, context: ReportContext, reportUnitLimit: Int = ReportSample.allUnitsUpTo,
    progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> (
    layers: [LayerSummary], layout: [[DrawnElement]]
  ) {
    let analysis = statisticsOfRun(record)
    let sample = ReportSample(record, limit: reportUnitLimit)
    let groupNames = record.classes == nil ? [] : ["rf_class"]
    let table = try TextStreamWriter(path: dir + "/unit_statistics.csv")
    try table.line(unitsCSVHeader(groupNames: groupNames))
    var keptObservations: [UnitObservations] = []
    var keptResults: [UnitResult] = []
    let layers = try analysis.run(
      count: record.units.count, observation: runObservations(record),
      emit: { first, observations, results in
        for row in parallelMap(results, { $0.csvRow(groupNames: groupNames) }) { try table.line(row) }
        for (i, r) in results.enumerated() where sample.keeps(first + i) {
          keptObservations.append(observations[i])
          keptResults.append(r)
        }
      }, progress: progress)
    try table.finish()
    try writeFileAtomically(Array(layersCSV(layers).utf8), to: dir + "/layer_statistics.csv")
    var context = context
    context.caveats += sample.notes
    let layout = try writeReport(
      dir + "/report.pdf", obs: keptObservations, units: keptResults, layers: layers, context: context)
    return (layers, layout)
  }
}
