import CCairo

/// Draws an 8-bit image (`pixels` row-major, `channels` 1 or 3, `width` x `height`) scaled to
/// `w` points wide at (x, y), pixels as sharp squares (nearest-neighbour), with `caption` under it.
/// Returns the bottom edge (points).
@discardableResult
public func drawRaster(
  _ cr: OpaquePointer, pixels: [UInt8], width: Int, height: Int, channels: Int, x: Double, y: Double, w: Double,
  caption: String = ""
) -> Double {
  precondition(channels == 1 || channels == 3, "drawRaster: 1 or 3 channels, got \(channels)")
  precondition(pixels.count == width * height * channels, "drawRaster: \(pixels.count) bytes for \(width)x\(height)")
  guard width > 0, height > 0, let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width), Int32(height))
  else { return y }
  defer { cairo_surface_destroy(surface) }
  cairo_surface_flush(surface)
  let stride = Int(cairo_image_surface_get_stride(surface))
  if let data = cairo_image_surface_get_data(surface) {
    for row in 0..<height {
      for col in 0..<width {
        let i = (row * width + col) * channels
        let (r, g, b) = channels == 3 ? (pixels[i], pixels[i + 1], pixels[i + 2]) : (pixels[i], pixels[i], pixels[i])
        // RGB24 is native-endian 0xXXRRGGBB: on little-endian machines B, G, R, X in memory.
        let o = row * stride + col * 4
        data[o] = b
        data[o + 1] = g
        data[o + 2] = r
        data[o + 3] = 255
      }
    }
  }
  cairo_surface_mark_dirty(surface)
  let scale = w / Double(width)
  cairo_save(cr)
  cairo_translate(cr, x, y)
  cairo_scale(cr, scale, scale)
  cairo_set_source_surface(cr, surface, 0, 0)
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
  cairo_rectangle(cr, 0, 0, Double(width), Double(height))
  cairo_fill(cr)
  cairo_restore(cr)
  let bottom = y + Double(height) * scale
  LayoutRecorder.record(cr, .data, "image", x: x, y: y, w: w, h: Double(height) * scale)
  guard !caption.isEmpty else { return bottom }
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  cairo_set_font_size(cr, 7.5)
  cairo_move_to(cr, x, bottom + 9)
  cairo_show_text(cr, caption)
  return bottom + 12
}
