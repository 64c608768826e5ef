import Engine
import Foundation
import TestSupport
import Testing

@testable import ONNX

/// Every operator family against PyTorch: small modules exported by torch.onnx.export at opsets 9 to 13
/// (scripts/fixtures/make_onnx_op_fixtures.py, run with the system's python3 and Debian's python3-torch,
/// which the test command installs). The executor's output and the gradient of sum(output * w) with
/// respect to the input (through every operator's pullback) must match PyTorch within 1e-4.
@Suite("ONNX operators against PyTorch")
struct ONNXOperatorParityTests {
  @Test("38 exported modules: outputs, input gradients, and receptive fields against the gradients' support")
  func operators() throws {
    let peer = pythonPeer("torch")
    guard peer.present else {
      #expect(peer.absenceAllowed, "python3 cannot import torch (scripts/setup.sh installs python3-torchvision)")
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
    #expect(names.count == 38)
    var positions = 0
    var withFields: [String] = []
    for name in names {
      do {
        try check(name, in: dir)
        let n = try checkFields(name, in: dir, exact: name == "fields_linear")
        positions += n
        if n > 0 { withFields.append(name) }
      } catch { Issue.record("\(name): \(error)") }
    }
    #expect(withFields.contains("fields_linear") && withFields.count >= 25, "fields read for \(withFields)")
    print("ONNX-FIELDS \(withFields.count) of \(names.count) outputs have fields; \(positions) positions checked")
  }

  /// The receptive fields read off graph `name` (`Graph.unitFields`) against the input gradient of
  /// each output position (all channels summed, first image): every input row and column with a
  /// nonzero gradient must lie in the field, and for a graph of linear operators (`exact`) the
  /// gradient's rows and columns must span the field exactly (random weights leave no structural
  /// zero). Returns the positions checked (0: the output has no fields, e.g. a softmax over positions).
  func checkFields(_ name: String, in dir: URL, exact: Bool) throws -> Int {
    let arrays = try readTensorFile(dir.appendingPathComponent("\(name).npz").path)
    let stored = try #require(arrays.tensors.first { $0.name == "x" })
    guard stored.shape.count == 4 else { return 0 }
    let (c, h, w) = (stored.shape[1], stored.shape[2], stored.shape[3])
    let first = Array(try stored.floats()[..<(c * h * w)])
    let graph = try Graph(contentsOf: dir.appendingPathComponent("\(name).onnx").path)
    guard let fields = try graph.unitFields(input: "input", channels: c, height: h, width: w)["output"],
      let size = fields.outputSize
    else { return 0 }
    var checked = 0
    for y in 0..<size.height {
      for x in 0..<size.width {
        let input = Tensor<Float>(shape: [1, c, h, w], scalars: first, requiresGrad: true)
        guard case .float(let out)? = try graph.run(["input": .float(input)])["output"] else { return checked }
        var mask = [Float](repeating: 0, count: out.count)
        let channels = out.shape[1]
        for k in 0..<channels {
          mask[out.rank == 4 ? (k * size.height + y) * size.width + x : k] = 1
        }
        let g = (out * Tensor(shape: out.shape, scalars: mask)).sum().gradients(wrt: [input])[0].scalars
        var rows = Set<Int>()
        var cols = Set<Int>()
        for k in 0..<c {
          for r in 0..<h {
            for q in 0..<w where g[(k * h + r) * w + q] != 0 {
              rows.insert(r)
              cols.insert(q)
            }
          }
        }
        let f = fields.field(y: y, x: x)
        let complete = fields.axes[0].spans[y] != nil && fields.axes[1].spans[x] != nil
        if let lo = rows.min(), let hi = rows.max(), let left = cols.min(), let right = cols.max() {
          #expect(
            complete && f.rows.contains(lo) && f.rows.contains(hi),
            "\(name) (\(y), \(x)): rows \(lo)...\(hi) outside \(f.rows)")
          #expect(
            f.cols.contains(left) && f.cols.contains(right),
            "\(name) (\(y), \(x)): cols \(left)...\(right) outside \(f.cols)")
          if exact {
            #expect(
              lo...hi == f.rows && left...right == f.cols,
              "\(name) (\(y), \(x)): gradient \(lo)...\(hi) x \(left)...\(right), field \(f)")
          }
        } else if exact {
          #expect(!complete, "\(name) (\(y), \(x)): no gradient, but a field \(f)")
        }
        checked += 1
      }
    }
    return checked
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
      let e = normwiseError(y.scalars, try expected.floats())
      #expect(e < 1e-4, "\(name): output normwise error \(e)")
      let w = try array("w")
      let loss = (y * Tensor<Float>(shape: w.shape, scalars: try w.floats())).sum()
      let g = loss.gradients(wrt: [x])[0]
      let ge = normwiseError(g.scalars, try array("grad").floats())
      #expect(ge < 1e-4, "\(name): input gradient normwise error \(ge)")
      let ops = Set(graph.nodes.map(\.opType)).sorted().joined(separator: " ")
      print("ONNX-OP \(name) (opset \(graph.opset): \(ops)): output \(e), gradient \(ge)")
    }
  }
}
