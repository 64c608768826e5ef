import Engine
import ImageIO

/// One image's attention figure: input, then per glimpse the gated input, the mask after pass T-1 and
/// the IOR mask, each enlarged 4x, in one row.
public func attentionFigure(_ v: AttentionVisual, config: ObjectAttentionConfig) -> RasterImage {
  let h = config.inputHeight
  let w = config.inputWidth
  func tile(_ t: Tensor<Float>) -> RasterImage {
    let img =
      t.shape[1] == 3
      ? RasterImage(planarRGB: t.scalars, width: w, height: h) : RasterImage(grey: t.scalars, width: w, height: h)
    return upscaled(img, by: config.variant == .mnist ? 4 : 2)
  }
  var tiles = [tile(v.input)]
  for g in 0..<v.gated.count { tiles += [tile(v.gated[g]), tile(v.mask[g]), tile(v.ior[g])] }
  return montage(tiles, columns: tiles.count, gap: 4)
}
