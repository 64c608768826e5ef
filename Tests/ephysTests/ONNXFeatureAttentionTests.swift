import Engine
import Foundation
import ModelInterface
import Models
import Testing

/// The feature-attention study on an imported network: the study's CNN exported by PyTorch
/// (`make_feature_gain_fixtures.py --export`, formula weights) runs through the generic attention
/// path (forward modifiers and hooks on the graph's values, gradients through the executor) and must
/// write the same files, byte for byte, as the native network with the same weights (.pth) through
/// the child-by-child path; the native path's values are checked against PyTorch in WorkbenchTests.
@Suite("Feature attention on imported networks", .serialized)
struct ONNXFeatureAttentionTests {
  /// Exports the CNN into a fresh folder (nil when the exporter is missing and the skip is allowed).
  static func exported() throws -> String? {
    guard ONNXParityTests.exporterPresent() else { return nil }
    let dir = try ONNXParityTests.scratch("feature")
    let script = Process()
    script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    script.arguments = [repositoryRoot + "/scripts/fixtures/make_feature_gain_fixtures.py", "--export", dir]
    script.standardError = FileHandle.nullDevice
    try script.run()
    script.waitUntilExit()
    try #require(script.terminationStatus == 0, "the export failed")
    return dir
  }

  @Test("the study on the exported CNN writes the native CNN's tables and values byte for byte")
  func studyMatchesNative() throws {
    guard let dir = try Self.exported() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let common = [
      "--detectors", "none", "--layers", "features.1,features.8,features.13", "--positives", "8", "--fit-images",
      "12", "--gain-images", "4", "--betas", "0,1,4",
    ]
    for (model, weights) in [("onnx", "feature-gain-cnn.onnx"), ("feature-gain-cnn", "feature-gain-cnn.pth")] {
      let r = try runEphys(
        ["feature-attention", "--model", model, "--weights", weights, "--out", dir + "/" + model] + common, in: dir)
      try #require(r.status == 0, "\(model): \(r.err)")
    }
    for file in ["feature_values.csv", "detection.csv", "performance_change.csv", "gain_model_test.csv"] {
      let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/onnx/" + file))
      let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/feature-gain-cnn/" + file))
      #expect(a == b, "\(file) differs between the imported and the native network")
    }
    // The values are not trivially equal: gradients and tunings vary across channels.
    let values = try readTensorFile(dir + "/onnx/feature_values.npz")
    let gradient = try #require(values.tensors.first { $0.name == "gradient.features.13" }).floats()
    #expect(gradient.contains { abs($0) > 0.5 } && gradient.contains { $0 < 0 })
    print("ONNX-FEATURE study on the exported CNN: tables identical to the native network's")
  }

  @Test("imported networks: default normalisation by channels, and normalisations given or refused")
  func normalisation() throws {
    guard let dir = try Self.exported() else { return }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let file = dir + "/feature-gain-cnn.onnx"
    #expect(try ONNXModel.entry(file).normalization == .none)  // one channel: images in [0, 1]
    let given = try #require(InputNormalization(named: "0.5/0.25"))
    #expect(try ONNXModel.entry(file, normalization: given).normalization == given)
    #expect(throws: (any Error).self) {
      try ONNXModel.entry(file, normalization: InputNormalization(mean: [0.1, 0.2], std: [1, 1]))
    }
    #expect(InputNormalization(named: "0.5/0") == nil && InputNormalization(named: "imagenet") == .imagenet)
    let bad = try runEphys(
      [
        "extract", "--model", "onnx", "--weights", file, "--normalization", "grey", "--input", "x.npy", "--out",
        "o.npz",
      ],
      in: dir)
    #expect(bad.status != 0 && bad.err.contains("--normalization"), "\(bad.err)")
    for (model, expected) in [
      ("{onnx: feature-gain-cnn.onnx, normalization: {mean: 0.5, std: [0]}}", "positive standard deviations"),
      ("{onnx: feature-gain-cnn.onnx, normalization: grey}", "is not one of imagenet, none"),
      ("{architecture: feature-gain-cnn, weights: feature-gain-cnn.pth, normalization: none}", "keeps its training's"),
      ("{onnx: missing.onnx}", "no such file"),
    ] {
      try """
      name: n
      model: \(model)
      stimulus: {kind: grating, parameters: {orientation: [0, 90]}}
      attention: {mode: none}
      record: {layers: [features.1], units: center}
      tuning: {axis: orientation}

      """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
      let r = try runEphys(["run", dir + "/p.yaml", "--out", dir + "/run"], in: dir)
      #expect(r.status != 0 && r.err.contains("p.yaml:2") && r.err.contains(expected), "\(model): \(r.err)")
      // Without a model its layers are unknown: no layer error (an empty list) after the real one.
      #expect(!r.err.contains("record.layers"), "\(model): \(r.err)")
    }
    try """
    name: n
    model: {onnx: feature-gain-cnn.onnx, normalization: {mean: [0.5], std: [0.25]}}
    stimulus: {kind: grating, parameters: {orientation: [0, 90]}}
    attention: {mode: none}
    record: {layers: [features.1], units: center, responses: false}
    tuning: {axis: orientation}

    """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    let ok = try runEphys(["run", dir + "/p.yaml", "--out", dir + "/run"], in: dir)
    #expect(ok.status == 0, "\(ok.err)")
  }
}
