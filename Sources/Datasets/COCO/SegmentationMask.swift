/// Binary object masks from COCO segmentations, as row-major `height x width` 0/1 arrays.
public enum SegmentationMask {
  /// Rasterises polygons (lists of x0, y0, x1, y1, ... in pixel coordinates) with the even-odd rule,
  /// sampling each pixel at its centre (x + 0.5, y + 0.5). pycocotools rasterises at 5x
  /// resolution, so boundary pixels can differ slightly; interiors agree.
  public static func polygons(_ polys: [[Double]], height: Int, width: Int) -> [UInt8] {
    var mask = [UInt8](repeating: 0, count: height * width)
    for poly in polys where poly.count >= 6 {
      let n = poly.count / 2
      for y in 0..<height {
        let cy = Double(y) + 0.5
        var xs: [Double] = []
        for i in 0..<n {
          let x0 = poly[2 * i]
          let y0 = poly[2 * i + 1]
          let x1 = poly[2 * ((i + 1) % n)]
          let y1 = poly[2 * ((i + 1) % n) + 1]
          if (y0 <= cy && y1 > cy) || (y1 <= cy && y0 > cy) {
            xs.append(x0 + (cy - y0) / (y1 - y0) * (x1 - x0))
          }
        }
        xs.sort()
        var k = 0
        while k + 1 < xs.count {
          // Clamped as doubles before Int(): coordinates far outside the image (or NaN) cannot trap.
          let a = (xs[k] - 0.5).rounded(.up)
          let b = (xs[k + 1] - 0.5).rounded(.down)
          let start = a.isNaN ? width : Int(max(0, min(Double(width), a)))
          let end = b.isNaN ? -1 : Int(max(-1, min(Double(width - 1), b)))
          if start <= end { for x in start...end { mask[y * width + x] ^= 1 } }
          k += 2
        }
      }
    }
    return mask
  }

  /// Decodes run-length counts (column-major, alternating runs of 0s and 1s, starting with 0s).
  public static func rle(counts: [Int], height: Int, width: Int) throws -> [UInt8] {
    var mask = [UInt8](repeating: 0, count: height * width)
    var pos = 0
    var value: UInt8 = 0
    for c in counts {
      guard c >= 0, c <= height * width - pos else { throw RLEError.badCounts }
      if value == 1 {
        for p in pos..<(pos + c) { mask[(p % height) * width + p / height] = 1 }
      }
      pos += c
      value ^= 1
    }
    return mask
  }

  /// Decodes COCO's compressed RLE string (6-bit groups offset by 48, differences after the 2nd run).
  public static func compressedCounts(_ s: String) throws -> [Int] {
    let bytes = Array(s.utf8)
    var counts: [Int] = []
    var p = 0
    while p < bytes.count {
      var x = 0
      var k = 0
      var more = true
      while more {
        guard p < bytes.count, k < 12 else { throw RLEError.badString }
        let c = Int(bytes[p]) - 48
        guard c >= 0, c < 64 else { throw RLEError.badString }
        x |= (c & 0x1F) << (5 * k)
        more = c & 0x20 != 0
        p += 1
        k += 1
        if !more && c & 0x10 != 0 { x |= -1 << (5 * k) }
      }
      if counts.count > 2 {
        let (sum, overflow) = x.addingReportingOverflow(counts[counts.count - 2])
        guard !overflow else { throw RLEError.badString }
        x = sum
      }
      counts.append(x)
    }
    return counts
  }

  enum RLEError: Error { case badCounts, badString }
}
