import Engine
import Foundation
import ImageIO

/// One COCO object annotation (instance segmentation).
public struct COCOAnnotation: Sendable {
  public var id: Int
  public var imageID: Int
  public var categoryID: Int
  public var area: Double
  public var isCrowd: Bool
  /// Polygons (x, y pairs) or run-length counts with the mask size.
  public enum Segmentation: Sendable {
    case polygons([[Double]])
    case rle(counts: [Int], height: Int, width: Int)
  }
  public var segmentation: Segmentation

  /// The object's binary mask at the image's size.
  public func mask(height: Int, width: Int) throws -> [UInt8] {
    switch segmentation {
    case .polygons(let p): return SegmentationMask.polygons(p, height: height, width: width)
    case .rle(let counts, let h, let w):
      guard h == height, w == width else {
        throw DatasetError("annotation \(id): RLE size \(h)x\(w) differs from its image \(height)x\(width)", file: "")
      }
      do { return try SegmentationMask.rle(counts: counts, height: h, width: w) } catch {
        throw DatasetError("annotation \(id): RLE counts do not fit its \(h)x\(w) mask", file: "")
      }
    }
  }
}

/// A COCO-format instances file: images, categories (with supercategories) and annotations.
public struct COCOInstances: Sendable {
  public struct Image: Sendable {
    public var id: Int
    public var fileName: String
    public var height, width: Int
  }
  public var images: [Int: Image]
  public var imageOrder: [Int]
  /// category id -> (name, supercategory)
  public var categories: [Int: (name: String, supercategory: String)]
  public var annotations: [COCOAnnotation]
  /// Supercategory names, sorted; a supercategory's label is its index (COCO has 12).
  public var supercategories: [String]

  /// The supercategory label of a category id.
  public func superLabel(_ categoryID: Int) -> Int? {
    categories[categoryID].flatMap { supercategories.firstIndex(of: $0.supercategory) }
  }

  /// Parses an instances JSON file; errors name the file and the missing or malformed key.
  public static func load(_ path: String) throws -> COCOInstances {
    let bytes: [UInt8]
    do { bytes = try readFileBytes(path) } catch { throw DatasetError("cannot be read", file: path) }
    guard !bytes.isEmpty else { throw DatasetError("is empty; expected a COCO instances JSON object", file: path) }
    guard let root = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
      throw DatasetError(
        "is not a JSON object (expected COCO instances with 'images', 'annotations', 'categories')", file: path)
    }
    func list(_ key: String) throws -> [[String: Any]] {
      guard let v = root[key] else { throw DatasetError("has no '\(key)' list", file: path) }
      guard let l = v as? [[String: Any]] else { throw DatasetError("'\(key)' is not a list of objects", file: path) }
      return l
    }
    func int(_ o: [String: Any], _ k: String, _ what: String) throws -> Int {
      guard let n = o[k] as? NSNumber, let v = exactInt(n) else {
        throw DatasetError("\(what) has no integer '\(k)'", file: path)
      }
      return v
    }
    var images: [Int: Image] = [:]
    var order: [Int] = []
    for (i, o) in try list("images").enumerated() {
      let id = try int(o, "id", "images[\(i)]")
      guard let name = o["file_name"] as? String else {
        throw DatasetError("images[\(i)] has no 'file_name'", file: path)
      }
      let h = try int(o, "height", "images[\(i)]")
      let w = try int(o, "width", "images[\(i)]")
      guard (1...maxImageSide).contains(h), (1...maxImageSide).contains(w) else {
        throw DatasetError("images[\(i)] has size \(w)x\(h); each side must be 1 to \(maxImageSide) pixels", file: path)
      }
      images[id] = Image(id: id, fileName: name, height: h, width: w)
      order.append(id)
    }
    var cats: [Int: (String, String)] = [:]
    for (i, o) in try list("categories").enumerated() {
      let id = try int(o, "id", "categories[\(i)]")
      guard let name = o["name"] as? String, let sup = o["supercategory"] as? String else {
        throw DatasetError("categories[\(i)] needs 'name' and 'supercategory'", file: path)
      }
      cats[id] = (name, sup)
    }
    var anns: [COCOAnnotation] = []
    for (i, o) in try list("annotations").enumerated() {
      let what = "annotations[\(i)]"
      let id = try int(o, "id", what)
      let img = try int(o, "image_id", what)
      let cat = try int(o, "category_id", what)
      guard images[img] != nil else { throw DatasetError("\(what) refers to unknown image \(img)", file: path) }
      guard cats[cat] != nil else { throw DatasetError("\(what) refers to unknown category \(cat)", file: path) }
      let area = (o["area"] as? NSNumber)?.doubleValue ?? 0
      let crowd = ((o["iscrowd"] as? NSNumber)?.intValue ?? 0) != 0
      let seg: COCOAnnotation.Segmentation
      if let polys = o["segmentation"] as? [[NSNumber]] {
        let values = polys.map { $0.map(\.doubleValue) }
        guard values.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
          throw DatasetError("\(what) has a polygon with a non-finite coordinate", file: path)
        }
        seg = .polygons(values)
      } else if let r = o["segmentation"] as? [String: Any], let size = r["size"] as? [NSNumber], size.count == 2 {
        let counts: [Int]
        if let c = r["counts"] as? [NSNumber] {
          let ints = c.compactMap(exactInt)
          guard ints.count == c.count else {
            throw DatasetError("\(what) RLE counts are not all integers", file: path)
          }
          counts = ints
        } else if let s = r["counts"] as? String {
          do { counts = try SegmentationMask.compressedCounts(s) } catch {
            throw DatasetError("\(what) has a corrupt RLE string", file: path)
          }
        } else {
          throw DatasetError("\(what) RLE has no 'counts'", file: path)
        }
        guard let h = exactInt(size[0]), let w = exactInt(size[1]) else {
          throw DatasetError("\(what) RLE size is not two integers", file: path)
        }
        seg = .rle(counts: counts, height: h, width: w)
      } else {
        throw DatasetError("\(what) has no polygon or RLE 'segmentation'", file: path)
      }
      anns.append(COCOAnnotation(id: id, imageID: img, categoryID: cat, area: area, isCrowd: crowd, segmentation: seg))
    }
    let supers = Array(Set(cats.values.map(\.1))).sorted()
    return COCOInstances(
      images: images, imageOrder: order, categories: cats.mapValues { (name: $0.0, supercategory: $0.1) },
      annotations: anns, supercategories: supers)
  }
}

/// Largest image side accepted from an instances file, pixels (COCO's are at most 640).
let maxImageSide = 16_384

/// A JSON number as an Int when it is a whole number that fits (no trap on 1e30 or 0.5).
func exactInt(_ n: NSNumber) -> Int? {
  let d = n.doubleValue
  guard d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
  return Int(d)
}
