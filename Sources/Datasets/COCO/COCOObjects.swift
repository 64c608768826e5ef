import Engine
import Foundation
import ImageIO

/// Two-object COCO images for the attention model, selected as the reference does: non-crowd objects
/// covering more than 10% of the image, largest first, accumulated until their masks overlap on more
/// than 1% of the image; images keeping two such objects are used. Each image is centre-padded to a
/// square (grey 127), resized to `size` x `size`; each object's target is
/// (1 - s) * padded image + s * padded (image * object mask), as 8-bit values.
public struct COCOObjects {
  public struct Item: Sendable {
    public var image: COCOInstances.Image
    public var annotations: [COCOAnnotation]
    public var labels: [Int]
  }
  public let instances: COCOInstances
  public let imageFolder: String
  public let items: [Item]
  public let size: Int
  public let strength: Float

  public init(instances: COCOInstances, imageFolder: String, size: Int = 100, strength: Float = 0.3, objects: Int = 2)
    throws
  {
    self.instances = instances
    self.imageFolder = imageFolder
    self.size = size
    self.strength = strength
    var byImage: [Int: [COCOAnnotation]] = [:]
    for a in instances.annotations where !a.isCrowd { byImage[a.imageID, default: []].append(a) }
    var items: [Item] = []
    for id in instances.imageOrder {
      guard let anns = byImage[id], let img = instances.images[id] else { continue }
      let area = Double(img.height * img.width)
      let large = anns.filter { $0.area / area > 0.1 }.sorted { $0.area > $1.area }
      guard large.count >= objects else { continue }
      var accumulated = [UInt8](repeating: 0, count: img.height * img.width)
      var kept: [COCOAnnotation] = []
      for a in large {
        let m = try a.mask(height: img.height, width: img.width)
        var overlap = 0
        for i in m.indices {
          accumulated[i] &+= m[i]
          if accumulated[i] > 1 { overlap += 1 }
        }
        if Double(overlap) > 0.01 * area { break }
        kept.append(a)
      }
      guard kept.count >= objects else { continue }
      kept = Array(kept.prefix(objects))
      items.append(Item(image: img, annotations: kept, labels: kept.map { instances.superLabel($0.categoryID)! }))
    }
    self.items = items
  }

  /// Number of classes (supercategories).
  public var classes: Int { instances.supercategories.count }

  /// Class weights (total / count per label, normalised to sum 1) over `indices`; 0 for absent labels.
  public func classWeights(_ indices: [Int]) -> [Float] {
    var counts = [Int](repeating: 0, count: classes)
    for i in indices { for l in items[i].labels { counts[l] += 1 } }
    let total = Double(counts.reduce(0, +))
    let raw = counts.map { $0 > 0 ? total / Double($0) : 0 }
    let sum = raw.reduce(0, +)
    return raw.map { Float(sum > 0 ? $0 / sum : 0) }
  }

  /// Loads item `i`: image [3, size, size] in [0, 1], per-object targets, labels.
  public func load(_ i: Int) throws -> (image: [Float], targets: [[Float]], labels: [Int]) {
    let item = items[i]
    let path = (imageFolder as NSString).appendingPathComponent(item.image.fileName)
    var raster: RasterImage
    do { raster = try RasterImage.read(path).rgb() } catch let e as ImageError {
      throw DatasetError(e.message, file: e.file)
    }
    guard raster.width == item.image.width, raster.height == item.image.height else {
      throw DatasetError(
        "image is \(raster.width)x\(raster.height), annotations say \(item.image.width)x\(item.image.height)",
        file: path)
    }
    let padded = Self.centerPad(raster, fill: 127)
    let image = resizeBilinearAntialiased(padded, height: size, width: size)
    var targets: [[Float]] = []
    for a in item.annotations {
      let m = try a.mask(height: raster.height, width: raster.width)
      var masked = raster
      for p in 0..<(raster.width * raster.height) where m[p] == 0 { for c in 0..<3 { masked.pixels[p * 3 + c] = 0 } }
      let mp = Self.centerPad(masked, fill: 0)
      var mix = padded
      for j in mix.pixels.indices {
        mix.pixels[j] = UInt8((1 - strength) * Float(padded.pixels[j]) + strength * Float(mp.pixels[j]))
      }
      targets.append(resizeBilinearAntialiased(mix, height: size, width: size))
    }
    return (image, targets, item.labels)
  }

  /// A batch of items as an object batch (images [N, 3, size, size]).
  public func batch(_ indices: [Int]) throws -> (images: Tensor<Float>, targets: [Tensor<Float>], labels: [[Int]]) {
    var images: [Float] = []
    var targets = [[Float]](repeating: [], count: 2)
    var labels = [[Int]](repeating: [], count: 2)
    for i in indices {
      let (img, t, l) = try load(i)
      images += img
      for k in 0..<2 {
        targets[k] += t[k]
        labels[k].append(l[k])
      }
    }
    let shape = [indices.count, 3, size, size]
    return (Tensor(shape: shape, scalars: images), targets.map { Tensor(shape: shape, scalars: $0) }, labels)
  }

  /// Centres an image in a square of side max(w, h), filled with `fill`.
  static func centerPad(_ img: RasterImage, fill: UInt8) -> RasterImage {
    let side = max(img.width, img.height)
    var px = [UInt8](repeating: fill, count: side * side * 3)
    let dx = (side - img.width) / 2
    let dy = (side - img.height) / 2
    for y in 0..<img.height {
      for x in 0..<img.width {
        for c in 0..<3 { px[((y + dy) * side + x + dx) * 3 + c] = img.pixels[(y * img.width + x) * 3 + c] }
      }
    }
    return RasterImage(width: side, height: side, channels: 3, pixels: px)
  }
}
