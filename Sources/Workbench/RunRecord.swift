import Engine
import Foundation
import ModelInterface
import Recording

/// A run's results as one typed value: what the statistics and the PDF report need. `ephys run`
/// builds it in memory from the recording; `ephys report` reads it back from a run folder
/// (summary.json, units.csv, tuning.npy, tuning_axis.npy). Fields a model does not produce are nil.
public struct RunRecord: Sendable {
  public var protocolName: String
  public var architecture: String
  public var weights: String
  public var stimulusSource: String
  public var stimuli: Int
  public var sweptParameters: [String]
  public var tuningAxis: String
  public var tuningReduce: String
  public var attentionMode: String
  public var seed: UInt64
  public var ephysVersion: String
  /// Plain-language definitions (unit, response, phases, tuning, silent units).
  public var definitions: [String: String]
  /// Stimuli whose swept object was attended in glimpse 1 and in glimpse 2 (glimpse models only).
  public var glimpseCounts: (first: Int, second: Int)?
  /// Tuning axis values and the tuning curves [axis, 2 phases, units].
  public var axis: [Double]
  public var tuning: [Float]
  /// Recorded units in output order.
  public var units: [UnitID]
  /// Each unit's receptive-field class in the sweep (object, distractor, both, neither); nil when the
  /// run folder predates classes.
  public var classes: [String]? = nil
  /// Trials per condition and each trial's tuning curves [trial, axis, 2, units] (nil with one trial).
  public var trials: Int = 1
  public var trialTuning: [Float]? = nil
  /// Warnings about the unit selection and caveats about the design.
  public var warnings: [String] = []
  public var caveats: [String] = []

  /// The attended orientation of a feature-gain run (degrees), for the feature-similarity analysis.
  public var featureTargetOrientation: Double? = nil

  /// Whether the run has attention phases to compare (attention mode other than none).
  public var hasAttention: Bool { attentionMode != "none" }

  /// Reads the record of a run folder; errors name the file and what is wrong.
  public static func read(_ dir: String) throws -> RunRecord {
    let stored = try NPY.read(dir + "/tuning.npy")
    let axis = try NPY.read(dir + "/tuning_axis.npy").floats().map(Double.init)
    guard stored.shape.count == 3, stored.shape[0] == axis.count, stored.shape[1] == 2 else {
      throw RecordingError("\(dir)/tuning.npy has shape \(stored.shape); expected [\(axis.count), 2, units]")
    }
    let u = stored.shape[2]
    let unitRows = try String(contentsOfFile: dir + "/units.csv", encoding: .utf8).split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    guard unitRows.count == u else {
      throw RecordingError("\(dir)/units.csv lists \(unitRows.count) units, tuning.npy has \(u)")
    }
    let header =
      (try String(contentsOfFile: dir + "/units.csv", encoding: .utf8)).split(separator: "\n").first.map {
        $0.split(separator: ",").map(String.init)
      } ?? []
    let classColumn = header.firstIndex(of: "rf_class")
    let units = try unitRows.enumerated().map { k, row -> UnitID in
      guard row.count >= 5, let c = Int(row[2]), let y = Int(row[3]), let x = Int(row[4]) else {
        throw RecordingError("\(dir)/units.csv:\(k + 2): expected unit, layer, channel, y, x, found \(row.count) cells")
      }
      return UnitID(layer: String(row[1]), channel: c, y: y, x: x)
    }
    guard let data = FileManager.default.contents(atPath: dir + "/summary.json"),
      let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw RecordingError("\(dir)/summary.json is missing or not JSON") }
    func field(_ k: String) -> String { summary[k].map { "\($0)" } ?? "" }
    var glimpses: (Int, Int)? = nil
    if let first = summary["object_attended_first"] as? Int, let second = summary["object_attended_second"] as? Int {
      glimpses = (first, second)
    }
    var trials = 1
    var trialTuning: [Float]? = nil
    if FileManager.default.fileExists(atPath: dir + "/tuning_trials.npy") {
      let t = try NPY.read(dir + "/tuning_trials.npy")
      guard t.shape.count == 4, t.shape[1] == axis.count, t.shape[2] == 2, t.shape[3] == u else {
        throw RecordingError(
          "\(dir)/tuning_trials.npy has shape \(t.shape); expected [trials, \(axis.count), 2, \(u)]")
      }
      trials = t.shape[0]
      trialTuning = try t.floats()
    }
    var record = RunRecord(
      protocolName: field("protocol"), architecture: field("architecture"), weights: field("weights"),
      stimulusSource: field("stimulus"), stimuli: summary["stimuli"] as? Int ?? 0,
      sweptParameters: summary["swept_parameters"] as? [String] ?? [],
      tuningAxis: summary["tuning_axis"] as? String ?? "condition", tuningReduce: field("tuning_reduce"),
      attentionMode: field("attention_mode"), seed: (summary["seed"] as? Int).flatMap { UInt64(exactly: $0) } ?? 1,
      ephysVersion: field("ephys_version"), definitions: summary["definitions"] as? [String: String] ?? [:],
      glimpseCounts: glimpses, axis: axis, tuning: try stored.floats(), units: units)
    if let c = classColumn {
      let classes = unitRows.map { $0.count > c ? String($0[c]) : "" }
      if classes.allSatisfy({ !$0.isEmpty }) { record.classes = classes }
    }
    record.trials = trials
    record.trialTuning = trialTuning
    record.warnings = summary["warnings"] as? [String] ?? []
    record.featureTargetOrientation = (summary["feature_gain"] as? [String: Any])?["target_orientation"] as? Double
    record.caveats = summary["caveats"] as? [String] ?? []
    return record
  }

  /// The report's opening lines: where the data came from and what the phases are.
  public var summaryLines: [String] {
    var lines = [
      "protocol: \(protocolName)   model: \(architecture)   weights: \(weights)",
      "stimuli: \(stimuli) (\(sweptParameters.joined(separator: " x ")))   stimulus file: \(stimulusSource)",
      "attention: \(attentionMode)   tuning axis: \(tuningAxis) (\(tuningReduce) over the rest)   seed: \(seed)   Ephys \(ephysVersion)",
    ]
    if let g = glimpseCounts {
      lines.append("swept object attended in glimpse 1: \(g.first) stimuli, glimpse 2: \(g.second)")
    }
    lines += [
      "phases: \(definitions["phases"] ?? "")", "response: \(definitions["response"] ?? "")",
      "conditions of the statistics: the \(axis.count) tuning values (axis points) of each unit"
        + (trials > 1 ? ", \(trials) trials each (repeats with independent noise draws)" : ""),
    ]
    return lines
  }
}
