import CCairo
import Foundation

/// Axes for a panel in a rectangle: data ranges and the mapping to page coordinates.
struct Axes {
  var left, right, top, bottom: Double
  var xlo, xhi, ylo, yhi: Double
  func sx(_ v: Double) -> Double { left + (v - xlo) / (xhi - xlo) * (right - left) }
  func sy(_ v: Double) -> Double { bottom - (v - ylo) / (yhi - ylo) * (bottom - top) }

  /// Draws the frame, ticks, labels and title.
  func draw(
    _ cr: OpaquePointer, title: String, xLabel: String, yLabel: String, x: Double, y: Double, w: Double, h: Double
  ) {
    cairo_set_source_rgb(cr, 0, 0, 0)
    cairo_set_line_width(cr, 0.8)
    cairo_move_to(cr, left, top)
    cairo_line_to(cr, left, bottom)
    cairo_line_to(cr, right, bottom)
    cairo_stroke(cr)
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, 8)
    for t in niceTicks(xlo, xhi) {
      cairo_move_to(cr, sx(t), bottom)
      cairo_line_to(cr, sx(t), bottom + 3)
      cairo_stroke(cr)
      text(cr, formatTick(t), sx(t), bottom + 12, center: true)
    }
    for t in niceTicks(ylo, yhi) {
      cairo_move_to(cr, left - 3, sy(t))
      cairo_line_to(cr, left, sy(t))
      cairo_stroke(cr)
      text(cr, formatTick(t), left - 5, sy(t) + 3, alignRight: true)
    }
    cairo_set_font_size(cr, 9)
    text(cr, xLabel, (left + right) / 2, y + h - 6, center: true)
    cairo_save(cr)
    cairo_move_to(cr, x + 10, (top + bottom) / 2)
    cairo_rotate(cr, -Double.pi / 2)
    var ext = cairo_text_extents_t()
    cairo_text_extents(cr, yLabel, &ext)
    cairo_rel_move_to(cr, -ext.width / 2, 0)
    cairo_show_text(cr, yLabel)
    cairo_restore(cr)
    cairo_set_font_size(cr, 10)
    text(cr, title, (left + right) / 2, y + 12, center: true)
  }

  static func inRect(x: Double, y: Double, w: Double, h: Double, xr: (Double, Double), yr: (Double, Double)) -> Axes {
    Axes(
      left: x + 44, right: x + w - 8, top: y + 20, bottom: y + h - 30, xlo: xr.0, xhi: xr.1 > xr.0 ? xr.1 : xr.0 + 1,
      ylo: yr.0, yhi: yr.1 > yr.0 ? yr.1 : yr.0 + 1)
  }
}

/// A histogram of `values` in `bins` bins over [lo, hi], with optional vertical marker lines.
public func drawHistogram(
  _ cr: OpaquePointer, values: [Double], lo: Double, hi: Double, bins: Int, color: Color, title: String, xLabel: String,
  markers: [(value: Double, color: Color, label: String)] = [], yLabel: String = "units", x: Double, y: Double,
  w: Double,
  h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let bins = max(1, bins)
  var counts = [Int](repeating: 0, count: bins)
  for v in values where v.isFinite { counts[histogramBin(v, lo: lo, hi: hi, bins: bins)] += 1 }
  let a = Axes.inRect(x: x, y: y, w: w, h: h, xr: (lo, hi), yr: (0, Double(counts.max() ?? 1) * 1.1))
  cairo_set_source_rgba(cr, color.r, color.g, color.b, 0.75)
  for (i, c) in counts.enumerated() where c > 0 {
    let x0 = lo + (hi - lo) * Double(i) / Double(bins)
    let x1 = lo + (hi - lo) * Double(i + 1) / Double(bins)
    cairo_rectangle(cr, a.sx(x0), a.sy(Double(c)), a.sx(x1) - a.sx(x0) - 0.5, a.sy(0) - a.sy(Double(c)))
  }
  cairo_fill(cr)
  for (k, m) in markers.enumerated() where m.value.isFinite {
    cairo_set_source_rgb(cr, m.color.r, m.color.g, m.color.b)
    cairo_set_line_width(cr, 1.2)
    cairo_move_to(cr, a.sx(m.value), a.top)
    cairo_line_to(cr, a.sx(m.value), a.bottom)
    cairo_stroke(cr)
    cairo_set_font_size(cr, 8)
    text(cr, m.label, a.sx(m.value) + 3, a.top + 10 + Double(k) * 10)
  }
  a.draw(cr, title: title, xLabel: xLabel, yLabel: yLabel, x: x, y: y, w: w, h: h)
}

/// A scatter of (x, y) points with the identity line and optional fitted lines y = m x + b.
public func drawScatter(
  _ cr: OpaquePointer, xs: [Double], ys: [Double], title: String, xLabel: String, yLabel: String,
  lines: [(slope: Double, intercept: Double, color: Color, label: String)], x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let finite = zip(xs, ys).filter { $0.0.isFinite && $0.1.isFinite }
  let hi = max(finite.map { max($0.0, $0.1) }.max() ?? 1, 1e-9) * 1.05
  let lo = min(0, finite.map { min($0.0, $0.1) }.min() ?? 0)
  let a = Axes.inRect(x: x, y: y, w: w, h: h, xr: (lo, hi), yr: (lo, hi))
  cairo_save(cr)
  cairo_rectangle(cr, a.left, a.top, a.right - a.left, a.bottom - a.top)
  cairo_clip(cr)
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6)
  cairo_set_line_width(cr, 0.8)
  let dashes: [Double] = [3, 3]
  cairo_set_dash(cr, dashes, 2, 0)
  cairo_move_to(cr, a.sx(lo), a.sy(lo))
  cairo_line_to(cr, a.sx(hi), a.sy(hi))
  cairo_stroke(cr)
  cairo_set_dash(cr, nil, 0, 0)
  cairo_set_source_rgba(cr, 0.1, 0.1, 0.1, 0.35)
  for (px, py) in finite {
    cairo_arc(cr, a.sx(px), a.sy(py), 1.3, 0, 2 * Double.pi)
    cairo_fill(cr)
  }
  for l in lines {
    cairo_set_source_rgb(cr, l.color.r, l.color.g, l.color.b)
    cairo_set_line_width(cr, 1.4)
    cairo_move_to(cr, a.sx(lo), a.sy(l.slope * lo + l.intercept))
    cairo_line_to(cr, a.sx(hi), a.sy(l.slope * hi + l.intercept))
    cairo_stroke(cr)
  }
  cairo_restore(cr)
  cairo_set_font_size(cr, 8)
  for (k, l) in lines.enumerated() {
    cairo_set_source_rgb(cr, l.color.r, l.color.g, l.color.b)
    text(cr, l.label, a.left + 6, a.top + 10 + Double(k) * 10)
  }
  a.draw(cr, title: title, xLabel: xLabel, yLabel: yLabel, x: x, y: y, w: w, h: h)
}

/// Bars with confidence intervals (one per label), with optional horizontal reference bands.
public func drawBarsWithCI(
  _ cr: OpaquePointer, labels: [String], values: [Double], ci: [(Double, Double)], color: Color, title: String,
  yLabel: String,
  bands: [(value: Double, label: String)] = [], x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let top = max(([values, ci.map(\.1), bands.map(\.value)].flatMap { $0 }.filter(\.isFinite).max() ?? 0.1) * 1.2, 0.05)
  let bottom = min(0, [values, ci.map(\.0)].flatMap { $0 }.filter(\.isFinite).min() ?? 0) * 1.2
  let a = Axes.inRect(x: x, y: y, w: w, h: h, xr: (0, Double(labels.count)), yr: (bottom, top))
  for b in bands {
    cairo_set_source_rgb(cr, 0.55, 0.55, 0.55)
    cairo_set_line_width(cr, 1)
    let dashes: [Double] = [4, 2]
    cairo_set_dash(cr, dashes, 2, 0)
    cairo_move_to(cr, a.left, a.sy(b.value))
    cairo_line_to(cr, a.right, a.sy(b.value))
    cairo_stroke(cr)
    cairo_set_dash(cr, nil, 0, 0)
    cairo_set_font_size(cr, 8)
    text(cr, b.label, a.right - 4, a.sy(b.value) - 3, alignRight: true)
  }
  for (i, v) in values.enumerated() where v.isFinite {
    cairo_set_source_rgba(cr, color.r, color.g, color.b, 0.8)
    cairo_rectangle(
      cr, a.sx(Double(i) + 0.25), a.sy(max(0, v)), a.sx(Double(i) + 0.75) - a.sx(Double(i) + 0.25),
      abs(a.sy(v) - a.sy(0)))
    cairo_fill(cr)
    cairo_set_source_rgb(cr, 0, 0, 0)
    cairo_set_line_width(cr, 1.2)
    let (l, hgh) = ci[i]
    if l.isFinite && hgh.isFinite {
      let cx = a.sx(Double(i) + 0.5)
      cairo_move_to(cr, cx, a.sy(l))
      cairo_line_to(cr, cx, a.sy(hgh))
      cairo_move_to(cr, cx - 4, a.sy(l))
      cairo_line_to(cr, cx + 4, a.sy(l))
      cairo_move_to(cr, cx - 4, a.sy(hgh))
      cairo_line_to(cr, cx + 4, a.sy(hgh))
      cairo_stroke(cr)
    }
    cairo_set_font_size(cr, 9)
    text(cr, labels[i], a.sx(Double(i) + 0.5), a.bottom + 12, center: true)
  }
  // Axis without numeric x ticks.
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_line_width(cr, 0.8)
  cairo_move_to(cr, a.left, a.top)
  cairo_line_to(cr, a.left, a.bottom)
  cairo_line_to(cr, a.right, a.bottom)
  cairo_stroke(cr)
  cairo_set_font_size(cr, 8)
  for t in niceTicks(a.ylo, a.yhi) {
    cairo_move_to(cr, a.left - 3, a.sy(t))
    cairo_line_to(cr, a.left, a.sy(t))
    cairo_stroke(cr)
    text(cr, formatTick(t), a.left - 5, a.sy(t) + 3, alignRight: true)
  }
  cairo_set_font_size(cr, 10)
  text(cr, title, (a.left + a.right) / 2, y + 12, center: true)
  cairo_save(cr)
  cairo_move_to(cr, x + 10, (a.top + a.bottom) / 2)
  cairo_rotate(cr, -Double.pi / 2)
  cairo_set_font_size(cr, 9)
  var ext = cairo_text_extents_t()
  cairo_text_extents(cr, yLabel, &ext)
  cairo_rel_move_to(cr, -ext.width / 2, 0)
  cairo_show_text(cr, yLabel)
  cairo_restore(cr)
}

extension PanelGrid {
  /// Draws the grid scaled to fit a (w x h) rectangle at (x, y).
  public func draw(_ cr: OpaquePointer, fitting x: Double, _ y: Double, _ w: Double, _ h: Double) {
    let s = size
    let scale = min(w / s.width, h / s.height)
    cairo_save(cr)
    cairo_translate(cr, x, y)
    cairo_scale(cr, scale, scale)
    draw(cr)
    cairo_restore(cr)
  }
}

/// A diverging blue-white-red colour for v in [-1, 1].
public func divergingColor(_ v: Double) -> Color {
  let t = max(-1, min(1, v))
  return t < 0 ? Color(1 + t * 0.8, 1 + t * 0.6, 1) : Color(1, 1 - t * 0.6, 1 - t * 0.8)
}

/// A heat map of `values` [rows x cols] (NaN drawn grey) with a colour bar; colours from
/// `divergingColor(value / scale)`.
public func drawHeatMap(
  _ cr: OpaquePointer, values: [Double], rows: Int, cols: Int, scale: Double, title: String, colorLabel: String,
  x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let cell = min((w - 90) / Double(cols), (h - 40) / Double(rows))
  let x0 = x + 10
  let y0 = y + 24
  for r in 0..<rows {
    for c in 0..<cols {
      let v = values[r * cols + c]
      let col = v.isNaN ? Color(0.8, 0.8, 0.8) : divergingColor(v / scale)
      cairo_set_source_rgb(cr, col.r, col.g, col.b)
      cairo_rectangle(cr, x0 + Double(c) * cell, y0 + Double(r) * cell, cell, cell)
      cairo_fill(cr)
    }
  }
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_line_width(cr, 0.6)
  cairo_rectangle(cr, x0, y0, Double(cols) * cell, Double(rows) * cell)
  cairo_stroke(cr)
  cairo_set_font_size(cr, 10)
  text(cr, title, x0 + Double(cols) * cell / 2, y + 14, center: true)
  // Colour bar.
  let bx = x0 + Double(cols) * cell + 16
  let bh = Double(rows) * cell
  for i in 0..<100 {
    let v = 1 - 2 * Double(i) / 99
    let col = divergingColor(v)
    cairo_set_source_rgb(cr, col.r, col.g, col.b)
    cairo_rectangle(cr, bx, y0 + bh * Double(i) / 100, 10, bh / 100 + 0.5)
    cairo_fill(cr)
  }
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_font_size(cr, 8)
  text(cr, formatTick(scale), bx + 13, y0 + 6)
  text(cr, "0", bx + 13, y0 + bh / 2 + 3)
  text(cr, formatTick(-scale), bx + 13, y0 + bh)
  text(cr, colorLabel, bx - 2, y0 + bh + 12)
}

/// The bin of `v` among `bins` equal bins over [lo, hi]; values outside fall into the edge bins.
/// Computed in doubles and clamped before conversion, so no value (or range) can trap.
public func histogramBin(_ v: Double, lo: Double, hi: Double, bins: Int) -> Int {
  let f = (v - lo) / (hi - lo) * Double(bins)
  guard f.isFinite else { return v > lo ? bins - 1 : 0 }
  return Int(min(Double(bins - 1), max(0, f)))
}
