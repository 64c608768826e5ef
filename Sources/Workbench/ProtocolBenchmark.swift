import Analysis
import Engine
import Foundation
import ModelInterface
import Recording
import Stimuli

/// Seconds of a protocol's work, each the best of several runs (`ephys bench --protocol`).
public struct ProtocolBenchmark: Sendable {
  public var protocolName: String
  public var stimuli: Int
  public var units: Int
  public var threads: Int
  /// The same stimuli rendered and run through the model (both phases) with no layer recorded.
  public var inferenceSeconds: Double
  /// The recording as `ephys run` does it with `record.responses: false`: rendering, the model, the
  /// rows gathered from the layers and the tuning accumulators.
  public var recordingSeconds: Double
  /// Per-unit and per-layer statistics of the run's tuning curves (paired tests, AMI with bootstrap
  /// CIs, gain models, FDR, tuning fits): what unit_statistics.csv and layer_statistics.csv hold.
  public var statisticsSeconds: Double

  /// Recording time beyond pure inference, as a fraction of it.
  public var recordingOverhead: Double { recordingSeconds / max(1e-9, inferenceSeconds) - 1 }
  /// Recording and statistics (no PDF, no files).
  public var totalSeconds: Double { recordingSeconds + statisticsSeconds }
}

extension ProtocolRunner {
  /// Times `p`'s inference, recording and statistics in this process (best of `repeats` each).
  public static func benchmark(_ p: ProtocolSpec, repeats: Int = 3, notice: (String) -> Void = { _ in }) throws
    -> ProtocolBenchmark
  {
    let loaded = try load(p, seed: p.seed)
    let (net, spec, plan, resolved) = (loaded.net, loaded.sweep, loaded.plan, loaded.spec)
    let clock = ContinuousClock()
    func timed(_ body: () throws -> Void) rethrows -> Double {
      let t0 = clock.now
      try body()
      return seconds(clock.now - t0)
    }
    var inference = Double.infinity
    var recording = Double.infinity
    var statistics = Double.infinity
    var result: RecordingResult? = nil
    for r in 0..<max(1, repeats) {
      inference = min(
        inference,
        try timed {
          var start = 0
          while start < spec.count {
            let n = min(plan.batchSize, spec.count - start)
            let stimuli = Recording.renderStimuli(spec, start..<(start + n))
            _ = try net.record(stimuli, condition: plan.condition, layers: [])
            start += n
          }
        })
      recording = min(recording, try timed { result = try Recording.record(plan, on: net) })
      notice(
        String(
          format: "protocol run %d of %d: inference %.2f s, recording %.2f s", r + 1, repeats, inference, recording))
    }
    guard var result else { throw RecordingError("nothing was recorded") }
    if !resolved.condition.isModelCondition { result.attendedGlimpse = nil }
    // The run's own record, trials included, so that the statistics timed are the run's.
    let record = runRecord(
      resolved, spec: spec, net: net, result: result, seed: p.seed,
      values: result.tuning.curves(resolved.reduce).values,
      trialValues: result.tuning.trials > 1 ? result.tuning.trialCurves(resolved.reduce).values : nil)
    for r in 0..<max(1, repeats) {
      let seconds = timed {
        _ = statisticsOfRun(record).run(
          count: record.units.count, observation: runObservations(record), emit: { _, _, _ in })
      }
      statistics = min(statistics, seconds)
      notice(String(format: "statistics run %d of %d: %.2f s", r + 1, max(1, repeats), seconds))
    }
    return ProtocolBenchmark(
      protocolName: p.name, stimuli: spec.count, units: result.units.units.count, threads: Parallel.threads,
      inferenceSeconds: inference, recordingSeconds: recording, statisticsSeconds: statistics)
  }
}
