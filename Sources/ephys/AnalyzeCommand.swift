import Analysis
import ArgumentParser
import Foundation
import Workbench

/// `ephys analyze TABLE.csv`: statistics and a report for any paired attended/unattended table.
struct Analyze: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Statistics and a PDF report for a long-format table of attended and unattended responses.",
    discussion: """
      TABLE.csv needs a header row with columns unit, condition, attended, unattended, optionally layer and
      trial, and any other columns as group labels (subject, session, rf_class, ...; summaries are stratified
      by them); one row per unit and condition, or per unit, condition and trial (a trial pairs the attended and
      unattended responses to one stimulus draw). Writes DIR/units.csv (one row per unit: tests, q, AMI, gain
      fits, verdict with 'none' for units attention does not modulate after FDR, exclusion reason), DIR/layers.csv
      (per layer and stratum) and DIR/report.pdf. Units with non-finite values, fewer than two conditions or no
      response at all are excluded and counted. See docs/analysis.md.
      """)

  @Argument(help: "Long-format CSV table.") var table: String
  @Option(help: "Output folder.") var out = "Reports/analysis"
  @Option(help: "Seed of the bootstrap.") var seed: UInt64 = 1
  @Option(
    help:
      "Fit tuning curves to numeric conditions: wrapped-gaussian, von-mises (both periodic, see --period) or gaussian.")
  var tuningModel: String?
  @Option(help: "Period of the tuning axis for periodic models (180 for orientation).") var period: Double = 180
  @Flag(
    help:
      "The conditions are contrasts: fit Naka-Rushton functions per phase and classify attention as contrast, response or activity gain."
  )
  var contrast = false

  func run() throws {
    let obs: [UnitObservations]
    do { obs = try readUnitTable(table) } catch let e as TableError {
      FileHandle.standardError.write(Data((e.description + "\n").utf8))
      throw ExitCode(2)
    }
    var model: TuningModel? = nil
    switch tuningModel {
    case nil: break
    case "wrapped-gaussian": model = .wrappedGaussian(period: period)
    case "von-mises": model = .vonMises(period: period)
    case "gaussian": model = .gaussian
    default: throw ValidationError("--tuning-model must be wrapped-gaussian, von-mises or gaussian")
    }
    let temporary = try OutputFolder.begin(out, notice: note)
    defer { OutputFolder.abandon(temporary) }  // gone after the commit; removed on failure
    let (units, layers, _) = try writeAnalysis(
      obs, into: temporary,
      context: ReportContext(
        title: "Ephys report: \((table as NSString).lastPathComponent)",
        summaryLines: ["table: \(table)", "units: \(obs.count)"]),
      seed: seed, tuning: model, contrastAxis: contrast)
    try OutputFolder.commit(temporary, to: out)
    let excluded = units.filter { $0.excluded != nil }.count
    let modulated = units.filter { $0.excluded == nil && $0.verdict != "none" }.count
    say(
      "\(units.count) units (\(excluded) excluded, \(modulated) modulated after FDR), \(layers.count) layer/stratum row(s); results in \(out)/"
    )
  }
}

/// `ephys report RUN_DIR`: rebuilds a run's statistics and report from its stored results.
struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Rebuild the statistics and report.pdf of a run folder from its stored results (no model needed).")
  @Argument(help: "A folder written by `ephys run`.") var runDirectory: String
  @Flag(help: "List labels or legends that leave the page or overlap data or other text; exit 1 if any.")
  var checkLayout = false
  func run() throws {
    let problems = reportLayoutProblems(try ProtocolRunner.writeRunAnalysis(runDirectory))
    say("rebuilt \(runDirectory)/report.pdf, unit_statistics.csv and layer_statistics.csv")
    if checkLayout {
      for p in problems { say("layout: \(p)") }
      say("layout check: \(problems.count) problem(s)")
      if !problems.isEmpty { throw ExitCode(1) }
    }
  }
}

/// `ephys nwb RUN_DIR`: the run's results as one NWB 2.x file.
struct ExportNWB: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nwb",
    abstract: "Write run.nwb (NWB 2.x: trials, units, responses, stimuli) for a folder written by `ephys run`.",
    discussion: """
      Reads responses.npy, units.csv, unit_statistics.csv, tuning.npy and summary.json, and renders the stimuli
      again from the protocol with the run's seed. `ephys run --nwb` does the same at the end of a run. See
      docs/python.md for reading the file with pynwb and pynapple.
      """)
  @Argument(help: "A folder written by `ephys run` (with responses.npy).") var runDirectory: String
  @Option(help: "The protocol file the run used (default: summary.json's protocol_file).") var `protocol`: String?
  func run() throws {
    let start = Date()
    try RunNWB.export(runDirectory, protocolFile: `protocol`)
    say(String(format: "wrote %@/run.nwb in %.1f s", runDirectory, Date().timeIntervalSince(start)))
  }
}
