import Engine
import Foundation
import ImageIO

/// Writes a tiny COCO-format data set into a fresh temporary folder: `count` PNG images with two
/// non-overlapping coloured objects each (one annotated as a polygon, one as RLE, alternating
/// compressed and uncompressed counts), a small crowd object and a tiny object (both filtered out),
/// and 12 supercategories like COCO's. Returns (image folder, annotations path).
func makeTinyCOCO(count: Int = 8, seed: UInt64 = 3) throws -> (images: String, annotations: String) {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-coco-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir + "/images", withIntermediateDirectories: true)
  var rng = RandomGenerator(seed: seed)
  let supers = [
    "accessory", "animal", "appliance", "electronic", "food", "furniture", "indoor", "kitchen", "outdoor", "person",
    "sports", "vehicle",
  ]
  let categories: [[String: Any]] = supers.enumerated().map {
    ["id": $0.offset + 1, "name": "thing\($0.offset)", "supercategory": $0.element]
  }
  var images: [[String: Any]] = []
  var annotations: [[String: Any]] = []
  var annID = 1
  for i in 0..<count {
    let w = 64
    let h = 48
    var px = [UInt8](repeating: 40, count: w * h * 3)
    // Object A: rectangle on the left (polygon); object B: rectangle on the right (RLE).
    let ax = 4 + Int(rng.next() % 6)
    let ay = 6 + Int(rng.next() % 8)
    let aw = 18
    let ah = 20
    let bx = 36 + Int(rng.next() % 6)
    let by = 10 + Int(rng.next() % 8)
    let bw = 20
    let bh = 22
    var maskB = [UInt8](repeating: 0, count: w * h)
    for y in 0..<h {
      for x in 0..<w {
        if x >= ax && x < ax + aw && y >= ay && y < ay + ah { px[(y * w + x) * 3] = 230 }
        if x >= bx && x < bx + bw && y >= by && y < by + bh {
          px[(y * w + x) * 3 + 2] = 220
          maskB[y * w + x] = 1
        }
      }
    }
    try RasterImage(width: w, height: h, channels: 3, pixels: px).writePNG(to: "\(dir)/images/img\(i).png")
    images.append(["id": i + 10, "file_name": "img\(i).png", "width": w, "height": h])
    let polygon: [Double] = [
      Double(ax), Double(ay), Double(ax + aw), Double(ay), Double(ax + aw), Double(ay + ah), Double(ax),
      Double(ay + ah),
    ]
    annotations.append([
      "id": annID, "image_id": i + 10, "category_id": 1 + Int(rng.next() % 12), "area": Double(aw * ah), "iscrowd": 0,
      "segmentation": [polygon],
    ])
    annID += 1
    // Column-major run lengths of mask B.
    var counts: [Int] = []
    var current: UInt8 = 0
    var run = 0
    for x in 0..<w {
      for y in 0..<h {
        if maskB[y * w + x] == current {
          run += 1
        } else {
          counts.append(run)
          current ^= 1
          run = 1
        }
      }
    }
    counts.append(run)
    let rle: Any = i % 2 == 0 ? counts : encodeCompressedRLE(counts)
    annotations.append([
      "id": annID, "image_id": i + 10, "category_id": 1 + Int(rng.next() % 12), "area": Double(bw * bh), "iscrowd": 0,
      "segmentation": ["counts": rle, "size": [h, w]],
    ])
    annID += 1
    annotations.append([
      "id": annID, "image_id": i + 10, "category_id": 3, "area": 900.0, "iscrowd": 1, "segmentation": [polygon],
    ])
    annID += 1
    annotations.append([
      "id": annID, "image_id": i + 10, "category_id": 4, "area": 4.0, "iscrowd": 0,
      "segmentation": [[0, 0, 2, 0, 2, 2, 0, 2]],
    ])
    annID += 1
  }
  let json: [String: Any] = ["images": images, "annotations": annotations, "categories": categories]
  let path = dir + "/instances.json"
  try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
  return (dir + "/images", path)
}

/// COCO's compressed RLE string for run lengths (inverse of SegmentationMask.compressedCounts).
func encodeCompressedRLE(_ counts: [Int]) -> String {
  var out: [UInt8] = []
  for (i, c) in counts.enumerated() {
    var x = i > 2 ? c - counts[i - 2] : c
    var more = true
    while more {
      var ch = x & 0x1F
      x >>= 5
      more = (ch & 0x10) != 0 ? x != -1 : x != 0
      if more { ch |= 0x20 }
      out.append(UInt8(ch + 48))
    }
  }
  return String(decoding: out, as: UTF8.self)
}
