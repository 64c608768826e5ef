import ArgumentParser
import Attribution
import Engine
import Foundation
import ImageIO
import ModelInterface
import Models
import Workbench

extension AttributionMethod: ExpressibleByArgument {}

/// `ephys attribute`: top-down attention maps for a batch of inputs.
struct Attribute: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Top-down attention maps (gradient, deconvnet, guided, CAM, Grad-CAM, LRP, MWP, c-MWP) for an input batch.",
    discussion: """
      X is float32 [N, C, H, W] already normalised as the network expects. MAPS is float32 [N, h, w] at the
      layer's resolution (the input's for gradient, deconvnet and guided), or at the input's with --upsample
      (bilinear, as TorchRay; --bicubic for bicubic), where gradient, deconvnet and guided maps are also
      smoothed (Gaussian, sigma 0.02 max(H, W)). Layers default to the model's registry entry (VGG16: map
      features.23, Grad-CAM features.29, contrast classifier.4; ResNet: layer3, layer4, avgpool). Definitions:
      docs/attribution.md.
      """)

  @Option(help: "A model of `ephys models`.") var model: String
  @Option(help: "Weights (safetensors, .pt/.pth, .npz) or 'random'.") var weights: String
  @Option(help: "Input batch, float32 .npy [N, C, H, W], normalised.") var input: String
  @Option(help: "gradient, deconvnet, guided, cam, grad-cam, lrp-epsilon, lrp-zplus, mwp, c-mwp, center.")
  var method: AttributionMethod
  @Option(help: "Map layer (module path); default from the registry.") var layer: String?
  @Option(help: "c-MWP's contrast layer (the classifier's input); default from the registry.")
  var contrastLayer: String?
  @Option(help: "Class per image: one number for all, or a comma-separated list of N.") var `class`: String
  @Option(help: "Output maps, float32 .npy.") var out: String
  @Option(
    help:
      "Input normalisation of an imported network (--model onnx): imagenet, none or MEAN,.../STD,... (default: imagenet for 3 channels, else none)."
  )
  var normalization: String?
  @Flag(help: "Resize the maps to the input's size (and smooth the gradient family).") var upsample = false
  @Flag(help: "Bicubic instead of bilinear resizing.") var bicubic = false
  @Option(help: "Also write PNG overlays (map over image, colour bar) into this folder.") var png: String?

  func run() throws {
    guard weights == "random" || FileManager.default.fileExists(atPath: weights) else {
      throw ValidationError("no such weights file: \(weights) (or 'random')")
    }
    let entry = try registryEntry(model, weights: weights, normalization: normalization)
    let stored = try NPY.read(input)
    guard stored.shape.count == 4, stored.shape.allSatisfy({ $0 > 0 }) else {
      throw ValidationError("\(input): expected [N, C, H, W], got \(stored.shape)")
    }
    guard stored.shape[1] == entry.channels else {
      throw ValidationError("\(input): \(stored.shape[1]) channels, \(model) takes \(entry.channels)")
    }
    let x = Tensor(shape: stored.shape, scalars: try stored.floats())
    let n = stored.shape[0]
    let parts = `class`.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }), parts.count == 1 || parts.count == n else {
      throw ValidationError("--class: one integer, or \(n) comma-separated integers (one per image)")
    }
    let classes = parts.count == 1 ? [Int](repeating: parts[0]!, count: n) : parts.map { $0! }
    let defaults = entry.mapLayers
    var layers = AttributionLayers(layer: nil)
    switch method {
    case .gradient, .deconvnet, .guided, .center: break
    case .cam, .gradCAM: layers.layer = layer ?? defaults?.cam
    case .contrastiveMWP:
      layers = AttributionLayers(layer: layer ?? defaults?.map, contrast: contrastLayer ?? defaults?.contrast)
    case .mwp, .lrpEpsilon, .lrpZPlus: layers.layer = layer ?? defaults?.map
    }
    let network = try entry.network(weights: weights)
    let attributor = try Attributor(model: network)
    var bar = ProgressBar(total: n, label: method.rawValue, unit: "maps")
    var maps: [Float] = []
    var shape: [Int] = []
    for start in stride(from: 0, to: n, by: 16) {
      let end = min(n, start + 16)
      let per = x.count / n
      let part = Tensor(
        shape: [end - start] + Array(x.shape.dropFirst()), scalars: Array(x.scalars[(start * per)..<(end * per)]))
      var m = try attributor.maps(part, classes: Array(classes[start..<end]), method: method, layers: layers)
      if upsample {
        m = MapProcessing.resized(m, height: x.shape[2], width: x.shape[3], mode: bicubic ? .bicubic : .bilinear)
        if method.blurred { m = MapProcessing.smoothed(m, sigma: 0.02 * Double(max(x.shape[2], x.shape[3]))) }
      }
      maps += m.scalars
      shape = [n] + Array(m.shape.dropFirst())
      bar.update(end, items: end)
    }
    try NPY.write(StoredTensor(name: "maps", shape: shape, floats: maps), to: out)
    say("\(method.rawValue) maps \(shape) -> \(out)")
    if let png {
      try FileManager.default.createDirectory(atPath: png, withIntermediateDirectories: true)
      let full = MapProcessing.resized(Tensor(shape: shape, scalars: maps), height: x.shape[2], width: x.shape[3])
      for i in 0..<n {
        let path = (png as NSString).appendingPathComponent(String(format: "map_%04d.png", i))
        try writeOverlayPNG(
          input: x, index: i, map: full, normalization: entry.normalization, to: path)
      }
      say("overlays: \(png)/map_NNNN.png")
    }
  }
}

/// `ephys pointing-game`: the Pointing Game for every method on a data set.
struct PointingGameCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pointing-game",
    abstract: "The Pointing Game (Zhang et al. 2016): does a method's map point at the category it explains?",
    discussion: """
      For every (image, present category) pair and method: the map for that category, upsampled to the input
      (gradient, deconvnet and guided smoothed), its first maximum; a hit when a ground-truth pixel of the
      category lies strictly within the tolerance (15 px at 224, scaled by max(H, W) / 224). Accuracy per
      category, then the mean over categories; All and Difficult (the category covers < 1/4 of the image and
      another is present). Also a model-randomisation check (maps from trained vs random weights). Writes
      pointing_game.csv, pointing_per_category.csv, randomisation.csv, summary.json and report.pdf to --out.
      Defaults: the shipped multi-digit CNN on 500 held-out canvases.
        ephys pointing-game --model vgg16 --weights voc_vgg16.pth --data voc:VOCdevkit/VOC2007
      """)

  @Option(help: "A model of `ephys models`.") var model = "multi-digit-cnn"
  @Option(help: "Weights (safetensors, .pt/.pth, .npz).") var weights = "Checkpoints/multi-digit-cnn.safetensors"
  @Option(help: "canvases[:N], voc:ROOT, or coco:ANNOTATIONS.json:IMAGE_DIR.") var data = "canvases:500"
  @Option(help: "Comma-separated methods (default: all, with the centre baseline).") var methods: String?
  @Option(help: "Map layer for MWP, c-MWP, LRP (default from the registry).") var layer: String?
  @Option(help: "Layer for CAM and Grad-CAM (default from the registry).") var camLayer: String?
  @Option(help: "c-MWP's contrast layer (default from the registry).") var contrastLayer: String?
  @Option(help: "Tolerance in pixels at the input's size (default 15 * max(H, W) / 224).") var tolerance: Double?
  @Option(help: "Use at most this many VOC or COCO images.") var limit: Int?
  @Option(help: "Pairs for the model-randomisation check (0: skip).") var randomisationPairs = 100
  @Option(help: "Seed for generated canvases.") var seed: UInt64 = 11
  @Option(
    help: "Generated canvases: side in pixels (default: the network's input; fully convolutional networks take any).")
  var canvasSide: Int?
  @Option(help: "Generated canvases: digits per canvas, MIN-MAX (distinct classes).") var digits = "1-4"
  @Option(help: "Generated canvases: clutter crops per canvas, MIN-MAX.") var clutter = "3-5"
  @Option(help: "Output folder.") var out = "Reports/pointing-game"
  @Option(
    help:
      "Input normalisation of an imported network (--model onnx): imagenet, none or MEAN,.../STD,... (default: imagenet for 3 channels, else none)."
  )
  var normalization: String?

  func run() throws {
    guard FileManager.default.fileExists(atPath: weights) || weights == "random" else {
      throw ValidationError("no such weights file: \(weights)")
    }
    let entry = try registryEntry(model, weights: weights, normalization: normalization)
    var chosen = AttributionMethod.allCases
    if let methods {
      chosen = try methods.split(separator: ",").map {
        let name = $0.trimmingCharacters(in: .whitespaces)
        guard let m = AttributionMethod(rawValue: name) else {
          throw ValidationError(
            "unknown method '\(name)'; known: \(AttributionMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return m
      }
    }
    guard let map = layer ?? entry.mapLayers?.map, let cam = camLayer ?? entry.mapLayers?.cam,
      let contrast = contrastLayer ?? entry.mapLayers?.contrast
    else { throw ValidationError("\(model) has no default map layers: give --layer, --cam-layer and --contrast-layer") }
    var source = try PointingSource.parse(data, seed: seed, limit: limit)
    var g = entry.input
    if case .canvases(let count, let seed, var canvas) = source {
      canvas.side = canvasSide ?? g.height
      canvas.digitCounts = try range(digits, "--digits")
      canvas.clutterCounts = try range(clutter, "--clutter")
      do { try canvas.validate() } catch { throw ValidationError("\(error)") }
      if canvas.side != g.height || canvas.side != g.width {
        guard entry.variableSize, canvas.side >= entry.minimumSide else {
          throw ValidationError("\(model) takes only \(g.height) x \(g.width) inputs; drop --canvas-side")
        }
        g.height = canvas.side
        g.width = canvas.side
      }
      source = .canvases(count: count, seed: seed, canvas: canvas)
    }
    say("loading \(data) at \(g.height) x \(g.width)")
    var loadBar: ProgressBar? = nil
    let (images, categories) = try source.load(input: g) { d, t in
      if loadBar == nil { loadBar = ProgressBar(total: t, label: "images", unit: "images") }
      loadBar?.update(d, items: d)
    }
    var config = PointingGameConfig(layers: PointingLayers(map: map, cam: cam, contrast: contrast))
    config.methods = chosen
    config.tolerance = tolerance
    config.randomisationPairs = randomisationPairs
    let network = try entry.network(weights: weights)
    let pairs = images.reduce(0) { $0 + $1.targets.count }
    say("\(images.count) images, \(pairs) (image, category) pairs, \(chosen.count) methods")
    var bar = ProgressBar(total: pairs * chosen.count, label: "pointing", unit: "maps")
    let start = Date()
    let result = try runPointingGame(
      model: network, randomModel: randomisationPairs > 0 ? entry.make() : nil, modelName: "\(model) (\(weights))",
      images: images, categories: categories, input: g, config: config
    ) { d, _ in bar.update(d, items: d) }
    for line in pointingTable(result) { say(line) }
    for c in result.randomisation {
      say(String(format: "randomisation %@: Spearman trained vs random %+.3f", c.method.rawValue, c.meanCorrelation))
    }
    let files = try writePointingGame(result, to: out) { say($0) }
    say(String(format: "%d files in %@ (%.1f s)", files.count, out, Date().timeIntervalSince(start)))
  }
}

/// "A-B" (or "A") as a closed range of non-negative integers.
func range(_ text: String, _ option: String) throws -> ClosedRange<Int> {
  let parts = text.split(separator: "-").map { Int($0.trimmingCharacters(in: .whitespaces)) }
  guard (1...2).contains(parts.count), let lo = parts.first!, let hi = parts.last!, lo >= 0, lo <= hi else {
    throw ValidationError("\(option) '\(text)': expected MIN-MAX, e.g. 1-4")
  }
  return lo...hi
}

/// A PNG of image `index` of `input` (de-normalised, grey) under `map` [N, H, W] (hot colours, a colour
/// bar), for `ephys attribute --png`.
func writeOverlayPNG(
  input: Tensor<Float>, index: Int, map: Tensor<Float>, normalization: InputNormalization, to path: String
) throws {
  let (c, h, w) = (input.shape[1], input.shape[2], input.shape[3])
  var grey = [Float](repeating: 0, count: h * w)
  for ch in 0..<c {
    let (mean, std) = normalization.stats(channel: ch)
    for i in 0..<(h * w) { grey[i] += (input.scalars[(index * c + ch) * h * w + i] * std + mean) / Float(c) }
  }
  let m = Array(map.scalars[(index * h * w)..<((index + 1) * h * w)])
  let lo = m.min() ?? 0
  let span = max((m.max() ?? 1) - lo, 1e-12)
  let bar = max(4, w / 16)
  var pixels = [UInt8](repeating: 255, count: h * (w + bar + 2) * 3)
  let stride = w + bar + 2
  for y in 0..<h {
    for x in 0..<w {
      let t = Double((m[y * w + x] - lo) / span)
      let hot = hotRGB(t)
      let g = Double(max(0, min(1, grey[y * w + x])))
      for k in 0..<3 { pixels[(y * stride + x) * 3 + k] = UInt8(255 * (0.6 * hot[k] + 0.4 * g)) }
    }
    let hot = hotRGB(1 - Double(y) / Double(max(1, h - 1)))
    for x in (w + 2)..<stride { for k in 0..<3 { pixels[(y * stride + x) * 3 + k] = UInt8(255 * hot[k]) } }
  }
  try RasterImage(width: stride, height: h, channels: 3, pixels: pixels).writePNG(to: path)
}

/// Black-red-yellow-white for t in [0, 1], as RGB in [0, 1].
func hotRGB(_ t: Double) -> [Double] {
  let v = max(0, min(1, t))
  return [min(1, 3 * v), max(0, min(1, 3 * v - 1)), max(0, min(1, 3 * v - 2))]
}
