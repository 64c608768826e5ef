import Analysis
import Attribution
import Engine
import Foundation
import ModelInterface

/// Which layers the Pointing Game reads each method's map at, for one network.
public struct PointingLayers: Sendable, Equatable {
  /// MWP, c-MWP and LRP maps (VGG16: pool4 `features.23`; ResNet-50: `layer3`).
  public var map: String
  /// CAM and Grad-CAM (the last conv block: VGG16 `features.29`, ResNet-50 `layer4`).
  public var cam: String
  /// c-MWP's contrast layer, the classifier's input (VGG16 `classifier.4`, ResNet-50 `avgpool`).
  public var contrast: String
  public init(map: String, cam: String, contrast: String) {
    self.map = map
    self.cam = cam
    self.contrast = contrast
  }

  /// Where `method` reads its map.
  public func layers(for method: AttributionMethod) -> AttributionLayers {
    switch method {
    case .gradient, .deconvnet, .guided, .center: return AttributionLayers(layer: nil)
    case .cam, .gradCAM: return AttributionLayers(layer: cam)
    case .contrastiveMWP: return AttributionLayers(layer: map, contrast: contrast)
    case .mwp, .lrpEpsilon, .lrpZPlus: return AttributionLayers(layer: map)
    }
  }
}

/// One method's Pointing Game score: all pairs and the difficult subset.
public struct PointingScore: Sendable {
  public var method: AttributionMethod
  public var all: PointingTally
  public var difficult: PointingTally
}

/// A model-randomisation check (Adebayo et al. 2018): Spearman's rank correlation between a
/// method's upsampled maps from the trained network and from the same architecture with random
/// weights, per (image, category) pair; mean and SD over pairs. Near 1: the map ignores the weights.
public struct RandomisationCheck: Sendable {
  public var method: AttributionMethod
  public var meanCorrelation: Double
  public var sdCorrelation: Double
  public var pairs: Int
}

/// Example maps for the report: image index, category, the upsampled map per method and its point.
public struct PointingExample: Sendable {
  public var image: Int
  public var category: Int
  public var maps: [AttributionMethod: [Float]]
  public var points: [AttributionMethod: (y: Int, x: Int)]
  public var hits: [AttributionMethod: Bool]
}

/// Everything the Pointing Game produced.
public struct PointingGameResult: Sendable {
  public var scores: [PointingScore]
  public var randomisation: [RandomisationCheck]
  public var examples: [PointingExample]
  public var categories: [String]
  public var images: Int
  public var tolerance: Double
  public var height: Int
  public var width: Int
  public var layers: PointingLayers
  public var model: String
  /// Grey images (H x W in [0, 1]) of the examples, by image index.
  public var displays: [Int: [Float]]
}

/// How the Pointing Game runs.
public struct PointingGameConfig: Sendable {
  public var methods: [AttributionMethod] = AttributionMethod.allCases
  public var layers: PointingLayers
  /// Pixels at the input's size; nil: 15 * max(H, W) / 224.
  public var tolerance: Double? = nil
  /// (image, category) pairs per forward pass.
  public var batchSize = 32
  /// Example pairs kept for the report.
  public var examples = 4
  /// Pairs for the model-randomisation check (0: skip it).
  public var randomisationPairs = 100
  public init(layers: PointingLayers) { self.layers = layers }
}

/// Runs the Pointing Game: for every (image, present category) pair and every method, the map for
/// that category, upsampled to the image (bilinear; gradient, deconvnet and guided then smoothed with
/// sigma 0.02 max(H, W)), its first maximum, hit or miss. `randomModel` (same architecture, random
/// weights) feeds the randomisation check. `progress(done, total)` counts pairs x methods.
public func runPointingGame(
  model: Module, randomModel: Module?, modelName: String, images: [PointingImage], categories: [String],
  input g: InputGeometry, config: PointingGameConfig, progress: (Int, Int) -> Void = { _, _ in }
) throws -> PointingGameResult {
  let attributor = try Attributor(model: model)
  let pairs = images.flatMap(\.targets)
  guard !pairs.isEmpty else { throw AttributionError("no (image, category) pairs to score") }
  for p in pairs where p.category >= categories.count {
    throw AttributionError("category \(p.category) but the network has \(categories.count) outputs")
  }
  let tolerance = config.tolerance ?? PointingGame.tolerance(height: g.height, width: g.width)
  let game = PointingGame(tolerance: tolerance)
  let exampleIndices = Set(examplePairs(pairs, count: config.examples))
  var examples: [Int: PointingExample] = [:]
  var scores: [PointingScore] = []
  let total = pairs.count * config.methods.count
  var done = 0
  for method in config.methods {
    var all = PointingTally(categories: categories.count)
    var difficult = PointingTally(categories: categories.count)
    for start in stride(from: 0, to: pairs.count, by: config.batchSize) {
      let chunk = Array(pairs[start..<min(pairs.count, start + config.batchSize)])
      let maps = try pointingMaps(attributor, chunk, images: images, method: method, config: config, g)
      for (k, target) in chunk.enumerated() {
        let point = MapProcessing.maximumPoint(maps, index: k)
        let hit = game.hit(point, target)
        all.record(category: target.category, hit: hit)
        if target.difficult { difficult.record(category: target.category, hit: hit) }
        if exampleIndices.contains(start + k) {
          var e =
            examples[start + k]
            ?? PointingExample(image: target.image, category: target.category, maps: [:], points: [:], hits: [:])
          let plane = g.height * g.width
          e.maps[method] = Array(maps.scalars[(k * plane)..<((k + 1) * plane)])
          e.points[method] = point
          e.hits[method] = hit
          examples[start + k] = e
        }
      }
      done += chunk.count
      progress(done, total)
    }
    scores.append(PointingScore(method: method, all: all, difficult: difficult))
  }
  var checks: [RandomisationCheck] = []
  if let randomModel, config.randomisationPairs > 0 {
    let random = try Attributor(model: randomModel)
    let subset = Array(pairs.prefix(config.randomisationPairs))
    for method in config.methods where method != .center {
      let trained = try pointingMaps(attributor, subset, images: images, method: method, config: config, g)
      let other = try pointingMaps(random, subset, images: images, method: method, config: config, g)
      let plane = g.height * g.width
      let rs = (0..<subset.count).map { k in
        spearmanCorrelation(
          trained.scalars[(k * plane)..<((k + 1) * plane)].map(Double.init),
          other.scalars[(k * plane)..<((k + 1) * plane)].map(Double.init))
      }.filter(\.isFinite)
      let mean = rs.reduce(0, +) / Double(max(1, rs.count))
      let sd = (rs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, rs.count - 1))).squareRoot()
      checks.append(RandomisationCheck(method: method, meanCorrelation: mean, sdCorrelation: sd, pairs: rs.count))
    }
  }
  return PointingGameResult(
    scores: scores, randomisation: checks, examples: examples.keys.sorted().map { examples[$0]! },
    categories: categories, images: images.count, tolerance: tolerance, height: g.height, width: g.width,
    layers: config.layers, model: modelName,
    displays: Dictionary(uniqueKeysWithValues: examples.values.map { ($0.image, images[$0.image].display) }))
}

/// Maps [pairs, H, W] at the input's size, as the Pointing Game scores them.
func pointingMaps(
  _ attributor: Attributor, _ chunk: [PointingTarget], images: [PointingImage], method: AttributionMethod,
  config: PointingGameConfig, _ g: InputGeometry
) throws -> Tensor<Float> {
  let x = Tensor(
    shape: [chunk.count, g.channels, g.height, g.width], scalars: chunk.flatMap { images[$0.image].input })
  let raw = try attributor.maps(
    x, classes: chunk.map(\.category), method: method, layers: config.layers.layers(for: method))
  var maps = MapProcessing.resized(raw, height: g.height, width: g.width)
  if method.blurred { maps = MapProcessing.smoothed(maps, sigma: 0.02 * Double(max(g.height, g.width))) }
  return maps
}

/// Up to `count` pair indices spread over the list, preferring difficult pairs (they show the
/// methods apart).
func examplePairs(_ pairs: [PointingTarget], count: Int) -> [Int] {
  guard count > 0 else { return [] }
  let difficult = pairs.indices.filter { pairs[$0].difficult }
  let pool = difficult.count >= count ? difficult : Array(pairs.indices)
  let step = max(1, pool.count / count)
  return Array(stride(from: 0, to: pool.count, by: step).prefix(count).map { pool[$0] })
}
