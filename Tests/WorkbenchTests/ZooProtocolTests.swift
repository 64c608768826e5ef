import Engine
import Foundation
import ModelInterface
import Models
import Recording
import Stimuli
import Testing
import Workbench

/// Protocols on zoo models run end to end through the registry, and write only what the model produced.
@Suite("Protocols on zoo models")
struct ZooProtocolTests {
  func folder() throws -> String {
    let dir = NSTemporaryDirectory() + "ephys-zoo-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  func protocolText(_ model: String, layers: String, gainLayer: String, extra: String = "") -> String {
    """
    name: zoo-test
    model: {architecture: \(model), weights: random}
    stimulus:
      kind: grating
      canvas: [64, 64]
      units: degrees
      pixels_per_degree: 16
      colour: {object: [1, 0, 0], distractor: [0, 0, 1]}
      parameters:
        orientation: [0, 45, 90, 135]
        frequency: 2
        mean: 0
        x: 1
        y: 2
        aperture: 0.75
      distractor: {kind: grating, orientation: 45, frequency: 2, mean: 0, x: 1, y: 1, region: right}
    attention: {mode: spatial-gain, layer: \(gainLayer), beta: 1, sigma: 12\(extra)}
    record: {layers: [\(layers)], units: covering, batch: 3}
    tuning: {axis: orientation}
    seed: 3
    """
  }

  @Test("ResNet-18 at 64x64 with colour stimuli in degrees: outputs without glimpse files")
  func resnet() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try protocolText("resnet18", layers: "layer1.1, layer2.1", gainLayer: "layer2.1").write(
      toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    let p = try ProtocolFile.load(dir + "/p.yaml")
    let out = try ProtocolRunner.run(p, output: dir + "/run")
    #expect(out.stimuli == 4)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/run")
    for f in ["report.pdf", "predictions.csv", "units.csv", "tuning.npy", "summary.json", "montage.png"] {
      #expect(files.contains(f), "missing \(f)")
    }
    #expect(!files.contains("glimpses.csv") && !files.contains("inhibition.csv"))
    let summary = try String(contentsOfFile: dir + "/run/summary.json", encoding: .utf8)
    #expect(!summary.contains("glimpse"))
    #expect(summary.contains("\"normalization_mean\""))
    // The report reads the same record back from the folder.
    let record = try RunRecord.read(dir + "/run")
    #expect(record.glimpseCounts == nil)
    #expect(record.units.count == out.units)
    #expect(!record.summaryLines.joined().contains("glimpse"))
  }

  @Test("the recorded gain layer in the attended phase is the unattended one times its gain map")
  func spatialGainOnVGG() throws {
    let entry = try #require(ModelRegistry.entry("vgg11"))
    let net = try entry.recordable(weights: "random", height: 32, width: 32)
    let spec = StimulusSpec(
      kind: .grating, parameters: [("orientation", .list([0, 90])), ("x", .fixed(8)), ("aperture", .fixed(6))],
      canvasHeight: 32, canvasWidth: 32)
    let stimuli = (0..<spec.count).map { spec.stimulus($0) }
    let layer = try net.geometry(of: "features.4")
    // Unattended: centred on the (absent) distractor, so no gain; attended: centred on the grating.
    let gained = try net.record(
      stimuli, condition: .spatialGain(layer: "features.4", beta: 2, sigma: 3), layers: ["features.4"])
    let gain = layerGain(
      .spatialGain(layer: "features.4", beta: 2, sigma: 3), phase: 0, stimuli: stimuli, layer: layer, canvasWidth: 32)!
    let a = gained.activity[0][0]
    let u = gained.activity[1][0]
    let plane = layer.height * layer.width
    var worst: Float = 0
    for i in 0..<stimuli.count {
      for c in 0..<layer.channels {
        for j in 0..<plane {
          let k = (i * layer.channels + c) * plane + j
          worst = max(worst, abs(a.scalars[k] - u.scalars[k] * gain.scalars[i * plane + j]))
        }
      }
    }
    #expect(worst < 1e-6)
    #expect(gain.scalars.max()! > 2.5)
  }

  @Test("channel gain scales each channel of its layer by max(0, 1 + beta v)")
  func channelGain() throws {
    let entry = try #require(ModelRegistry.entry("alexnet"))
    let net = try entry.recordable(weights: "random", height: 64, width: 64)
    let layer = try net.geometry(of: "features.4")
    let values = (0..<layer.channels).map { Float($0 % 5) / 2 - 1 }
    let spec = StimulusSpec(kind: .gabor, parameters: [("orientation", .list([30]))], canvasHeight: 64, canvasWidth: 64)
    let r = try net.record(
      [spec.stimulus(0)], condition: .channelGain(layer: "features.4", beta: 0.5, values: values),
      layers: ["features.4", "classifier.6"])
    let plane = layer.height * layer.width
    for c in 0..<layer.channels {
      let g = max(0, 1 + 0.5 * values[c])
      for j in 0..<plane {
        #expect(abs(r.activity[0][0].scalars[c * plane + j] - g * r.activity[1][0].scalars[c * plane + j]) < 1e-6)
      }
    }
    #expect(r.activity[0][1].shape == [1, 1000, 1, 1])
  }

  @Test("zoo protocols: a missing mode, a wrong channel count and colours on a grey model are located errors")
  func errors() throws {
    let dir = try folder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    /// The problems `ProtocolFile.load` reports for `text` (an issue is recorded when it accepts it).
    func problems(_ text: String, _ name: String, _ what: String) throws -> [ProtocolIssue] {
      try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
      do {
        _ = try ProtocolFile.load(dir + "/" + name)
        Issue.record("\(what) was accepted")
        return []
      } catch let e as ProtocolErrors {
        return e.issues
      }
    }
    let noMode = protocolText("vgg11", layers: "features.4", gainLayer: "features.4").replacingOccurrences(
      of: "attention: {mode: spatial-gain, layer: features.4, beta: 1, sigma: 12}\n", with: "")
    #expect(
      try problems(noMode, "a.yaml", "a zoo protocol without an attention mode").contains {
        $0.key == "attention" && $0.message.contains("needs an attention mode")
      })
    let wrongCount = protocolText("vgg11", layers: "features.4", gainLayer: "features.4")
      .replacingOccurrences(of: "mode: spatial-gain", with: "mode: channel-gain")
      .replacingOccurrences(of: ", sigma: 12", with: ", values: [1, 2, 3]")
    let countIssues = try problems(wrongCount, "b.yaml", "a channel gain with 3 values for 128 channels")
    #expect(
      countIssues.contains { $0.key == "attention.values" && $0.message.contains("128 channels") && $0.line == 17 },
      "\(countIssues)")
    let grey = protocolText("smoke-cnn", layers: "conv1", gainLayer: "conv2")
      .replacingOccurrences(of: "canvas: [64, 64]", with: "canvas: [28, 28]")
    #expect(
      try problems(grey, "c.yaml", "colours on a one-channel model").contains { $0.key == "stimulus.colour" })
  }
}
