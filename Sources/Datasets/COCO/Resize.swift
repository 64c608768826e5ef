import ImageIO

/// Resizes an 8-bit image with an antialiased bilinear (triangle) filter whose support widens with
/// the downscale factor, as PIL's BILINEAR resampling (what torchvision's Resize uses on PIL images):
/// `resampleBilinear` on 8-bit values, rounded after each pass as PIL does. Returns planar float
/// values in [0, 1], [channels, outH, outW].
public func resizeBilinearAntialiased(_ image: RasterImage, height outH: Int, width outW: Int) -> [Float] {
  resampleBilinear(
    image.planarFloats(), channels: image.channels, height: image.height, width: image.width, toHeight: outH,
    toWidth: outW, eightBit: true)
}
