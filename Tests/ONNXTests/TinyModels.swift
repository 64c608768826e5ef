import Engine
import Foundation
import SwiftProtobuf

@testable import ONNX

/// Small ONNX models built in Swift for the reader's tests: the conv net below, and nodes of any
/// operator for the error paths.
enum TinyModels {
  static func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map { Int64($0) }
    return a
  }

  static func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(int)
    return a
  }

  static func node(
    _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = "",
    _ attributes: [Onnx_AttributeProto] = []
  ) -> Onnx_NodeProto {
    var n = Onnx_NodeProto()
    n.opType = op
    n.input = inputs
    n.output = outputs
    n.name = name
    n.domain = domain
    n.attribute = attributes
    return n
  }

  /// A float initializer with raw little-endian data, or with its data in `external` (a file name
  /// relative to the model) at `offset`.
  static func initializer(_ name: String, _ shape: [Int], _ values: [Float], external: String? = nil, offset: Int = 0)
    -> Onnx_TensorProto
  {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = 1
    if let external {
      t.dataLocation = .external
      for (k, v) in [("location", external), ("offset", "\(offset)"), ("length", "\(values.count * 4)")] {
        var e = Onnx_StringStringEntryProto()
        e.key = k
        e.value = v
        t.externalData.append(e)
      }
    } else {
      t.rawData = rawBytes(values)
    }
    return t
  }

  static func rawBytes(_ values: [Float]) -> Data {
    var d = Data()
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
    return d
  }

  static func port(_ name: String, _ dims: [Int?]) -> Onnx_ValueInfoProto {
    var v = Onnx_ValueInfoProto()
    v.name = name
    var t = Onnx_TypeProto.Tensor()
    t.elemType = 1
    var shape = Onnx_TensorShapeProto()
    for d in dims {
      var dim = Onnx_TensorShapeProto.Dimension()
      if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "batch" }
      shape.dim.append(dim)
    }
    t.shape = shape
    v.type.tensorType = t
    return v
  }

  /// Deterministic weights.
  static func values(_ n: Int, seed: Int) -> [Float] {
    (0..<n).map { i in Float(((i * 7919 + seed * 104_729) % 2001) - 1000) / 4000 }
  }

  /// Conv 3->4 (3x3, pad 1) -> Relu -> MaxPool 2x2 -> Flatten -> Gemm to 5 classes, on [batch, 3, 8, 8].
  /// With `external`, the conv weight lives in that file (returned as `data`).
  static func convNet(opset: Int = 13, external: String? = nil) -> (model: Onnx_ModelProto, data: Data) {
    let w = values(4 * 3 * 3 * 3, seed: 1)
    let b = values(4, seed: 2)
    let fc = values(5 * 64, seed: 3)
    let fcb = values(5, seed: 4)
    var g = Onnx_GraphProto()
    g.name = "tiny"
    g.input = [port("input", [nil, 3, 8, 8])]
    g.output = [port("logits", [nil, 5])]
    g.initializer = [
      initializer("w", [4, 3, 3, 3], w, external: external), initializer("b", [4], b),
      initializer("fc", [5, 64], fc), initializer("fcb", [5], fcb),
    ]
    g.node = [
      node(
        "Conv", ["input", "w", "b"], ["/conv/Conv_output_0"], name: "/conv/Conv",
        [attribute("kernel_shape", ints: [3, 3]), attribute("pads", ints: [1, 1, 1, 1])]),
      node("Relu", ["/conv/Conv_output_0"], ["/relu/Relu_output_0"], name: "/relu/Relu"),
      node(
        "MaxPool", ["/relu/Relu_output_0"], ["/pool/MaxPool_output_0"], name: "/pool/MaxPool",
        [attribute("kernel_shape", ints: [2, 2]), attribute("strides", ints: [2, 2])]),
      node("Flatten", ["/pool/MaxPool_output_0"], ["/Flatten_output_0"], name: "/Flatten"),
      node(
        "Gemm", ["/Flatten_output_0", "fc", "fcb"], ["logits"], name: "/fc/Gemm", [attribute("transB", int: 1)]),
    ]
    var m = Onnx_ModelProto()
    m.irVersion = 8
    m.producerName = "ephys-tests"
    var set = Onnx_OperatorSetIdProto()
    set.version = Int64(opset)
    m.opsetImport = [set]
    m.graph = g
    return (m, external == nil ? Data() : rawBytes(w))
  }

  /// The same network composed from engine ops.
  static func reference(_ x: Tensor<Float>) -> Tensor<Float> {
    let w = Tensor<Float>(shape: [4, 3, 3, 3], scalars: values(108, seed: 1))
    let b = Tensor<Float>(shape: [4], scalars: values(4, seed: 2))
    let h = maxPool(conv2d(x, weight: w, bias: b, padding: 1).relu(), kernel: 2).flattened(from: 1)
    return linear(
      h, weight: Tensor(shape: [5, 64], scalars: values(320, seed: 3)),
      bias: Tensor(shape: [5], scalars: values(5, seed: 4)))
  }

  /// A fresh folder under the temporary directory.
  static func folder() throws -> URL {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("ephys-onnx-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Writes `model` (and its external data) into `dir` as m.onnx.
  @discardableResult
  static func write(_ model: Onnx_ModelProto, data: Data = Data(), external: String? = nil, in dir: URL) throws
    -> String
  {
    let path = dir.appendingPathComponent("m.onnx").path
    try model.serializedData().write(to: URL(fileURLWithPath: path))
    if let external { try data.write(to: dir.appendingPathComponent(external)) }
    return path
  }
}
