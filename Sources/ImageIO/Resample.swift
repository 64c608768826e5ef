import Foundation

/// Resamples planar float images [C, H, W] to `toHeight x toWidth` with a triangle (bilinear) filter
/// whose support widens with the reduction factor, like PIL's `resize(..., BILINEAR)` and torchvision's
/// antialiased `Resize`: each output pixel is the filter-weighted mean of the input pixels under it,
/// pixel centres at half-integers. Separable: rows, then columns. With `eightBit`, values (in [0, 1])
/// are rounded to multiples of 1/255 after each pass, as PIL does for 8-bit images.
public func resampleBilinear(
  _ planes: [Float], channels: Int, height: Int, width: Int, toHeight: Int, toWidth: Int, eightBit: Bool = false
) -> [Float] {
  if height == toHeight && width == toWidth && !eightBit { return planes }
  func quantised(_ v: Float) -> Float { eightBit ? min(255, max(0, (v * 255).rounded())) / 255 : v }
  let horizontal = triangleWeights(from: width, to: toWidth)
  let vertical = triangleWeights(from: height, to: toHeight)
  var rows = [Float](repeating: 0, count: channels * height * toWidth)
  for c in 0..<channels {
    for y in 0..<height {
      let src = (c * height + y) * width
      let dst = (c * height + y) * toWidth
      for (x, taps) in horizontal.enumerated() {
        var acc: Float = 0
        for (i, w) in taps { acc += planes[src + i] * w }
        rows[dst + x] = quantised(acc)
      }
    }
  }
  var out = [Float](repeating: 0, count: channels * toHeight * toWidth)
  for c in 0..<channels {
    for (y, taps) in vertical.enumerated() {
      let dst = (c * toHeight + y) * toWidth
      for x in 0..<toWidth {
        var acc: Float = 0
        for (i, w) in taps { acc += rows[(c * height + i) * toWidth + x] * w }
        out[dst + x] = quantised(acc)
      }
    }
  }
  return out
}

/// The naive twin of `resampleBilinear` for one output pixel: the 2-D filter-weighted mean, straight
/// from the definition (tests compare the two).
public func resampleBilinearPixel(
  _ planes: [Float], channel c: Int, height: Int, width: Int, toHeight: Int, toWidth: Int, y: Int, x: Int
) -> Float {
  let fy = Double(height) / Double(toHeight)
  let fx = Double(width) / Double(toWidth)
  let sy = max(1, fy)
  let sx = max(1, fx)
  let cy = (Double(y) + 0.5) * fy
  let cx = (Double(x) + 0.5) * fx
  var acc = 0.0
  var total = 0.0
  for i in 0..<height {
    let wy = max(0, 1 - abs((Double(i) + 0.5 - cy) / sy))
    if wy == 0 { continue }
    for j in 0..<width {
      let wx = max(0, 1 - abs((Double(j) + 0.5 - cx) / sx))
      acc += wy * wx * Double(planes[(c * height + i) * width + j])
      total += wy * wx
    }
  }
  return Float(acc / total)
}

/// Per output index, the input indices and normalised weights of a triangle filter of support
/// max(1, scale) around the output pixel's centre mapped to the input.
func triangleWeights(from n: Int, to m: Int) -> [[(Int, Float)]] {
  let scale = Double(n) / Double(m)
  let support = max(1, scale)
  return (0..<m).map { o in
    let centre = (Double(o) + 0.5) * scale
    let lo = max(0, Int((centre - support).rounded(.down)))
    let hi = min(n - 1, Int((centre + support).rounded(.up)))
    var taps: [(Int, Double)] = []
    for i in lo...hi {
      let w = max(0, 1 - abs((Double(i) + 0.5 - centre) / support))
      if w > 0 { taps.append((i, w)) }
    }
    let total = taps.reduce(0) { $0 + $1.1 }
    return taps.map { ($0.0, Float($0.1 / total)) }
  }
}
