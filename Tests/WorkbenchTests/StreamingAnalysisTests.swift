import Analysis
import Engine
import Foundation
import Recording
import Testing

@testable import Workbench

@Suite("A run's statistics streamed over units")
struct StreamingAnalysisTests {
  /// A synthetic orientation run: `units` units over 2 layers, 12 orientations, every second unit
  /// with a 1.25 attention gain, classes object / distractor.
  static func record(units: Int, seed: UInt64 = 4) -> RunRecord {
    let axis = stride(from: 0.0, to: 180, by: 15).map { $0 }
    var random = RandomGenerator(seed: 9)
    var tuning = [Float](repeating: 0, count: axis.count * 2 * units)
    for k in 0..<units {
      let peak = Double(k % 12) * 15
      let gain = k % 2 == 0 ? 1.25 : 1.0
      for (i, o) in axis.enumerated() {
        let d = min(abs(o - peak), 180 - abs(o - peak))
        let u = 0.3 + 2 * exp(-d * d / 900)
        tuning[(i * 2) * units + k] = Float(gain * u + 0.05 * (random.nextUnit() - 0.5))
        tuning[(i * 2 + 1) * units + k] = Float(u + 0.05 * (random.nextUnit() - 0.5))
      }
    }
    let ids = (0..<units).map { UnitID(layer: $0 < units / 2 ? "conv1" : "conv2", channel: $0, y: 0, x: 0) }
    var r = RunRecord(
      protocolName: "synthetic", architecture: "none", weights: "none", stimulusSource: "generated", stimuli: 24,
      sweptParameters: ["orientation"], tuningAxis: "orientation", tuningReduce: "max", attentionMode: "spatial-gain",
      seed: seed, ephysVersion: "test", definitions: [:], glimpseCounts: nil, axis: axis, tuning: tuning, units: ids)
    r.classes = (0..<units).map { $0 % 3 == 0 ? "distractor" : "object" }
    return r
  }

  @Test("the streamed tables equal analyzeUnits on every unit's observations")
  func sameAsInMemory() throws {
    let record = Self.record(units: 240)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let context = ReportContext(title: "synthetic", summaryLines: [], axisName: "orientation")
    let (layers, _) = try ProtocolRunner.writeStreamingAnalysis(record, into: dir, context: context)
    let obs = (0..<240).map(ProtocolRunner.runObservations(record))
    let (units, expected) = analyzeUnits(obs, seed: record.seed, tuning: .wrappedGaussian(period: 180))
    #expect(try String(contentsOfFile: dir + "/unit_statistics.csv", encoding: .utf8) == unitsCSV(units))
    #expect(try String(contentsOfFile: dir + "/layer_statistics.csv", encoding: .utf8) == layersCSV(expected))
    #expect(layersCSV(layers) == layersCSV(expected))
    #expect(layers.count == 4)
    #expect(FileManager.default.fileExists(atPath: dir + "/report.pdf"))
    // Nothing but the outputs and the page images is left in the folder (no temporary tables).
    let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix("figure_") }
    #expect(left.sorted() == ["layer_statistics.csv", "report.pdf", "unit_statistics.csv"])
  }

  @Test("runs above the limit draw a seeded sample per layer and class; small runs draw every unit")
  func reportSample() {
    let record = Self.record(units: 400)
    let all = ReportSample(record)
    #expect(all.notes.isEmpty)
    #expect((0..<400).allSatisfy(all.keeps))
    let sample = ReportSample(record, limit: 100)
    // Four groups (2 layers x 2 classes): 25 units each, every group larger than that.
    #expect(sample.perGroup == 25)
    #expect(sample.notes.count == 4)
    #expect(sample.notes[0].contains("conv1 rf:distractor show a random sample of 25 of its 67 units (seed 4)"))
    for layer in ["conv1", "conv2"] {
      for cls in ["object", "distractor"] {
        let kept = (0..<400).filter {
          sample.keeps($0) && record.units[$0].layer == layer && record.classes![$0] == cls
        }
        #expect(kept.count == 25, "\(layer) \(cls)")
      }
    }
    let again = ReportSample(record, limit: 100)
    #expect((0..<400).allSatisfy { again.keeps($0) == sample.keeps($0) })
    let other = ReportSample(Self.record(units: 400, seed: 5), limit: 100)
    #expect((0..<400).contains { other.keeps($0) != sample.keeps($0) })
  }
}
