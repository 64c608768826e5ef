import Engine
import Foundation
import Models
import Testing

/// Receptive fields computed from the layer chain equal a brute-force measurement on every zoo
/// model: with all weights positive (1), biases 0 and a zero input, a unit responds (is non-zero)
/// exactly when a perturbed input pixel lies in its field. Lines of perturbed pixels through the
/// image centre and along the top-left edges test every unit of every recorded layer.
@Suite("Receptive fields from the layer chain")
struct ReceptiveFieldTests {
  static let cases: [(name: String, size: Int, layers: [String])] = [
    ("alexnet", 67, ["features.0", "features.2", "features.5", "features.9", "features.12", "avgpool"]),
    ("vgg11", 48, ["features.0", "features.2", "features.7", "features.15", "features.20"]),
    ("vgg13_bn", 48, ["features.1", "features.6", "features.20", "features.34"]),
    ("vgg16", 48, ["features.3", "features.15", "features.23", "features.29", "features.30"]),
    ("vgg19_bn", 48, ["features.10", "features.40", "features.51"]),
    ("resnet18", 48, ["bn1", "maxpool", "layer1", "layer2.0.conv1", "layer2.0", "layer3", "layer4.1"]),
    ("resnet34", 48, ["maxpool", "layer2.3", "layer3.0.conv2", "layer4"]),
    ("resnet50", 48, ["layer1.0.conv1", "layer1", "layer2.0.conv2", "layer3.2", "layer4"]),
  ]

  @Test("every unit's field equals the pixels that move it", arguments: cases.map(\.name))
  func bruteForce(_ name: String) throws {
    let c = Self.cases.first { $0.name == name }!
    let model = ZooParityTests.build(name)
    model.eval()
    var positive = TensorArchive()
    for (key, t, integer) in model.namedState() {
      let leaf = key.split(separator: ".").last!
      let value: Float = leaf == "weight" || leaf == "running_var" ? 1 : 0
      positive.tensors.append(
        integer
          ? StoredTensor(name: key, shape: t.shape, ints: [Int](repeating: 0, count: t.count))
          : StoredTensor(name: key, shape: t.shape, floats: [Float](repeating: value, count: t.count)))
    }
    try model.loadStateDict(positive)
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    let n = c.size
    // Perturbed pixels: the centre row and column, and the top row and left column.
    let pixels =
      (0..<n).map { ($0, n / 2) } + (0..<n).map { (n / 2, $0) } + (0..<n).map { ($0, 0) }
      + (0..<n).map { (0, $0) }
    var input = [Float](repeating: 0, count: pixels.count * 3 * n * n)
    for (b, (r, col)) in pixels.enumerated() {
      for ch in 0..<3 { input[((b * 3 + ch) * n + r) * n + col] = 1000 }
    }
    var seen: [String: Tensor<Float>] = [:]
    let handles = try c.layers.map { layer in
      try #require(modules[layer], "no module \(layer)").registerForwardHook { _, _, out in seen[layer] = out }
    }
    _ = withNoGrad { model(Tensor(shape: [pixels.count, 3, n, n], scalars: input)) }
    for h in handles { h.remove() }
    for layer in c.layers {
      let out = try #require(seen[layer])
      let map = ReceptiveFieldMap(
        steps: try #require(ReceptiveFieldMap.steps(in: model, to: layer), "\(layer)"), inputHeight: n, inputWidth: n)
      let size = try #require(map.outputSize)
      #expect([size.height, size.width] == Array(out.shape[2...]), "\(name) \(layer): output size")
      let (channels, h, w) = (out.shape[1], out.shape[2], out.shape[3])
      var wrong = 0
      for y in 0..<h {
        for x in 0..<w {
          let field = map.field(y: y, x: x)
          for (b, (r, col)) in pixels.enumerated() {
            let moved = out.scalars[((b * channels) * h + y) * w + x] != 0
            if moved != (field.rows.contains(r) && field.cols.contains(col)) { wrong += 1 }
          }
        }
      }
      #expect(wrong == 0, "\(name) \(layer): \(wrong) unit-pixel pairs disagree with the computed fields")
    }
  }
}
