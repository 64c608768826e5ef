import Engine
import Foundation
import Fuzzing
import Testing

@testable import ONNX

/// The ONNX reader and executor on hand-built graphs: a small conv net against the same engine ops,
/// external data inside and outside the model's folder, unsupported operators, truncated files, and
/// 10,000 mutants of valid models, each of which must load or fail with a clear error (a crash would
/// end the test process).
@Suite("ONNX reader: graphs, external data, errors, mutants")
struct ONNXReaderTests {
  let x = Tensor<Float>(shape: [2, 3, 8, 8], scalars: TinyModels.values(384, seed: 9))

  @Test("a conv net runs as the same engine ops, inline and with external data")
  func convNet() throws {
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let expected = TinyModels.reference(x).scalars
    let inline = try GraphNetwork(graph: Graph(contentsOf: TinyModels.write(TinyModels.convNet().model, in: dir)))
    #expect(try inline.run(x).scalars == expected)
    let (model, data) = TinyModels.convNet(external: "weights.bin")
    let path = try TinyModels.write(model, data: data, external: "weights.bin", in: dir)
    let net = try GraphNetwork(graph: Graph(contentsOf: path))
    try net.prepare(height: 8, width: 8)
    #expect(net.batchLimit == nil)
    #expect(try net.run(x).scalars == expected)
    #expect(net.modulePaths.map(\.path) == ["conv", "relu", "pool", "fc"])  // "logits" keeps its scope in "/fc/Gemm"
    let fields = try net.unitFields(height: 8, width: 8)
    #expect(
      fields["pool"]?.outputSize?.height == 4 && fields["pool"]?.field(y: 1, x: 2).rows == 1...4
        && fields["pool"]?.field(y: 1, x: 2).cols == 3...6)
    #expect(fields["/Flatten_output_0"]?.field(y: 0, x: 0).cols == 0...7)
  }

  @Test(
    "external data that leaves the model's folder is refused before any read",
    arguments: ["../secret.bin", "/etc/hostname", "sub/../../secret.bin", "..\\secret.bin", "link.bin"])
  func externalEscapes(location: String) throws {
    let parent = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: parent) }
    let dir = parent.appendingPathComponent("model")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let (model, data) = TinyModels.convNet(external: location)
    try data.write(to: parent.appendingPathComponent("secret.bin"))
    try FileManager.default.createSymbolicLink(
      at: dir.appendingPathComponent("link.bin"), withDestinationURL: parent.appendingPathComponent("secret.bin"))
    let path = try TinyModels.write(model, in: dir)
    do {
      _ = try Graph(contentsOf: path)
      Issue.record("\(location) was read")
    } catch let e as CheckpointError {
      #expect(e.message.contains("leaves the model's folder") || e.message.contains("resolves outside"), "\(e)")
      #expect(e.file == path)
    }
  }

  @Test("every unsupported node is listed at once with its op type and opset")
  func unsupported() throws {
    var (model, _) = TinyModels.convNet(opset: 15)
    model.graph.node.insert(TinyModels.node("LSTM", ["input"], ["h"], name: "rnn"), at: 1)
    model.graph.node.append(TinyModels.node("NonMaxSuppression", ["logits"], ["boxes"], name: "nms"))
    model.graph.node.append(TinyModels.node("FusedConv", ["input"], ["f"], name: "fused", domain: "com.microsoft"))
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = try TinyModels.write(model, in: dir)
    let error = try #require(throws: CheckpointError.self) { try Graph(contentsOf: path) }
    #expect(error.message.hasPrefix("3 node(s) use operators this executor does not implement"))
    for line in [
      "node 'rnn' (LSTM), opset 15", "node 'nms' (NonMaxSuppression), opset 15",
      "node 'fused' (FusedConv), opset 15, domain 'com.microsoft'",
    ] {
      #expect(error.message.contains(line), "\(error.message)")
    }
  }

  @Test("truncated files, other formats and broken graphs give errors that name the file")
  func brokenFiles() throws {
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let bytes = try TinyModels.convNet().model.serializedData()
    let path = dir.appendingPathComponent("m.onnx").path
    for cut in [1, 7, 100, bytes.count / 2, bytes.count - 3] {
      try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
      let error = try #require(throws: CheckpointError.self) { try Graph(contentsOf: path) }
      #expect(error.file == path && !error.message.isEmpty)
    }
    try Data("name: not a model\n".utf8).write(to: URL(fileURLWithPath: path))
    #expect(throws: CheckpointError.self) { try Graph(contentsOf: path) }
    var (model, _) = TinyModels.convNet()
    model.graph.node[2].input = ["nowhere"]
    try TinyModels.write(model, in: dir)
    let error = try #require(throws: CheckpointError.self) { try Graph(contentsOf: path) }
    #expect(error.message.contains("undefined input(s) 'nowhere'"), "\(error.message)")
    model = TinyModels.convNet(opset: 21).model
    try TinyModels.write(model, in: dir)
    let opset = try #require(throws: CheckpointError.self) { try Graph(contentsOf: path) }
    #expect(opset.message.contains("operator set 21 is not supported"))
  }

  @Test("10,000 mutated models each load or fail with a clear error")
  func mutants() throws {
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (external, data) = TinyModels.convNet(external: "w.bin")
    let seeds = [Array(try TinyModels.convNet().model.serializedData()), Array(try external.serializedData())]
    try data.write(to: dir.appendingPathComponent("w.bin"))
    var mutator = Mutator(seed: 18)
    var loaded = 0
    var refused = 0
    let path = dir.appendingPathComponent("m.onnx").path
    try ReadBudget.$bytes.withValue(64 << 20) {
      for i in 0..<10_000 {
        let mutant = mutator.mutate(seeds[i % 2], others: seeds, text: false)
        try Data(mutant).write(to: URL(fileURLWithPath: path))
        do {
          let net = try GraphNetwork(graph: Graph(contentsOf: path))
          try net.prepare(height: net.declaredHeight ?? 8, width: net.declaredWidth ?? 8)
          loaded += 1
        } catch let e as CheckpointError {
          #expect(!e.message.isEmpty && e.file == path, "mutant \(i): \(e)")
          refused += 1
        }
      }
    }
    #expect(loaded > 100 && refused > 1000, "loaded \(loaded), refused \(refused)")
  }

  @Test("LRN runs as the engine's local response norm (checked against PyTorch in the engine's fixtures)")
  func lrnNode() throws {
    var (model, _) = TinyModels.convNet()
    var attributes = [TinyModels.attribute("size", int: 3)]
    for (key, value) in [("alpha", Float(0.01)), ("beta", 0.75), ("bias", 2)] {
      var a = Onnx_AttributeProto()
      a.name = key
      a.type = .float
      a.f = value
      attributes.append(a)
    }
    model.graph.node.insert(
      TinyModels.node("LRN", ["/relu/Relu_output_0"], ["/lrn/LRN_output_0"], name: "/lrn/LRN", attributes), at: 2)
    model.graph.node[3].input = ["/lrn/LRN_output_0"]
    let dir = try TinyModels.folder()
    defer { try? FileManager.default.removeItem(at: dir) }
    let graph = try Graph(contentsOf: TinyModels.write(model, in: dir))
    var seen: Tensor<Float>?
    _ = try graph.run(["input": .float(x)]) { name, value in
      if name == "/lrn/LRN_output_0" { seen = value }
      return value
    }
    let w = Tensor<Float>(shape: [4, 3, 3, 3], scalars: TinyModels.values(108, seed: 1))
    let b = Tensor<Float>(shape: [4], scalars: TinyModels.values(4, seed: 2))
    let expected = localResponseNorm(
      conv2d(x, weight: w, bias: b, padding: 1).relu(), size: 3, alpha: 0.01, beta: 0.75, k: 2)
    #expect(try #require(seen).scalars == expected.scalars)
  }

  @Test("module paths from the exporter's scopes: nested containers, repeated calls, unscoped values")
  func modulePaths() {
    let names = [
      "/features/features.29/Relu_output_0", "/layer2/layer2.0/conv1/Conv_output_0",
      "/layer2/layer2.0/downsample/downsample.0/Conv_output_0", "/layer2/layer2.0/relu/Relu_output_0",
      "/layer2/layer2.0/Add_output_0", "/layer2/layer2.0/relu_1/Relu_output_0", "/Flatten_output_0", "logits",
    ]
    let paths = Dictionary(uniqueKeysWithValues: GraphNetwork.modulePaths(names).map { ($0.path, $0.value) })
    #expect(paths["features.29"] == names[0])
    #expect(paths["layer2.0.conv1"] == names[1])
    #expect(paths["layer2.0.downsample.0"] == names[2])
    #expect(paths["layer2.0.downsample"] == names[2])
    // The block's output is its last value: the second call of its ReLU.
    #expect(paths["layer2.0"] == names[5])
    #expect(paths["layer2.0.relu"] == names[5])
    #expect(paths["layer2"] == names[5])
    #expect(paths.count == 8)  // features, features.29, layer2, layer2.0 and four inside it
    // A graph output renamed by the exporter (`logits`) keeps its module in its node's name.
    var nodes = names.map { $0.replacingOccurrences(of: "_output_0", with: "") }
    nodes[7] = "/fc/Gemm"
    let named = Dictionary(
      uniqueKeysWithValues: GraphNetwork.modulePaths(names, nodeNames: nodes).map { ($0.path, $0.value) })
    #expect(named["fc"] == "logits" && named.count == 9)
  }
}
