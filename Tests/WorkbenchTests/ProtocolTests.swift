import Engine
import Foundation
import ModelInterface
import Models
import Recording
import Testing
import Workbench

/// A temporary folder with a random-weight object-attention checkpoint.
func scratchFolder() throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-protocol-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  try ObjectAttentionNet(.mnist(), seed: 11).saveCheckpoint(to: dir + "/net.safetensors")
  return dir
}

let smallProtocol = """
  name: small
  model:
    architecture: object-attention-mnist
    weights: net.safetensors
  stimulus:
    kind: gaussian-bar
    parameters:
      orientation: {from: 0, to: 90, steps: 3}
      width: [1, 2]
      x: 8
      y: 14
    distractor: {kind: digit, class: 7, region: right}
  attention:
    mode: glimpses
  record:
    layers: [conv1, conv2]
    units: all
  tuning:
    axis: orientation
    reduce: max
  seed: 3
  """

@Suite("Protocol files and the runner")
struct ProtocolTests {
  @Test("typos and bad values: one located message per problem, nothing written") func badProtocol() throws {
    let dir = try scratchFolder()
    let text = """
      name: broken
      model:
        architecture: object-atention-mnist
        weights: missing.safetensors
      stimulus:
        kind: gaussian-bar
        parameters:
          orientaton: {from: 0, to: 180, steps: 21}
          width: {from: 1, to: 2, steps: 0}
          x: abc
      attention:
        mode: glimpse
      record:
        layrs: [conv1]
        units: everything
      tuning:
        axis: orientation
      seed: -4
      extra: 1
      """
    try text.write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
    do {
      _ = try ProtocolFile.load(dir + "/broken.yaml")
      Issue.record("a broken protocol was accepted")
    } catch let e as ProtocolErrors {
      let lines = e.issues.map(\.description)
      print("PROTOCOL ERRORS\n" + lines.joined(separator: "\n"))
      func has(_ line: Int, _ key: String, _ text: String) -> Bool {
        e.issues.contains {
          $0.line == line && $0.key == key && $0.message.contains(text) && $0.file.hasSuffix("broken.yaml")
        }
      }
      #expect(has(3, "model.architecture", "did you mean 'object-attention-mnist'"))
      #expect(has(4, "model.weights", "no such file"))
      #expect(has(8, "stimulus.parameters.orientaton", "unknown key; did you mean 'orientation'"))
      #expect(has(9, "stimulus.parameters.width.steps", "must be >= 1, found 0"))
      #expect(has(10, "stimulus.parameters.x", "expected a number, found 'abc'"))
      #expect(has(12, "attention.mode", "did you mean 'glimpses'"))
      #expect(has(14, "record.layrs", "did you mean 'layers'"))
      #expect(has(15, "record.units", "'everything' is not one of object, all, center, covering"))
      #expect(has(17, "tuning.axis", "'orientation' is not swept"))
      #expect(has(18, "seed", "must be >= 0"))
      #expect(has(19, "extra", "unknown key"))
      #expect(e.issues.contains { $0.key == "record.layers" && $0.message == "is required" })
    }
    #expect(!FileManager.default.fileExists(atPath: "Reports/broken"))
    // YAML syntax errors are located too.
    try "name: x\nmodel: [unclosed\n".write(toFile: dir + "/syntax.yaml", atomically: true, encoding: .utf8)
    #expect { try ProtocolFile.load(dir + "/syntax.yaml") } throws: {
      ($0 as? ProtocolErrors)?.issues.first?.line ?? 0 >= 2
    }
  }

  @Test("a small protocol runs end to end; same seed, byte-identical files") func runTwice() throws {
    let dir = try scratchFolder()
    try smallProtocol.write(toFile: dir + "/small.yaml", atomically: true, encoding: .utf8)
    let spec = try ProtocolFile.load(dir + "/small.yaml")
    let a = try ProtocolRunner.run(spec, output: dir + "/run-a")
    _ = try ProtocolRunner.run(spec, output: dir + "/run-b")
    #expect(a.stimuli == 6 && a.units == 20 * 25 * 39 + 50 * 9 * 16)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/run-a").sorted()
    let required = [
      "conditions.csv", "glimpses.csv", "layer_statistics.csv", "montage.png", "report.pdf", "responses.npy",
      "summary.json",
      "tuning.csv", "tuning.npy", "tuning_axis.npy", "tuning_examples.png", "unit_statistics.csv", "units.csv",
      "inhibition.csv", "attention_0.png", "figure_01.png",
    ]
    #expect(Set(required).isSubset(of: Set(files)), "missing: \(Set(required).subtracting(files).sorted())")
    for f in files {
      #expect(
        FileManager.default.contents(atPath: dir + "/run-a/" + f)
          == FileManager.default.contents(atPath: dir + "/run-b/" + f), "\(f) differs between runs")
    }
    // Responses agree with the tuning maxima: [stimuli, 2, units].
    let responses = try NPY.read(dir + "/run-a/responses.npy")
    #expect(responses.shape == [6, 2, a.units])
    let tuning = try NPY.read(dir + "/run-a/tuning.npy")
    #expect(tuning.shape == [3, 2, a.units])
    let r = try responses.floats()
    let t = try tuning.floats()
    let u = a.units
    for unit in stride(from: 0, to: u, by: 997) {
      // orientation index 1 = stimuli 2 and 3 (width fastest); phase 0
      #expect(t[(1 * 2 + 0) * u + unit] == max(r[(2 * 2 + 0) * u + unit], r[(3 * 2 + 0) * u + unit]))
    }
    let glimpses = try String(contentsOfFile: dir + "/run-a/glimpses.csv", encoding: .utf8).split(separator: "\n")
      .dropFirst()
    #expect(glimpses.allSatisfy { $0.split(separator: ",")[1] == "0" || $0.split(separator: ",")[1] == "1" })
    // A different seed only matters for noise; with noise 0 results are equal, and the seed is recorded.
    let summary =
      try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: dir + "/run-a/summary.json")!)
      as! [String: Any]
    #expect(summary["seed"] as? Int == 3 && summary["units_total"] as? Int == u)
  }

  @Test("cue and spatial-gain conditions record both phases") func conditions() throws {
    let dir = try scratchFolder()
    for mode in ["mode: cue", "mode: spatial-gain\n  layer: conv2\n  beta: 0.5\n  sigma: 5"] {
      let text = smallProtocol.replacingOccurrences(of: "mode: glimpses", with: mode).replacingOccurrences(
        of: "units: all", with: "units: center")
      try text.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
      let outcome = try ProtocolRunner.run(try ProtocolFile.load(dir + "/c.yaml"), output: dir + "/out")
      #expect(outcome.units == 20 + 50)
      let r = try NPY.read(dir + "/out/responses.npy").floats()
      // The two phases differ (attention does something) for at least one unit.
      let u = outcome.units
      #expect((0..<6).contains { s in (0..<u).contains { r[(s * 2) * u + $0] != r[(s * 2 + 1) * u + $0] } }, "\(mode)")
    }
  }

  @Test("units: explicit lists and covering") func unitSelections() throws {
    let dir = try scratchFolder()
    let text = smallProtocol.replacingOccurrences(
      of: "units: all", with: "units: [[conv1, 3, 12, 8], [conv2, 10, 4, 3]]")
    try text.write(toFile: dir + "/u.yaml", atomically: true, encoding: .utf8)
    let outcome = try ProtocolRunner.run(try ProtocolFile.load(dir + "/u.yaml"), output: dir + "/u")
    #expect(outcome.units == 2)
    let units = try String(contentsOfFile: dir + "/u/units.csv", encoding: .utf8).split(separator: "\n")
    // Box, geometric centre, receptive-field class in the sweep.
    #expect(units[0].hasSuffix("rf_centre_row,rf_centre_col,rf_class"))
    #expect(
      units[1].hasPrefix("0,conv1,3,12,8,12,15,8,11,13.5,9.5,") && units[2].hasPrefix("1,conv2,10,4,3,8,18,6,16,13,11,")
    )
    let covering = smallProtocol.replacingOccurrences(of: "units: all", with: "units: covering")
    try covering.write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
    let c = try ProtocolRunner.run(try ProtocolFile.load(dir + "/c.yaml"), output: dir + "/c")
    #expect(c.units > 0 && c.units < 20 * 25 * 39 + 50 * 9 * 16)
    let bad = smallProtocol.replacingOccurrences(of: "units: all", with: "units: [[conv1, 30, 0, 0]]")
    try bad.write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
    #expect(throws: RecordingError.self) {
      try ProtocolRunner.run(try ProtocolFile.load(dir + "/b.yaml"), output: dir + "/b")
    }
    #expect(!FileManager.default.fileExists(atPath: dir + "/b"))
  }
}

/// The repository root, for the shipped checkpoint and protocols.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

@Suite("Shipped protocols")
struct ShippedProtocolTests {
  @Test(
    "shipped protocol and stimulus files validate",
    arguments: ["orientation-attention", "position-attention", "width-attention"])
  func validates(_ name: String) throws {
    let spec = try ProtocolFile.load(repoRoot + "/Protocols/\(name).yaml")
    #expect(spec.name == name)
    _ = try ProtocolFile.loadStimulus(repoRoot + "/Stimuli/gratings.yaml")
    _ = try ProtocolFile.loadStimulus(repoRoot + "/Stimuli/gaussian-bars-reference.yaml")
  }

  /// The paper's qualitative result on the shipped checkpoint, on a coarser version of the reference grid
  /// (21 orientations x 2 widths x 3 x 3 positions): tuned conv2 units respond more when the bar is
  /// attended, and attention does not move their preferred orientation much.
  @Test("attended above unattended, same preferred orientation") func qualitative() throws {
    var spec = try ProtocolFile.load(repoRoot + "/Protocols/orientation-attention.yaml")
    spec.stimulus.parameters = [
      ("orientation", .range(from: 0, to: 180, steps: 21)), ("width", .list([1.35, 2.025])),
      ("x", .range(from: 5.5, to: 10.5, steps: 3)), ("y", .range(from: 3.5, to: 23.5, steps: 3)),
      ("length", .fixed(20)),
    ]
    spec.units = .all
    spec.writeResponses = false
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-qual-\(UUID().uuidString)").path
    let outcome = try ProtocolRunner.run(spec, output: dir)
    #expect(outcome.stimuli == 378)
    let t = try NPY.read(dir + "/tuning.npy")
    let values = try t.floats()
    let u = t.shape[2]
    let a = t.shape[0]
    let conv2 = (20 * 25 * 39)..<u
    var tuned = 0
    var higher = 0
    var samePreference = 0
    for k in conv2 {
      let att = (0..<a).map { values[($0 * 2) * u + k] }
      let un = (0..<a).map { values[($0 * 2 + 1) * u + k] }
      guard let uMax = un.max(), let uMin = un.min(), uMax > 0.1, uMax - uMin > 0.3 * uMax else { continue }
      tuned += 1
      if att.max()! > uMax { higher += 1 }
      let pa = att.firstIndex(of: att.max()!)!
      let pu = un.firstIndex(of: uMax)!
      let d = abs(pa - pu) % (a - 1)
      if min(d, (a - 1) - d) <= 2 { samePreference += 1 }  // within 18 degrees (orientation has period 180)
    }
    print(
      "QUALITATIVE conv2: \(tuned) tuned units, attended peak higher in \(higher), preferred orientation within 18 deg in \(samePreference)"
    )
    #expect(tuned >= 20)
    #expect(Double(higher) / Double(tuned) >= 0.8)
    #expect(Double(samePreference) / Double(tuned) >= 0.5)
  }
}
