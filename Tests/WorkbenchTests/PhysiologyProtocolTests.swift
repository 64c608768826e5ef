import Analysis
import Engine
import Foundation
import ModelInterface
import Models
import Recording
import Stimuli
import Testing
import Workbench

/// Reads a CSV Ephys wrote as rows of cells, header first (quoted cells such as "conv1[3,12,8]" kept whole).
func csvRows(_ path: String) throws -> [[String]] {
  try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
    var cells: [String] = []
    var cell = ""
    var quoted = false
    for ch in line {
      if ch == "\"" {
        quoted.toggle()
      } else if ch == "," && !quoted {
        cells.append(cell)
        cell = ""
      } else {
        cell.append(ch)
      }
    }
    cells.append(cell)
    return cells
  }
}

@Suite("Physiology protocols: receptive-field classes, trials, passes")
struct PhysiologyProtocolTests {
  @Test("every unit is classed by its receptive field; the default records the swept object's units only")
  func receptiveFieldClasses() throws {
    let dir = try scratchFolder()
    try smallProtocol.write(toFile: dir + "/all.yaml", atomically: true, encoding: .utf8)
    let p = try ProtocolFile.load(dir + "/all.yaml")
    let all = try ProtocolRunner.run(p, output: dir + "/all")
    // The classes follow from the boxes and the sweep's footprint, recomputed here from the stimuli.
    let spec = try ProtocolRunner.materialize(p.stimulus, height: 28, width: 42, seed: 3)
    var object = [Bool](repeating: false, count: 28 * 42)
    var distractor = object
    for i in 0..<spec.count {
      let s = spec.stimulus(i)
      let po = s.object.max()! * 0.1
      let pd = s.distractor.max()! * 0.1
      for j in object.indices {
        if s.object[j] > po { object[j] = true }
        if s.distractor[j] > pd { distractor[j] = true }
      }
    }
    let rows = try csvRows(dir + "/all/units.csv")
    #expect(rows[0].suffix(3) == ["rf_centre_row", "rf_centre_col", "rf_class"])
    var counts: [String: Int] = [:]
    for row in rows.dropFirst() {
      let (r0, r1, c0, c1) = (Int(row[5])!, Int(row[6])!, Int(row[7])!, Int(row[8])!)
      var o = false
      var d = false
      for r in r0...r1 {
        for c in c0...c1 {
          o = o || object[r * 42 + c]
          d = d || distractor[r * 42 + c]
        }
      }
      let want = o && d ? "both" : o ? "object" : d ? "distractor" : "neither"
      #expect(row[11] == want, "\(row)")
      counts[row[11], default: 0] += 1
    }
    #expect(counts["object"]! > 0 && counts["distractor"]! > 0)
    // Layer statistics come per layer and class, never pooled.
    let layers = try csvRows(dir + "/all/layer_statistics.csv")
    #expect(layers[0][1] == "stratum")
    #expect(
      Set(layers.dropFirst().map { $0[1] }).isSubset(of: [
        "rf_class=object", "rf_class=distractor", "rf_class=both", "rf_class=neither",
      ]))
    #expect(layers.dropFirst().filter { $0[0] == "conv2" }.count >= 2)
    let summary =
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/all/summary.json")))
      as! [String: Any]
    #expect((summary["definitions"] as! [String: String])["rf_class"]!.contains("10%"))

    // Without `units`, only units whose receptive field covers the swept object and not the distractor.
    try smallProtocol.replacingOccurrences(of: "  units: all\n", with: "").write(
      toFile: dir + "/default.yaml", atomically: true, encoding: .utf8)
    let d = try ProtocolRunner.run(try ProtocolFile.load(dir + "/default.yaml"), output: dir + "/default")
    #expect(d.units == counts["object"]!)
    #expect(try csvRows(dir + "/default/units.csv").dropFirst().allSatisfy { $0[11] == "object" })
    #expect(all.units == rows.count - 1)

    // Centre units whose field lies on the distractor are recorded, with a warning naming them.
    try smallProtocol.replacingOccurrences(of: "units: all", with: "units: center").write(
      toFile: dir + "/center.yaml", atomically: true, encoding: .utf8)
    let c = try ProtocolRunner.run(try ProtocolFile.load(dir + "/center.yaml"), output: dir + "/center")
    let centreClasses = try csvRows(dir + "/center/units.csv").dropFirst().map { $0[11] }
    if centreClasses.contains(where: { $0 == "distractor" || $0 == "both" }) {
      #expect(c.warnings.contains { $0.contains("receptive field on the distractor") })
    }
    // A selection with no unit is an error that says why, and nothing is written.
    let nothing = smallProtocol.replacingOccurrences(of: "  units: all\n", with: "").replacingOccurrences(
      of: "{kind: digit, class: 7, region: right}", with: "{kind: noise, amplitude: 0.5, region: whole}")
    try nothing.write(toFile: dir + "/none.yaml", atomically: true, encoding: .utf8)
    #expect {
      try ProtocolRunner.run(try ProtocolFile.load(dir + "/none.yaml"), output: dir + "/none")
    } throws: { ($0 as? RecordingError)?.message.contains("units: all") ?? false }
    #expect(!FileManager.default.fileExists(atPath: dir + "/none"))
  }

  @Test("repeats with pixel noise give trials: per-trial tuning, the trial F-test, the same bytes for the same seed")
  func trials() throws {
    let dir = try scratchFolder()
    let text = smallProtocol.replacingOccurrences(
      of: "  distractor:", with: "  repeats: 4\n  trial_noise: 0.05\n  distractor:")
    try text.write(toFile: dir + "/t.yaml", atomically: true, encoding: .utf8)
    let p = try ProtocolFile.load(dir + "/t.yaml")
    let outcome = try ProtocolRunner.run(p, output: dir + "/t1")
    #expect(outcome.stimuli == 4 * 6)
    let trials = try NPY.read(dir + "/t1/tuning_trials.npy")
    #expect(trials.shape == [4, 3, 2, outcome.units])
    // The mean over trials is the tuning curve.
    let values = try trials.floats()
    let mean = try NPY.read(dir + "/t1/tuning.npy").floats()
    let width = 3 * 2 * outcome.units
    for j in stride(from: 0, to: width, by: 97) {
      let m = (0..<4).map { Double(values[$0 * width + j]) }.reduce(0, +) / 4
      #expect(abs(Double(mean[j]) - m) < 1e-5 * max(1, abs(m)))
    }
    let stats = try csvRows(dir + "/t1/unit_statistics.csv")
    let header = stats[0]
    let included = stats.dropFirst().filter { $0[header.firstIndex(of: "excluded_reason")!].isEmpty }
    #expect(!included.isEmpty)
    #expect(
      included.allSatisfy {
        $0[header.firstIndex(of: "trials")!] == "4" && !$0[header.firstIndex(of: "trial_p")!].isEmpty
      })
    #expect(try csvRows(dir + "/t1/layer_statistics.csv")[1][7] == "F-test over trials")
    // The noise draws differ between repeats, and a second run writes the same bytes.
    #expect((0..<width).contains { values[$0] != values[width + $0] })
    _ = try ProtocolRunner.run(p, output: dir + "/t2")
    for f in ["tuning_trials.npy", "unit_statistics.csv", "layer_statistics.csv", "responses.npy"] {
      #expect(
        FileManager.default.contents(atPath: dir + "/t1/" + f)
          == FileManager.default.contents(atPath: dir + "/t2/" + f), "\(f)")
    }
    // Repeats of a deterministic network without noise would be identical: refused with the line.
    try smallProtocol.replacingOccurrences(of: "  distractor:", with: "  repeats: 4\n  distractor:").write(
      toFile: dir + "/same.yaml", atomically: true, encoding: .utf8)
    #expect {
      try ProtocolFile.load(dir + "/same.yaml")
    } throws: { "\($0)".contains("same.yaml:12") && "\($0)".contains("trial_noise") }
  }

  @Test("record.passes: all gives attention modulation per pass (CSV and report page)") func passes() throws {
    let dir = try scratchFolder()
    try smallProtocol.replacingOccurrences(of: "  units: all\n", with: "  units: all\n  passes: all\n").write(
      toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    _ = try ProtocolRunner.run(try ProtocolFile.load(dir + "/p.yaml"), output: dir + "/p")
    let rows = try csvRows(dir + "/p/modulation_by_pass.csv")
    #expect(rows[0].prefix(5) == ["layer", "pass", "stratum", "included", "ami_median"])
    // Passes 1 ... T of both layers, for at least one class each.
    let passes = ObjectAttentionConfig.mnist().passes
    for layer in ["conv1", "conv2"] {
      #expect(Set(rows.dropFirst().filter { $0[0] == layer }.map { Int($0[1])! }) == Set(1...passes))
    }
    let pdf = try String(decoding: Data(contentsOf: URL(fileURLWithPath: dir + "/p/report.pdf")), as: UTF8.self)
    #expect(pdf.contains("/Type /Page"))
    // A feedforward model refuses passes: all.
    let zoo = """
      name: z
      model: {architecture: alexnet, weights: random}
      stimulus: {kind: grating, canvas: [64, 64], parameters: {orientation: [0, 90], x: 32, y: 32}}
      attention: {mode: none}
      record: {layers: [features.1], units: center, passes: all}
      tuning: {axis: orientation}
      """
    try zoo.write(toFile: dir + "/z.yaml", atomically: true, encoding: .utf8)
    #expect {
      try ProtocolRunner.run(try ProtocolFile.load(dir + "/z.yaml"), output: dir + "/z")
    } throws: { "\($0)".contains("recurrent") }
  }
}
