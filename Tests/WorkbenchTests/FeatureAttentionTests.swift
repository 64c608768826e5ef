import Engine
import Foundation
import ImageIO
import ModelInterface
import Models
import Stimuli
import Testing

@testable import Workbench

@Suite("Feature-based attention: images, values, detection, protocols")
struct FeatureAttentionTests {
  /// The fixture script's images: 3 categories x 4 images of 1 x 56 x 56, (1 + u(600 + c, i)) / 2.
  static func fixtureImages() -> CategoryImages {
    let plane = 56 * 56
    let images = (0..<3).map { c in
      (0..<4).map { n in (0..<plane).map { Float((1 + FixtureFormula.uniform(600 + c, n * plane + $0)) / 2) } }
    }
    return CategoryImages(names: ["a", "b", "c"], images: images, channels: 1, side: 56)
  }

  @Test("tuning and gradient values equal PyTorch's on formula weights (max relative error <= 1e-4)")
  func valuesMatchPyTorch() throws {
    let fixture = try Safetensors.read(workbenchFixture("feature_values.safetensors"))
    let model = FeatureGainCNN()
    try model.loadStateDict(FixtureFormula.weights(model.namedState().map { ($0.name, $0.tensor.shape) }))
    let layers = ["features.1", "features.3", "features.6", "features.8", "features.11", "features.13"]
    let net = try AttentionNetwork(
      model, input: FeatureGainCNN.registryEntry.input, layers: layers, detectorLayer: "classifier.4")
    let detectors = CategoryDetectors(
      weight: (0..<(3 * 256)).map { Float(0.1 * FixtureFormula.uniform(500, $0)) },
      bias: (0..<3).map { Float(0.05 * FixtureFormula.uniform(501, $0)) }, categories: 3, features: 256)
    let values = FeatureValues.measure(net, detectors: detectors, images: Self.fixtureImages(), limit: 4)
    var worst = 0.0
    for (l, layer) in layers.enumerated() {
      for (name, ours) in [
        ("mean_response", values.meanResponse[l]), ("tuning", values.tuning[l]),
        ("mean_gradient", values.meanGradient[l]), ("gradient", values.gradient[l]),
      ] {
        let theirs = try fixture.require("\(name).\(layer)").floats().map(Double.init)
        let mine = ours.flatMap { $0 }
        #expect(mine.count == theirs.count)
        let scale = max(1e-30, theirs.map(abs).max() ?? 0)
        let err = zip(mine, theirs).map { abs($0 - $1) }.max()! / scale
        worst = max(worst, err)
        #expect(err <= 1e-4, "\(name).\(layer): relative error \(err)")
      }
    }
    print("FEATURE VALUES parity: worst relative error \(worst)")
    // The values vary: a test on all-zero maps would pass trivially.
    #expect(values.tuning.flatMap { $0.flatMap { $0 } }.contains { abs($0) > 0.5 })
    #expect(values.gradient.flatMap { $0.flatMap { $0 } }.contains { abs($0) > 0.5 })
  }

  @Test("merged images average, arrays shrink four images into quadrants, test sets are balanced")
  func testImages() {
    let side = 8
    // Category c's images are constant 10^c, so a composite shows which categories it holds.
    let levels: [Float] = [1, 10, 100, 1000]
    let pool = CategoryImages(
      names: ["0", "1", "2", "3"], images: levels.map { [[Float](repeating: $0, count: side * side)] }, channels: 1,
      side: side)
    #expect(mergedImage([1, 3], [3, 5]) == [2, 4])
    let array = arrayImage((0..<4).map { [Float](repeating: Float($0), count: side * side) }, channels: 1, side: side)
    #expect(array[0] == 0 && array[side - 1] == 1 && array[(side - 1) * side] == 2 && array[side * side - 1] == 3)
    var rng = RandomGenerator(seed: 3)
    for kind in CategoryImageKind.allCases {
      let set = detectionTestSet(kind, category: 2, positives: 9, from: pool, rng: &rng)
      #expect(set.labels.filter { $0 == 1 }.count == 9 && set.labels.filter { $0 == 0 }.count == 9)
      for (image, label) in zip(set.images, set.labels) {
        switch kind {
        case .merged:
          // 2 v = 100 + another category's level exactly when positive; negatives pair two different others.
          let partner = 2 * image[0] - 100
          #expect([1, 10, 1000].contains(partner) == (label == 1))
        case .array:
          let corners = [0, side - 1, (side - 1) * side, side * side - 1].map { image[$0] }
          #expect(corners.filter { $0 == 100 }.count == (label == 1 ? 1 : 0))
        }
      }
    }
  }

  @Test("spatial gains favour the attended quadrant; additive and positive-only forms")
  func gainForms() {
    let g = quadrantGain(slots: [1], height: 4, width: 4, beta: 0.5).scalars
    #expect(g[0 * 4 + 3] == 1.5 && g[0] == 0.5 && g[3 * 4 + 0] == 0.5 && g[3 * 4 + 3] == 0.5)
    #expect(quadrantGain(slots: [0], height: 2, width: 2, beta: 2).scalars == [3, 0, 0, 0])
    let h = Tensor<Float>(shape: [1, 2, 1, 1], scalars: [1, 1])
    let mult = FeatureGainForm().modulation([1, -3], beta: 0.5, baseline: 2).apply(h).scalars
    #expect(mult == [1.5, 0])  // max(0, 1 - 1.5) clips the second
    let positive = FeatureGainForm(positiveOnly: true).modulation([1, -3], beta: 0.5, baseline: 2).apply(h).scalars
    #expect(positive == [1.5, 1])
    let additive = FeatureGainForm(additive: true).modulation([1, -3], beta: 0.5, baseline: 2).apply(h).scalars
    #expect(additive == [2, 0])  // 1 + 0.5 * 1 * 2, max(0, 1 - 3)
  }

  @Test("performance change is >= 0 by construction; the cross-validated change can be negative")
  func summaries() {
    func counts(_ hits: [Int], _ rejections: [Int]) -> DetectionCounts {
      var d = DetectionCounts()
      d.hits = hits
      d.correctRejections = rejections
      d.positives = [10, 10]
      d.negatives = [10, 10]
      return d
    }
    // Beta 1 helps on one half and hurts on the other: max over beta says +, cross-validation says -.
    let base = counts([5, 5], [5, 5])
    let mixed = counts([9, 3], [5, 5])
    let s = DetectionSummary(
      kind: .merged, site: "l", values: .tuning, betas: [0, 1], counts: [[base, base], [mixed, mixed]])
    #expect(s.change.mean > 0)
    #expect(s.crossValidatedChange.mean < 0)
    #expect(s.baseline.hit == 0.5 && s.bestBeta == 1)
  }

  @Test("feature-gain protocol errors name the key: gradient values for an orientation, missing target")
  func protocolErrors() throws {
    let base = """
      name: t
      model: {architecture: feature-gain-cnn, weights: random}
      stimulus:
        kind: grating
        canvas: [56, 56]
        parameters: {orientation: {from: 0, to: 150, steps: 6}, frequency: 0.1, x: 28, y: 28}
      record: {layers: [features.11]}
      tuning: {axis: orientation}

      """
    let gradient = try #require(
      try protocolIssues(
        base + "attention: {mode: feature-gain, target: {orientation: 45}, values: gradient, layers: [features.6]}"))
    #expect(gradient.contains("attention.values") && gradient.contains("gradient values need a category target"))
    let noTarget = try #require(try protocolIssues(base + "attention: {mode: feature-gain, layers: all}"))
    #expect(noTarget.contains("attention.target") && noTarget.contains("required"))
    let badLayer = try #require(
      try protocolIssues(base + "attention: {mode: feature-gain, target: {orientation: 0}, layers: [features.99]}"))
    #expect(badLayer.contains("attention.layers"))
    let category = try #require(
      try protocolIssues(base + "attention: {mode: feature-gain, target: {category: 3}, layers: all}"))
    #expect(category.contains("attention.from"))
    #expect(try protocolIssues(base + "attention: {mode: feature-gain, target: {orientation: 45}, layers: all}") == nil)
  }

  /// The same study code on a torchvision-layout network (VGG11, random weights) at 32 x 32 with an
  /// image folder: categories from subfolders, detectors trained on the fly, every table written.
  @Test("the study runs on any VGG-style registry network from an image folder") func imageFolder() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-fa-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var rng = RandomGenerator(seed: 5)
    for (c, name) in ["circles", "stripes"].enumerated() {
      try FileManager.default.createDirectory(atPath: dir + "/images/\(name)", withIntermediateDirectories: true)
      for n in 0..<6 {
        let pixels = (0..<(3 * 40 * 40)).map { i -> Float in
          let x = Double(i % 40)
          let y = Double((i / 40) % 40)
          let base = c == 0 ? (hypot(x - 20, y - 20) < 12 ? 0.9 : 0.1) : (Int(x / 4) % 2 == 0 ? 0.9 : 0.1)
          return Float(min(1, max(0, base + 0.1 * rng.normal())))
        }
        try RasterImage(planarRGB: pixels, width: 40, height: 40).writePNG(to: dir + "/images/\(name)/\(n).png")
      }
    }
    var config = FeatureStudyConfig()
    config.model = "vgg11"
    config.weights = "random"
    config.detectors = nil
    config.images = dir + "/images"
    config.size = 32
    config.betas = [0, 1]
    config.positives = 4
    config.fitImages = 4
    config.gainTestImages = 2
    let result = try runFeatureStudy(config)
    #expect(result.layers.count == 8 && result.categories == ["circles", "stripes"])
    #expect(result.summaries.count == 9 * 2 + 9 * 3)  // merged: tuning, gradient; arrays add spatial
    let files = try writeFeatureStudy(result, to: dir + "/out")
    for f in ["feature_values.npz", "detection.csv", "performance_change.csv", "gain_model_test.csv", "report.pdf"] {
      #expect(files[f] != nil && FileManager.default.fileExists(atPath: dir + "/out/" + f), "\(f)")
    }
    #expect(FileManager.default.fileExists(atPath: dir + "/out/detectors.safetensors"))
  }
}
