import Attribution
import Datasets
import Engine
import Foundation
import Models
import Testing

@Suite("Attribution on the shipped multi-digit CNN")
struct AttributionModelTests {
  static func shipped() throws -> MultiDigitCNN {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().path
    let m = MultiDigitCNN()
    try m.load(from: root + "/Checkpoints/multi-digit-cnn.safetensors")
    m.eval()
    return m
  }

  @Test("canvases: distinct cells, exact masks, same seed same canvases")
  func canvases() throws {
    var digits: [Float] = []
    var labels: [Int] = []
    for l in 0..<10 {
      labels.append(l)
      digits += (0..<(28 * 28)).map { i in (i / 28 + i % 28 + l) % 3 == 0 ? 1 : 0 }
    }
    let mnist = MNIST(pixels: digits, labels: labels)
    var a = RandomGenerator(seed: 3)
    var b = RandomGenerator(seed: 3)
    let x = try MultiDigitCanvas.generate(20, from: mnist, config: MultiDigitCanvasConfig(), rng: &a)
    let y = try MultiDigitCanvas.generate(20, from: mnist, config: MultiDigitCanvasConfig(), rng: &b)
    #expect(x.map(\.pixels) == y.map(\.pixels))
    for c in x {
      #expect(Set(c.labels).count == c.labels.count && (1...4).contains(c.labels.count))
      for (i, m) in c.masks.enumerated() {
        for j in 0..<i { #expect(!zip(m, c.masks[j]).contains { $0 && $1 }, "digits never overlap") }
        for p in m.indices where m[p] { #expect(c.pixels[p] > 0) }
      }
    }
    var bad = MultiDigitCanvasConfig()
    bad.digitCounts = 1...9
    #expect(throws: DatasetError.self) { try bad.validate() }
  }

  @Test("maps are finite, differ between methods, and c-MWP points at the category's digit")
  func shippedMaps() throws {
    let model = try Self.shipped()
    let (_, test) = try MNIST.defaultSubset().split(testFraction: 0.2, seed: 7)
    var rng = RandomGenerator(seed: 4)
    var config = MultiDigitCanvasConfig()
    config.digitCounts = 2...2
    let canvases = try MultiDigitCanvas.generate(16, from: test, config: config, rng: &rng)
    let attributor = try Attributor(model: model)
    #expect(attributor.classifier == "classifier.0")
    let x = Tensor(shape: [16, 1, 64, 64], scalars: canvases.flatMap(\.pixels))
    let classes = canvases.map { $0.labels[0] }
    let layers = MultiDigitCNN.registryEntry.mapLayers!
    let maps = try attributor.maps(
      x, classes: classes, method: .contrastiveMWP,
      layers: AttributionLayers(layer: layers.map, contrast: layers.contrast))
    let up = MapProcessing.resized(maps, height: 64, width: 64)
    let game = PointingGame(tolerance: PointingGame.tolerance(height: 64, width: 64))
    var hits = 0
    for (i, c) in canvases.enumerated() {
      let target = PointingTarget(
        image: i, category: classes[i], height: 64, width: 64, mask: c.mask(of: classes[i]), otherCategories: 1)
      if game.hit(MapProcessing.maximumPoint(up, index: i), target) { hits += 1 }
    }
    #expect(hits >= 14, "c-MWP hits \(hits) of 16")
    let other = try attributor.maps(
      x, classes: canvases.map { $0.labels[1] }, method: .contrastiveMWP,
      layers: AttributionLayers(layer: layers.map, contrast: layers.contrast))
    #expect(other.scalars != maps.scalars, "a different class gives a different map")
    #expect(throws: AttributionError.self) {
      try attributor.maps(x, classes: classes, method: .mwp, layers: AttributionLayers(layer: "features.99"))
    }
    #expect(throws: AttributionError.self) {
      try attributor.maps(
        x, classes: classes.map { _ in 10 }, method: .mwp, layers: AttributionLayers(layer: layers.map))
    }
    let restored = model.parameters().allSatisfy { $0.requiresGrad }
    #expect(restored, "parameters' flags are restored")
  }
}
