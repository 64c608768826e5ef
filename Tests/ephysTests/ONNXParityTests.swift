import Engine
import Foundation
import Models
import ONNX
import TestSupport
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
    "resnet18": "layer1.0,layer3.1,avgpool", "recurrent": "gate,lateral,pool,up,pad",
  ]

  /// Whether the exporter (torch, torchvision and onnx in the system python) is there; its absence
  /// fails the test unless EPHYS_SKIP_TORCHVISION=1 says why.
  static func exporterPresent() -> Bool {
    let peer = pythonPeer("torch, torchvision, onnx")
    guard peer.present else {
      #expect(peer.absenceAllowed, "python3 cannot import torch, torchvision and onnx (scripts/setup.sh installs them)")
      return false
    }
    return true
  }

  /// A fresh folder under the temporary directory (the caller removes it).
  static func scratch(_ label: String) throws -> String {
    let dir = NSTemporaryDirectory() + "ephys-onnx-\(label)-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
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
    let dir = try Self.scratch("parity")
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
      if let native = ModelRegistry.entry(model) { try Self.compareFields(native, try ONNXModel.entry(onnx)) }
      for f in try FileManager.default.contentsOfDirectory(atPath: dir) {
        try FileManager.default.removeItem(atPath: dir + "/" + f)
      }
    }
  }

  /// The receptive fields read off the exported graph against the zoo's native geometry (window
  /// steps of the module tree) for every layer both list: the same map sizes, and at every position
  /// the same rows, columns and centre.
  static func compareFields(_ native: ModelEntry, _ imported: ModelEntry) throws {
    var layers = 0
    var positions = 0
    for layer in native.layers where imported.layers.contains(where: { $0.name == layer.name }) {
      let a = try #require(try native.fields(layer.name), "\(native.name) \(layer.name)")
      let b = try #require(try imported.fields(layer.name), "imported \(layer.name)")
      let size = try #require(a.outputSize)
      #expect(b.outputSize?.height == size.height && b.outputSize?.width == size.width, "\(layer.name) map size")
      for y in 0..<size.height {
        for x in 0..<size.width {
          let (fa, fb) = (a.field(y: y, x: x), b.field(y: y, x: x))
          let (ca, cb) = (a.centre(y: y, x: x), b.centre(y: y, x: x))
          #expect(fa == fb, "\(layer.name) (\(y), \(x)): native \(fa), imported \(fb)")
          #expect(abs(ca.y - cb.y) < 1e-9 && abs(ca.x - cb.x) < 1e-9, "\(layer.name) (\(y), \(x)) centre")
          positions += 1
        }
      }
      layers += 1
    }
    #expect(layers >= 5, "\(native.name): only \(layers) layers in common")
    print("ONNX-FIELDS \(native.name): \(layers) layers, \(positions) positions equal to the native geometry")
  }

  /// Receptive fields of values off a plain conv/pool chain (the recurrent CNN's bilinear `up` and
  /// reflect-padded `pad`), measured by the RF-mapping protocol (an ON and an OFF dot at every third
  /// pixel): every unit's measured centre lies inside the field read off the graph.
  @Test("the RF-mapping protocol measures fields of upsampled and padded values inside those read off the graph")
  func measuredFields() throws {
    guard Self.exporterPresent() else { return }
    let dir = try Self.scratch("rfmap")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.exportFixture("recurrent", into: dir)
    let units = [
      ("up", 0, 8, 8), ("up", 5, 8, 40), ("up", 9, 31, 32), ("up", 15, 55, 20), ("pad", 3, 0, 0),
      ("pad", 20, 33, 1), ("pad", 31, 65, 40), ("pad", 7, 30, 30),
    ]
    let list = units.map { "[\($0.0), \($0.1), \($0.2), \($0.3)]" }.joined(separator: ", ")
    try """
    name: onnx-rf-mapping
    model: {onnx: recurrent.onnx}
    stimulus:
      kind: dot
      parameters:
        x: {from: 0, to: 63, steps: 22}
        y: {from: 0, to: 63, steps: 22}
        size: 1.5
        contrast: [-0.5, 0.5]
        mean: 0.5
    attention: {mode: none}
    record: {layers: [up, pad], units: [\(list)], responses: false}
    tuning: {axis: x}
    measures: [rf-map]
    seed: 1

    """.write(toFile: dir + "/rf.yaml", atomically: true, encoding: .utf8)
    let r = try runEphys(["run", dir + "/rf.yaml", "--out", dir + "/run"], in: dir)
    try #require(r.status == 0, "ephys run failed: \(r.err)")
    let table = try String(contentsOfFile: dir + "/run/receptive_fields.csv", encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = table[0]
    func column(_ name: String) throws -> Int { try #require(header.firstIndex(of: name), "no \(name) column") }
    let (layer, y, x) = (try column("layer"), try column("y"), try column("x"))
    let (row, col, offset) = (
      try column("measured_centre_row"), try column("measured_centre_col"), try column("offset_px")
    )
    let entry = try ONNXModel.entry(dir + "/recurrent.onnx")
    #expect(entry.normalization == .imagenet)  // three channels: ImageNet's statistics by default
    var offsets: [Double] = []
    for line in table.dropFirst() {
      let map = try #require(try entry.fields(line[layer]), "no fields for \(line[layer])")
      let field = map.field(y: Int(line[y])!, x: Int(line[x])!)
      let my: Double = try #require(Double(line[row]), "no measured centre: \(line)")
      let mx: Double = try #require(Double(line[col]), "no measured centre: \(line)")
      let inRows = Double(field.rows.lowerBound) <= my && my <= Double(field.rows.upperBound)
      let inCols = Double(field.cols.lowerBound) <= mx && mx <= Double(field.cols.upperBound)
      #expect(inRows && inCols, "\(line): measured centre (\(my), \(mx)) outside the field \(field)")
      offsets.append(Double(line[offset]) ?? .nan)
    }
    #expect(offsets.count == units.count)
    print("ONNX-RFMAP recurrent: measured minus geometric centre, px: \(offsets.map { String(format: "%.2f", $0) })")
  }

  /// The summed responses of a run's tuning.npy ([conditions, phase, units]) in the attended and the
  /// unattended phase.
  static func phaseSums(_ tuning: StoredTensor) throws -> (attended: Double, unattended: Double) {
    let values = try tuning.floats()
    let units = tuning.shape[2]
    var sums = (attended: 0.0, unattended: 0.0)
    for c in 0..<tuning.shape[0] {
      for u in 0..<units {
        sums.attended += Double(values[(c * 2) * units + u])
        sums.unattended += Double(values[(c * 2 + 1) * units + u])
      }
    }
    return sums
  }

  /// A graph with symbolic height and width at a 40 x 48 canvas (not its default 224): the fields of
  /// its nearest-upsampled `up` value are read off the graph at that size, and a spatial gain on it
  /// raises the responses of the units it centres on.
  @Test("an imported fully convolutional graph records an upsampled value at another canvas with spatial gain")
  func otherCanvas() throws {
    guard Self.exporterPresent() else { return }
    let dir = try Self.scratch("canvas")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.exportFixture("fcn", into: dir)
    try """
    name: canvas
    model: {onnx: fcn.onnx}
    stimulus:
      kind: grating
      canvas: [40, 48]
      parameters: {orientation: {from: 0, to: 150, steps: 6}, frequency: 0.1, phase: 0, x: 12, y: 20, aperture: 8}
    attention: {mode: spatial-gain, layer: up, beta: 1, sigma: 4}
    record: {layers: [up], units: all, responses: false}
    tuning: {axis: orientation}
    seed: 1

    """.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    let r = try runEphys(["run", dir + "/p.yaml", "--out", dir + "/run"], in: dir)
    try #require(r.status == 0, "ephys run failed: \(r.err)")
    let rows = try String(contentsOfFile: dir + "/run/units.csv", encoding: .utf8).split(separator: "\n").dropFirst()
    #expect(rows.count == 8 * 40 * 48)
    // up(y, x) copies c2's output at (y / 2, x / 2): a 3x3 window at stride 2 with padding 1 over c1's
    // 3x3 windows, so rows 2 (y / 2) - 2 ... 2 (y / 2) + 2 clamped to the canvas; unit 0 is (0, 0).
    let first = rows.first!.split(separator: ",").map(String.init)
    #expect(Array(first[5...8]) == ["0", "2", "0", "2"], "\(first)")
    let interior = try #require(rows.first { $0.hasPrefix("\(20 * 48 + 30),up,0,20,30,") })
    #expect(Array(interior.split(separator: ",").map(String.init)[5...8]) == ["18", "22", "28", "32"], "\(interior)")
    let (attended, unattended) = try Self.phaseSums(NPY.read(dir + "/run/tuning.npy"))
    #expect(attended > unattended, "the gain did not raise responses: \(attended) vs \(unattended)")
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
    let dir = try Self.scratch("protocol")
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
    let units = onnx.shape[2]
    let (attended, unattended) = try Self.phaseSums(onnx)
    #expect(attended > unattended, "the gain did not raise responses: \(attended) vs \(unattended)")
    print(
      "ONNX-PROTOCOL resnet18: \(units) units, tuning normwise difference to native \(worst), attended/unattended \(attended / unattended)"
    )
  }
}
