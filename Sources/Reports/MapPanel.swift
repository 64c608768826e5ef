import CCairo

/// A "hot" colour (black-red-yellow-white) for t in [0, 1], for attention maps.
public func hotColor(_ t: Double) -> Color {
  let v = max(0, min(1, t))
  return Color(min(1, 3 * v), max(0, min(1, 3 * v - 1)), max(0, min(1, 3 * v - 2)))
}

/// An attention map over its image: the image in grey (`image`, rows x cols in [0, 1]) under the
/// map (`map`, same size; drawn as hot colours with opacity 0.6, scaled to its own [min, max]),
/// a cyan cross at `point` (row, column; the map's maximum) and, under the square, `caption`.
/// `title` above. Fits a (w x h) rectangle at (x, y); a colour bar on the right (min .. max).
public func drawMapOverlay(
  _ cr: OpaquePointer, image: [Double], map: [Double], rows: Int, cols: Int, point: (y: Int, x: Int)?,
  title: String, caption: String, x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let side = max(1, min(w - 18, h - 26))
  let cell = side / Double(max(rows, cols))
  let x0 = x
  let y0 = y + 12
  let finite = map.filter(\.isFinite)
  let lo = finite.min() ?? 0
  let hi = finite.max() ?? 1
  let span = hi > lo ? hi - lo : 1
  for r in 0..<rows {
    for c in 0..<cols {
      let g = max(0, min(1, image[r * cols + c]))
      let m = map[r * cols + c]
      let hot = hotColor(m.isFinite ? (m - lo) / span : 0)
      let a = 0.6
      cairo_set_source_rgb(cr, a * hot.r + (1 - a) * g, a * hot.g + (1 - a) * g, a * hot.b + (1 - a) * g)
      cairo_rectangle(cr, x0 + Double(c) * cell, y0 + Double(r) * cell, cell + 0.3, cell + 0.3)
      cairo_fill(cr)
    }
  }
  LayoutRecorder.record(cr, .data, "map", x: x0, y: y0, w: Double(cols) * cell, h: Double(rows) * cell)
  if let point {
    let px = x0 + (Double(point.x) + 0.5) * cell
    let py = y0 + (Double(point.y) + 0.5) * cell
    cairo_set_source_rgb(cr, 0, 0.9, 1)
    cairo_set_line_width(cr, 1.2)
    cairo_move_to(cr, px - 4, py)
    cairo_line_to(cr, px + 4, py)
    cairo_move_to(cr, px, py - 4)
    cairo_line_to(cr, px, py + 4)
    cairo_stroke(cr)
  }
  // Colour bar.
  let bx = x0 + Double(cols) * cell + 3
  let bh = Double(rows) * cell
  for i in 0..<50 {
    let c = hotColor(1 - Double(i) / 49)
    cairo_set_source_rgb(cr, c.r, c.g, c.b)
    cairo_rectangle(cr, bx, y0 + bh * Double(i) / 50, 4, bh / 50 + 0.5)
    cairo_fill(cr)
  }
  LayoutRecorder.record(cr, .data, "colour bar", x: bx, y: y0, w: 4, h: bh)
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_font_size(cr, 7)
  text(cr, fitted(cr, title, w), x0, y + 8)
  text(cr, fitted(cr, caption, w), x0, y0 + bh + 9)
}
