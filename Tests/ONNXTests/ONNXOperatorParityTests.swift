import Engine
import Foundation
import Testing

@testable import ONNX

/// Every operator family against PyTorch: small modules exported by torch.onnx.export at opsets 9 to 13
/// (scripts/fixtures/make_onnx_op_fixtures.py, run with the system's python3 and Debian's python3-torch,
/// which the test command installs). The executor's output and the gradient of sum(output * w) with
/// respect to the input (through every operator's pullback) must match PyTorch within 1e-4.
@Suite("ONNX operators against PyTorch")
struct ONNXOperatorParityTests {
  static var exporterAvailable: Bool {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    p.arguments = ["-c", "import torch"]
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
  }

  static func normwise(_ a: [Float], _ b: [Float]) -> Double {
    guard a.count == b.count else { return .infinity }
    var d = 0.0
    var n = 0.0
    for (x, y) in zip(a, b) {
      d += Double(x - y) * Double(x - y)
      n += Double(y) * Double(y)
    }
    return (d / max(n, 1e-30)).squareRoot()
  }

  @Test("37 exported modules: outputs and input gradients")
  func operators() throws {
    guard Self.exporterAvailable else {
      let skip = ProcessInfo.processInfo.environment["EPHYS_SKIP_TORCHVISION"] == "1"
      #expect(skip, "python3 cannot import torch (scripts/setup.sh installs python3-torchvision)")
      return
    }
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let script = Process()
    script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    script.arguments = [root.appendingPathComponent("scripts/fixtures/make_onnx_op_fixtures.py").path, dir.path]
    script.standardError = FileHandle.nullDevice
    try script.run()
    script.waitUntilExit()
    try #require(script.terminationStatus == 0, "the fixture script failed")
    let names = try String(contentsOf: dir.appendingPathComponent("cases.txt"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
    #expect(names.count == 37)
    for name in names {
      do { try check(name, in: dir) } catch { Issue.record("\(name): \(error)") }
    }
  }

  /// Runs case `name` of the fixture folder and compares it with PyTorch's values.
  func check(_ name: String, in dir: URL) throws {
    do {
      let arrays = try readTensorFile(dir.appendingPathComponent("\(name).npz").path)
      func array(_ key: String) throws -> StoredTensor { try #require(arrays.tensors.first { $0.name == key }) }
      let stored = try array("x")
      let x = Tensor<Float>(shape: stored.shape, scalars: try stored.floats(), requiresGrad: true)
      let graph = try Graph(contentsOf: dir.appendingPathComponent("\(name).onnx").path)
      guard case .float(let y)? = try graph.run(["input": .float(x)])["output"] else {
        Issue.record("\(name): no float output")
        return
      }
      let expected = try array("y")
      #expect(y.shape == expected.shape, "\(name): output \(y.shape), PyTorch \(expected.shape)")
      let e = Self.normwise(y.scalars, try expected.floats())
      #expect(e < 1e-4, "\(name): output normwise error \(e)")
      let w = try array("w")
      let loss = (y * Tensor<Float>(shape: w.shape, scalars: try w.floats())).sum()
      let g = loss.gradients(wrt: [x])[0]
      let ge = Self.normwise(g.scalars, try array("grad").floats())
      #expect(ge < 1e-4, "\(name): input gradient normwise error \(ge)")
      let ops = Set(graph.nodes.map(\.opType)).sorted().joined(separator: " ")
      print("ONNX-OP \(name) (opset \(graph.opset): \(ops)): output \(e), gradient \(ge)")
    }
  }
}
