import Engine
import Foundation
import ONNX
import Testing

/// Imported ONNX graphs against PyTorch, as a user meets them: `torch.onnx.export` writes torchvision's
/// AlexNet (opset 9), VGG11 (opset 13, weights as external data), ResNet-18 (opset 17) and a small
/// recurrent CNN with its loop unrolled (opset 13: gates, Resize, Concat, reflect Pad) with random
/// weights (scripts/fixtures/make_onnx_fixtures.py, run with the system's python3 and Debian's
/// python3-torchvision and python3-onnx, which the test command installs). `ephys extract --model onnx`
/// must give the logits and three intermediate module outputs within 1e-4 (normwise relative) of
/// PyTorch, and the gradient of a logit with respect to the input through the executor must match
/// `torch.autograd.grad` within 1e-4.
@Suite("ONNX graphs against PyTorch", .serialized)
struct ONNXParityTests {
  static let layers = [
    "alexnet": "features.4,features.11,classifier.5", "vgg11": "features.5,features.15,classifier.4",
    "resnet18": "layer1.0,layer3.1,avgpool", "recurrent": "gate,lateral,pool",
  ]

  /// Whether the system python can export (torch, torchvision and onnx importable).
  static var exporterAvailable: Bool { systemPythonImports("torch, torchvision, onnx") }

  /// Whether the exporter is there; its absence fails the test unless EPHYS_SKIP_TORCHVISION=1 says why.
  static func exporterPresent() -> Bool {
    guard exporterAvailable else {
      let skip = ProcessInfo.processInfo.environment["EPHYS_SKIP_TORCHVISION"] == "1"
      #expect(skip, "python3 cannot import torch, torchvision and onnx (scripts/setup.sh installs them)")
      return false
    }
    return true
  }

  /// Runs the fixture script for `model` into `dir`.
  static func exportFixture(_ model: String, into dir: String) throws {
    let script = Process()
    script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    script.arguments = [repositoryRoot + "/scripts/fixtures/make_onnx_fixtures.py", model, dir]
    script.standardError = FileHandle.nullDevice
    try script.run()
    script.waitUntilExit()
    try #require(script.terminationStatus == 0, "the fixture script failed for \(model)")
  }

  @Test("AlexNet, VGG11, ResNet-18 and a recurrent CNN: outputs and input gradients match PyTorch")
  func parity() throws {
    guard Self.exporterPresent() else { return }
    let dir = NSTemporaryDirectory() + "ephys-onnx-parity-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (model, layers) in Self.layers.sorted(by: { $0.key < $1.key }) {
      try Self.exportFixture(model, into: dir)
      let expected = try readTensorFile(dir + "/\(model)-expected.npz")
      let onnx = dir + "/\(model).onnx"
      let out = dir + "/\(model)-ours.npz"
      let r = try runEphys(
        [
          "extract", "--model", "onnx", "--weights", onnx, "--input", dir + "/\(model)-x.npy", "--layers", layers,
          "--out", out,
        ], in: dir)
      try #require(r.status == 0, "ephys extract failed for \(model): \(r.err)")
      let ours = try readTensorFile(out)
      var worst = 0.0
      for name in layers.split(separator: ",").map(String.init) + ["logits"] {
        let a = try #require(ours.tensors.first { $0.name == name }, "\(model): no \(name) in the output")
        let b = try #require(expected.tensors.first { $0.name == name })
        #expect(a.shape == b.shape, "\(model) \(name): \(a.shape) vs PyTorch \(b.shape)")
        let e = normwiseError(try a.floats(), try b.floats())
        worst = max(worst, e)
        #expect(e < 1e-4, "\(model) \(name): normwise error \(e)")
      }
      // d(sum over the batch of logit k)/d(input) through the executor's pullbacks.
      let net = try GraphNetwork(graph: Graph(contentsOf: onnx))
      let xs = try NPY.read(dir + "/\(model)-x.npy")
      let x = Tensor<Float>(shape: xs.shape, scalars: try xs.floats(), requiresGrad: true)
      let k = try #require(expected.tensors.first { $0.name == "grad_class" }?.ints().first)
      let logits = try net.run(x)
      let target = logits.slice(dim: 1, start: k, end: k + 1).sum()
      let gradient = target.gradients(wrt: [x])[0]
      let reference = try #require(expected.tensors.first { $0.name == "grad_input" })
      let g = normwiseError(gradient.scalars, try reference.floats())
      #expect(g < 1e-4, "\(model): input gradient normwise error \(g)")
      print("ONNX-PARITY \(model): worst output error \(worst), input gradient error \(g)")
      for f in try FileManager.default.contentsOfDirectory(atPath: dir) {
        try FileManager.default.removeItem(atPath: dir + "/" + f)
      }
    }
  }

  /// A spatial-attention protocol on the exported ResNet-18 (`model: {onnx: FILE}`) beside the same
  /// protocol on the zoo's native ResNet-18 with the same weights (.pth).
  static func protocolText(_ architecture: String, weights: String) -> String {
    """
    name: onnx-spatial-\(architecture)
    model: \(architecture == "onnx" ? "{onnx: \(weights)}" : "{architecture: \(architecture), weights: \(weights)}")
    stimulus:
      kind: grating
      canvas: [224, 224]
      units: degrees
      pixels_per_degree: 32
      parameters:
        orientation: {from: 0, to: 150, steps: 6}
        frequency: 1
        phase: [0, 180]
        contrast: 1
        mean: 0
        x: 1.75
        y: 3.5
        aperture: 1
      distractor: {kind: grating, orientation: 45, frequency: 1.5, mean: 0, x: 1.75, y: 1.75, region: right}
    attention: {mode: spatial-gain, layer: layer3.1, beta: 1, sigma: 32}
    record: {layers: [layer2.1, layer3.1], units: covering, responses: false}
    tuning: {axis: orientation, reduce: max}
    seed: 1

    """
  }

  @Test("a spatial-gain protocol runs on the exported ResNet-18 and agrees with the native ResNet-18")
  func resnetProtocol() throws {
    guard Self.exporterPresent() else { return }
    let dir = NSTemporaryDirectory() + "ephys-onnx-protocol-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.exportFixture("resnet18", into: dir)
    var tuning: [String: StoredTensor] = [:]
    for (architecture, weights) in [("onnx", "resnet18.onnx"), ("resnet18", "resnet18.pth")] {
      try Self.protocolText(architecture, weights: weights).write(
        toFile: dir + "/\(architecture).yaml", atomically: true, encoding: .utf8)
      let r = try runEphys(["run", dir + "/\(architecture).yaml", "--out", dir + "/run-\(architecture)"], in: dir)
      try #require(r.status == 0, "ephys run failed for \(architecture): \(r.err)")
      #expect(FileManager.default.fileExists(atPath: dir + "/run-\(architecture)/report.pdf"))
      // [conditions, phase (attended, unattended), units]
      tuning[architecture] = try NPY.read(dir + "/run-\(architecture)/tuning.npy")
    }
    let onnx = try #require(tuning["onnx"])
    let native = try #require(tuning["resnet18"])
    #expect(onnx.shape == native.shape && onnx.shape.count == 3, "tuning: onnx \(onnx.shape), native \(native.shape)")
    let worst = normwiseError(try onnx.floats(), try native.floats())
    #expect(worst < 1e-4, "tuning curves differ by \(worst) (normwise)")
    let values = try onnx.floats()
    let units = onnx.shape[2]
    var attended = 0.0
    var unattended = 0.0
    for c in 0..<onnx.shape[0] {
      for u in 0..<units {
        attended += Double(values[(c * 2) * units + u])
        unattended += Double(values[(c * 2 + 1) * units + u])
      }
    }
    #expect(attended > unattended, "the gain did not raise responses: \(attended) vs \(unattended)")
    print(
      "ONNX-PROTOCOL resnet18: \(units) units, tuning normwise difference to native \(worst), attended/unattended \(attended / unattended)"
    )
  }
}
