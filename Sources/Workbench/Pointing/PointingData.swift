import Attribution
import Datasets
import Engine
import Foundation
import ImageIO
import ModelInterface

/// One image of a Pointing Game: the network's input (channels x height x width, normalised as the
/// network expects), a grey version in [0, 1] for figures, and its (image, category) targets with
/// ground truth at the input's size.
public struct PointingImage: Sendable {
  public var input: [Float]
  public var display: [Float]
  public var height: Int
  public var width: Int
  public var targets: [PointingTarget]
}

/// Where a Pointing Game's images and ground truth come from.
public enum PointingSource: Sendable, Equatable {
  /// `count` generated multi-digit canvases (Set: distinct digits; `canvas` says how they are drawn,
  /// its side is the network's input size) from the held-out 20% of the MNIST subset
  /// (`split(testFraction: 0.2, seed: 7)`), exact digit masks, drawn from `seed`.
  case canvases(count: Int, seed: UInt64, canvas: MultiDigitCanvasConfig)
  /// Pascal VOC: `root/Annotations/*.xml` and `root/JPEGImages`; ids from `root/ImageSets/Main/test.txt`
  /// when present, else every annotation; box unions; pairs whose boxes are all difficult skipped.
  case voc(root: String, limit: Int?)
  /// COCO-format instances (`annotations.json`) and its image folder: instance masks (crowds too,
  /// as the paper's masks), categories in ascending id order as the network's classes.
  case coco(annotations: String, images: String, limit: Int?)

  /// Parses `--data`: `canvases[:N]`, `voc:ROOT`, or `coco:ANNOTATIONS.json:IMAGES`.
  public static func parse(_ text: String, seed: UInt64, limit: Int?) throws -> PointingSource {
    let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
    switch parts.first {
    case "canvases":
      let n = parts.count > 1 ? Int(parts[1]) : 500
      guard let n, n > 0, n <= 1_000_000 else { throw AttributionError("--data canvases:N needs N in 1...1000000") }
      return .canvases(count: n, seed: seed, canvas: MultiDigitCanvasConfig())
    case "voc" where parts.count == 2: return .voc(root: parts[1], limit: limit)
    case "coco" where parts.count == 3: return .coco(annotations: parts[1], images: parts[2], limit: limit)
    default:
      throw AttributionError(
        "--data '\(text)': use canvases[:N], voc:ROOT (Annotations/, JPEGImages/) or coco:ANNOTATIONS.json:IMAGE_DIR")
    }
  }

  /// The images at `input`'s size: file images resized whole (bilinear, antialiased), masks resized
  /// by nearest neighbour.
  public func load(input g: InputGeometry, progress: (Int, Int) -> Void = { _, _ in }) throws -> (
    images: [PointingImage], categories: [String]
  ) {
    switch self {
    case .canvases(let count, let seed, let config):
      guard g.height == config.side && g.width == config.side else {
        throw AttributionError(
          "canvases of \(config.side) px need a \(config.side) x \(config.side) input, not \(g.height) x \(g.width)")
      }
      let (_, test) = try MNIST.defaultSubset().split(testFraction: 0.2, seed: 7)
      var rng = RandomGenerator(seed: seed)
      let canvases = try MultiDigitCanvas.generate(count, from: test, config: config, rng: &rng)
      let images = canvases.enumerated().map { i, c in
        let present = c.presentLabels
        let targets = present.map {
          PointingTarget(
            image: i, category: $0, height: c.side, width: c.side, mask: c.mask(of: $0),
            otherCategories: present.count - 1)
        }
        return PointingImage(
          input: Self.normalised(c.pixels, channels: 1, g), display: c.pixels, height: c.side, width: c.side,
          targets: targets)
      }
      return (images, (0..<10).map(String.init))
    case .voc(let root, let limit):
      let annotations = (root as NSString).appendingPathComponent("Annotations")
      let list = (root as NSString).appendingPathComponent("ImageSets/Main/test.txt")
      var ids: [String]
      if let text = try? String(contentsOfFile: list, encoding: .utf8) {
        ids = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter {
          !$0.isEmpty
        }
      } else {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: annotations) else {
          throw AttributionError("\(annotations): no such folder (a VOC root has Annotations/ and JPEGImages/)")
        }
        ids = files.filter { $0.hasSuffix(".xml") }.map { String($0.dropLast(4)) }.sorted()
      }
      if let limit { ids = Array(ids.prefix(limit)) }
      var images: [PointingImage] = []
      for (k, id) in ids.enumerated() {
        let a = try VOCAnnotation.load((annotations as NSString).appendingPathComponent(id + ".xml"))
        let file = a.fileName.isEmpty ? id + ".jpg" : a.fileName
        let path = ((root as NSString).appendingPathComponent("JPEGImages") as NSString).appendingPathComponent(file)
        let names = Array(Set(a.objects.map(\.name))).sorted()
        var masks: [(Int, [Bool])] = []
        for name in names {
          guard let c = VOCAnnotation.classes.firstIndex(of: name) else {
            throw AttributionError("\(id).xml: unknown VOC class '\(name)'")
          }
          if let m = a.mask(of: name) { masks.append((c, m)) }
        }
        images.append(try Self.fileImage(path, width: a.width, height: a.height, masks: masks, index: images.count, g))
        progress(k + 1, ids.count)
      }
      return (images, VOCAnnotation.classes)
    case .coco(let file, let folder, let limit):
      let coco = try COCOInstances.load(file)
      let categoryIDs = coco.categories.keys.sorted()
      var byImage: [Int: [COCOAnnotation]] = [:]
      for a in coco.annotations { byImage[a.imageID, default: []].append(a) }
      var order = coco.imageOrder.filter { byImage[$0] != nil }
      if let limit { order = Array(order.prefix(limit)) }
      var images: [PointingImage] = []
      for (k, id) in order.enumerated() {
        guard let img = coco.images[id] else { continue }
        var masks: [Int: [Bool]] = [:]
        for a in byImage[id]! {
          guard let c = categoryIDs.firstIndex(of: a.categoryID) else { continue }
          let m = try a.mask(height: img.height, width: img.width)
          var u = masks[c] ?? [Bool](repeating: false, count: img.height * img.width)
          for i in m.indices where m[i] != 0 { u[i] = true }
          masks[c] = u
        }
        let path = (folder as NSString).appendingPathComponent(img.fileName)
        images.append(
          try Self.fileImage(
            path, width: img.width, height: img.height,
            masks: masks.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            index: images.count, g))
        progress(k + 1, order.count)
      }
      return (images, categoryIDs.map { coco.categories[$0]!.name })
    }
  }

  /// (x / 255 - mean) / std per channel, from planes in [0, 1].
  static func normalised(_ planes: [Float], channels: Int, _ g: InputGeometry) -> [Float] {
    let plane = g.height * g.width
    var out = [Float](repeating: 0, count: g.channels * plane)
    for c in 0..<g.channels {
      let (mean, std) = g.normalization.stats(channel: c)
      let src = min(c, channels - 1) * plane
      for i in 0..<plane { out[c * plane + i] = (planes[src + i] - mean) / std }
    }
    return out
  }

  static func fileImage(
    _ path: String, width: Int, height: Int, masks: [(Int, [Bool])], index: Int, _ g: InputGeometry
  ) throws -> PointingImage {
    let raster: RasterImage
    do { raster = try RasterImage.read(path).rgb() } catch let e as ImageError {
      throw AttributionError("\(e.file): \(e.message)")
    }
    guard raster.width == width, raster.height == height else {
      throw AttributionError(
        "\(path): image is \(raster.width) x \(raster.height), annotations say \(width) x \(height)")
    }
    let planes = resampleBilinear(
      raster.planarFloats(), channels: 3, height: height, width: width, toHeight: g.height,
      toWidth: g.width)
    let plane = g.height * g.width
    let grey = (0..<plane).map { 0.299 * planes[$0] + 0.587 * planes[plane + $0] + 0.114 * planes[2 * plane + $0] }
    let targets = masks.map { c, m -> PointingTarget in
      var r = [Bool](repeating: false, count: plane)
      for y in 0..<g.height {
        let sy = min(height - 1, Int((Double(y) + 0.5) * Double(height) / Double(g.height)))
        for x in 0..<g.width {
          let sx = min(width - 1, Int((Double(x) + 0.5) * Double(width) / Double(g.width)))
          r[y * g.width + x] = m[sy * width + sx]
        }
      }
      return PointingTarget(
        image: index, category: c, height: g.height, width: g.width, mask: r, otherCategories: masks.count - 1)
    }
    return PointingImage(
      input: normalised(g.channels == 1 ? grey : planes, channels: g.channels == 1 ? 1 : 3, g), display: grey,
      height: g.height, width: g.width, targets: targets)
  }
}
