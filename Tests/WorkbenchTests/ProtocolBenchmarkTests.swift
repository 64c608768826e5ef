import Analysis
import Foundation
import Recording
import Testing

@testable import Workbench

@Suite("The whole-protocol benchmark")
struct ProtocolBenchmarkTests {
  @Test("times inference, recording and the run's own statistics (trials included)")
  func benchmarkWithTrials() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let text = smallProtocol.replacingOccurrences(
      of: "  distractor:", with: "  repeats: 3\n  trial_noise: 0.05\n  distractor:")
    try text.write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
    let p = try ProtocolFile.load(dir + "/t.yaml")
    var notes: [String] = []
    let b = try ProtocolRunner.benchmark(p, repeats: 1) { notes.append($0) }
    #expect(b.stimuli == 3 * 6)
    #expect(b.units > 0)
    for t in [b.inferenceSeconds, b.recordingSeconds, b.statisticsSeconds] { #expect(t > 0 && t.isFinite) }
    #expect(notes.contains { $0.hasPrefix("statistics ") })

    // The record the benchmark analyses is the run's: with repeats, the trial F-test decides q.
    let loaded = try ProtocolRunner.load(p, seed: p.seed)
    let result = try Recording.record(loaded.plan, on: loaded.net)
    let record = ProtocolRunner.runRecord(
      loaded.spec, spec: loaded.sweep, net: loaded.net, result: result, seed: p.seed,
      values: result.tuning.curves(loaded.spec.reduce).values,
      trialValues: result.tuning.trialCurves(loaded.spec.reduce).values)
    #expect(record.trials == 3 && record.trialTuning != nil)
    let layers = ProtocolRunner.statisticsOfRun(record).run(
      count: record.units.count, observation: ProtocolRunner.runObservations(record), emit: { _, _, _ in })
    #expect(!layers.isEmpty && layers.allSatisfy { $0.included == 0 || $0.test == "F-test over trials" })
  }
}
