/// Tiles equally sized images into a grid with `gap` pixels of `background` between them.
public func montage(_ images: [RasterImage], columns: Int, gap: Int = 2, background: UInt8 = 64) -> RasterImage {
  precondition(!images.isEmpty && columns > 0, "montage of no images")
  let w = images[0].width
  let h = images[0].height
  let ch = images.contains { $0.channels > 1 } ? 3 : 1
  let tiles = images.map { ch == 3 ? $0.rgb() : $0 }
  for t in tiles { precondition(t.width == w && t.height == h, "montage tiles must share a size") }
  let rows = (tiles.count + columns - 1) / columns
  let outWidth = columns * w + (columns + 1) * gap
  let outHeight = rows * h + (rows + 1) * gap
  var px = [UInt8](repeating: background, count: outWidth * outHeight * ch)
  for (k, t) in tiles.enumerated() {
    let x0 = gap + (k % columns) * (w + gap)
    let y0 = gap + (k / columns) * (h + gap)
    for y in 0..<h {
      for x in 0..<w {
        for c in 0..<ch { px[((y0 + y) * outWidth + x0 + x) * ch + c] = t.pixels[(y * w + x) * ch + c] }
      }
    }
  }
  return RasterImage(width: outWidth, height: outHeight, channels: ch, pixels: px)
}

/// Enlarges an image by an integer factor (nearest neighbour), for legible small stimuli.
public func upscaled(_ image: RasterImage, by factor: Int) -> RasterImage {
  guard factor > 1 else { return image }
  let outWidth = image.width * factor
  let outHeight = image.height * factor
  let ch = image.channels
  var px = [UInt8](repeating: 0, count: outWidth * outHeight * ch)
  for y in 0..<outHeight {
    for x in 0..<outWidth {
      for c in 0..<ch {
        px[(y * outWidth + x) * ch + c] = image.pixels[((y / factor) * image.width + x / factor) * ch + c]
      }
    }
  }
  return RasterImage(width: outWidth, height: outHeight, channels: ch, pixels: px)
}

/// Shrinks an image by an integer factor (every `factor`-th pixel), for previews of large canvases.
public func downsampled(_ image: RasterImage, by factor: Int) -> RasterImage {
  guard factor > 1 else { return image }
  let outWidth = (image.width + factor - 1) / factor
  let outHeight = (image.height + factor - 1) / factor
  let ch = image.channels
  var px = [UInt8](repeating: 0, count: outWidth * outHeight * ch)
  for y in 0..<outHeight {
    for x in 0..<outWidth {
      for c in 0..<ch {
        px[(y * outWidth + x) * ch + c] = image.pixels[((y * factor) * image.width + x * factor) * ch + c]
      }
    }
  }
  return RasterImage(width: outWidth, height: outHeight, channels: ch, pixels: px)
}
