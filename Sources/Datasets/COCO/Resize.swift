import ImageIO

/// Resizes an 8-bit image with an antialiased bilinear (triangle) filter whose support widens with
/// the downscale factor, as PIL's BILINEAR resampling (what torchvision's Resize uses on PIL images).
/// Returns planar float values in [0, 1], [channels, outH, outW].
public func resizeBilinearAntialiased(_ image: RasterImage, height outH: Int, width outW: Int) -> [Float] {
  func weights(_ inSize: Int, _ outSize: Int) -> [(start: Int, w: [Float])] {
    let scale = Double(inSize) / Double(outSize)
    let support = max(scale, 1)
    return (0..<outSize).map { o in
      let center = (Double(o) + 0.5) * scale
      let lo = max(0, Int((center - support).rounded(.down)))
      let hi = min(inSize, Int((center + support).rounded(.up)))
      var w = (lo..<hi).map { i in max(0, 1 - abs((Double(i) - center + 0.5) / support)) }
      let total = w.reduce(0, +)
      if total > 0 { w = w.map { $0 / total } }
      return (lo, w.map(Float.init))
    }
  }
  let ch = image.channels
  let inW = image.width
  let inH = image.height
  let wx = weights(inW, outW)
  let wy = weights(inH, outH)
  var tmp = [Float](repeating: 0, count: inH * outW * ch)  // horizontal pass, interleaved
  for y in 0..<inH {
    for (ox, f) in wx.enumerated() {
      for c in 0..<ch {
        var acc: Float = 0
        for (k, w) in f.w.enumerated() { acc += w * Float(image.pixels[(y * inW + f.start + k) * ch + c]) }
        tmp[(y * outW + ox) * ch + c] = acc
      }
    }
  }
  var out = [Float](repeating: 0, count: outH * outW * ch)
  for (oy, f) in wy.enumerated() {
    for x in 0..<outW {
      for c in 0..<ch {
        var acc: Float = 0
        for (k, w) in f.w.enumerated() { acc += w * tmp[((f.start + k) * outW + x) * ch + c] }
        // PIL rounds to 8 bits; ToTensor then divides by 255.
        out[c * outH * outW + oy * outW + x] = max(0, min(255, acc.rounded())) / 255
      }
    }
  }
  return out
}
