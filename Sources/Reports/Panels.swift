import CCairo
import Foundation

/// A vertical marker on a histogram: a value, optionally its confidence interval (drawn as a bar
/// at the top of the plot), and a label printed above the plot, never on the bars.
public struct Marker: Sendable {
  public var value: Double
  public var ci: (Double, Double)?
  public var color: Color
  public var label: String
  public var dashed: Bool
  public init(_ value: Double, ci: (Double, Double)? = nil, color: Color, label: String, dashed: Bool = false) {
    self.value = value
    self.ci = ci
    self.color = color
    self.label = label
    self.dashed = dashed
  }
}

/// A histogram: `values` in `bins` equal bins (equal in the scale's units) over [lo, hi]. Values
/// outside the range or not admitted by the scale are not drawn; their count is printed. With
/// `highlighted`, those values are drawn solid (e.g. significant units) stacked under the others.
public struct Histogram: Sendable {
  public var values: [Double]
  public var highlighted: [Bool]?
  public var lo, hi: Double
  public var bins: Int
  public var x: AxisSpec
  public var title: String
  public var yLabel = "units"
  public var color: Color = .attended
  public var markers: [Marker] = []
  /// Legend labels of the highlighted and the other values.
  public var highlightLabel = "q < 0.05"
  public var otherLabel = "n.s."
  public init(values: [Double], lo: Double, hi: Double, bins: Int, x: AxisSpec, title: String) {
    self.values = values
    self.lo = lo
    self.hi = hi
    self.bins = max(1, bins)
    self.x = x
    self.title = title
  }
}

/// The lines a histogram prints above its plot: its markers, the legend of the shading and the
/// count of values not drawn.
func histogramHeader(_ hist: Histogram) -> Int {
  hist.markers.count + (hist.highlighted == nil ? 0 : 1) + 1
}

/// Draws a histogram in the rectangle (x, y, w, h).
public func drawHistogram(_ cr: OpaquePointer, _ hist: Histogram, x: Double, y: Double, w: Double, h: Double) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let scale = hist.x.scale
  let (flo, fhi) = (scale.forward(hist.lo), scale.forward(hist.hi))
  var solid = [Int](repeating: 0, count: hist.bins)
  var light = solid
  var outside = 0
  for (i, v) in hist.values.enumerated() {
    guard scale.admits(v), v >= hist.lo, v <= hist.hi, fhi > flo else {
      outside += 1
      continue
    }
    let b = histogramBin(scale.forward(v), lo: flo, hi: fhi, bins: hist.bins)
    if hist.highlighted?[i] ?? true { solid[b] += 1 } else { light[b] += 1 }
  }
  let peak = zip(solid, light).map { $0 + $1 }.max() ?? 1
  let area = Axes.plotArea(x: x, y: y, w: w, h: h, headerLines: histogramHeader(hist))
  let a = Axes(
    left: area.left, right: area.right, top: area.top, bottom: area.bottom, xlo: hist.lo, xhi: hist.hi, ylo: 0,
    yhi: Double(max(1, peak)) * 1.08, xScale: scale)
  func edge(_ i: Int) -> Double { a.left + (a.right - a.left) * Double(i) / Double(hist.bins) }
  for (i, (s, l)) in zip(solid, light).enumerated() where s + l > 0 {
    let (x0, x1) = (edge(i), edge(i + 1) - 0.4)
    cairo_set_source_rgba(cr, hist.color.r, hist.color.g, hist.color.b, 0.85)
    cairo_rectangle(cr, x0, a.sy(Double(s)), x1 - x0, a.sy(0) - a.sy(Double(s)))
    cairo_fill(cr)
    cairo_set_source_rgba(cr, hist.color.r, hist.color.g, hist.color.b, 0.3)
    cairo_rectangle(cr, x0, a.sy(Double(s + l)), x1 - x0, a.sy(Double(s)) - a.sy(Double(s + l)))
    cairo_fill(cr)
    LayoutRecorder.record(cr, .data, "bar", x: x0, y: a.sy(Double(s + l)), w: x1 - x0, h: a.sy(0) - a.sy(Double(s + l)))
  }
  for m in hist.markers where m.value.isFinite && m.value >= hist.lo && m.value <= hist.hi {
    cairo_set_source_rgb(cr, m.color.r, m.color.g, m.color.b)
    cairo_set_line_width(cr, 1.2)
    if m.dashed { cairo_set_dash(cr, [3, 2], 2, 0) }
    cairo_move_to(cr, a.sx(m.value), a.top)
    cairo_line_to(cr, a.sx(m.value), a.bottom)
    cairo_stroke(cr)
    cairo_set_dash(cr, nil, 0, 0)
    if let ci = m.ci, ci.0.isFinite, ci.1.isFinite {
      let (l, r) = (a.sx(max(hist.lo, ci.0)), a.sx(min(hist.hi, ci.1)))
      cairo_set_line_width(cr, 3)
      cairo_move_to(cr, l, a.top - 2)
      cairo_line_to(cr, r, a.top - 2)
      cairo_stroke(cr)
    }
  }
  a.draw(cr, title: hist.title, x: hist.x, y: AxisSpec(hist.yLabel), frame: (x, y, w))
  // Header lines: markers, shading legend, values not drawn.
  cairo_set_font_size(cr, 7.5)
  var line = 0
  func header(_ s: String, _ c: Color) {
    cairo_set_source_rgb(cr, c.r, c.g, c.b)
    text(cr, fitted(cr, s, w - 56), a.left, y + 24 + 10 * Double(line))
    line += 1
  }
  for m in hist.markers { header((m.dashed ? "- - " : "| ") + m.label, m.color) }
  if hist.highlighted != nil {
    let n = solid.reduce(0, +)
    header("solid: \(hist.highlightLabel) \(n); light: \(hist.otherLabel) \(light.reduce(0, +))", hist.color)
  }
  header(
    outside == 0
      ? "n = \(hist.values.count), all drawn" : "n = \(hist.values.count); \(outside) outside the axis, not drawn",
    Color(0.35, 0.35, 0.35))
}

/// A scatter of (x, y) points with the identity line and fitted lines y = m x + b (their labels
/// above the plot). Axes are shared and robust: the 0.5-99.5% range of both, the count beyond printed.
public func drawScatter(
  _ cr: OpaquePointer, xs: [Double], ys: [Double], title: String, xLabel: String, yLabel: String,
  lines: [(slope: Double, intercept: Double, color: Color, label: String)], x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let finite = zip(xs, ys).filter { $0.0.isFinite && $0.1.isFinite }
  let r = robustRange(finite.flatMap { [$0.0, $0.1] })
  let (lo, hi) = (min(0, r.lo), r.hi)
  let area = Axes.plotArea(x: x, y: y, w: w, h: h, headerLines: lines.count + 1)
  let a = Axes(
    left: area.left, right: area.right, top: area.top, bottom: area.bottom, xlo: lo, xhi: hi, ylo: lo, yhi: hi)
  cairo_save(cr)
  cairo_rectangle(cr, a.left, a.top, a.right - a.left, a.bottom - a.top)
  cairo_clip(cr)
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6)
  cairo_set_line_width(cr, 0.8)
  cairo_set_dash(cr, [3, 3], 2, 0)
  cairo_move_to(cr, a.sx(lo), a.sy(lo))
  cairo_line_to(cr, a.sx(hi), a.sy(hi))
  cairo_stroke(cr)
  cairo_set_dash(cr, nil, 0, 0)
  cairo_set_source_rgba(cr, 0.1, 0.1, 0.1, 0.35)
  var outside = 0
  for (px, py) in finite {
    guard a.contains(px, py) else {
      outside += 1
      continue
    }
    let (sx, sy) = (a.sx(px), a.sy(py))
    cairo_arc(cr, sx, sy, 1.3, 0, 2 * Double.pi)
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
  // Points are recorded individually only when few; a dense cloud as one mark per point sample.
  for (px, py) in finite.enumerated().filter({ $0.offset % max(1, finite.count / 400) == 0 }).map(\.element)
  where a.contains(px, py) {
    LayoutRecorder.record(cr, .data, "point", x: a.sx(px) - 1.3, y: a.sy(py) - 1.3, w: 2.6, h: 2.6)
  }
  a.draw(cr, title: title, x: AxisSpec(xLabel), y: AxisSpec(yLabel), frame: (x, y, w))
  cairo_set_font_size(cr, 7.5)
  for (k, l) in lines.enumerated() {
    cairo_set_source_rgb(cr, l.color.r, l.color.g, l.color.b)
    text(cr, fitted(cr, "— " + l.label, w - 56), a.left, y + 24 + Double(k) * 10)
  }
  cairo_set_source_rgb(cr, 0.35, 0.35, 0.35)
  text(
    cr,
    outside == 0
      ? "dashed: A = U; all \(finite.count) units drawn"
      : "dashed: A = U; \(outside) of \(finite.count) beyond the axes",
    a.left, y + 24 + Double(lines.count) * 10)
}

/// Bars with confidence intervals (one per label), with horizontal reference lines whose labels sit
/// in the right margin, outside the plot.
public func drawBarsWithCI(
  _ cr: OpaquePointer, labels: [String], values: [Double], ci: [(Double, Double)], color: Color, title: String,
  yLabel: String, bands: [(value: Double, label: String)] = [], x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let all = [values, ci.map(\.1), ci.map(\.0), bands.map(\.value)].flatMap { $0 }.filter(\.isFinite)
  let top = max((all.max() ?? 0.1) * 1.15, 0.05)
  let bottom = min(0, (all.min() ?? 0) * 1.15)
  cairo_set_font_size(cr, 7.5)
  let margin = bands.isEmpty ? 10 : min(w / 3, 8 + (bands.map { textWidth(cr, $0.label) }.max() ?? 0))
  let area = Axes.plotArea(x: x, y: y, w: w, h: h, headerLines: 0, rightMargin: margin)
  let a = Axes(
    left: area.left, right: area.right, top: area.top, bottom: area.bottom, xlo: 0,
    xhi: Double(max(1, labels.count)), ylo: bottom, yhi: top)
  cairo_set_source_rgb(cr, 0.75, 0.75, 0.75)
  cairo_set_line_width(cr, 0.6)
  cairo_move_to(cr, a.left, a.sy(0))
  cairo_line_to(cr, a.right, a.sy(0))
  cairo_stroke(cr)
  // Reference labels stacked in the margin without overlapping one another.
  var lastY = -Double.infinity
  for b in bands.sorted(by: { $0.value > $1.value }) {
    cairo_set_source_rgb(cr, 0.45, 0.45, 0.45)
    cairo_set_line_width(cr, 1)
    cairo_set_dash(cr, [4, 2], 2, 0)
    cairo_move_to(cr, a.left, a.sy(b.value))
    cairo_line_to(cr, a.right, a.sy(b.value))
    cairo_stroke(cr)
    cairo_set_dash(cr, nil, 0, 0)
    cairo_set_font_size(cr, 7.5)
    let ly = max(a.sy(b.value) + 3, lastY + 10)
    lastY = ly
    text(cr, b.label, a.right + 4, ly)
  }
  cairo_set_font_size(cr, 8)
  let slot = (a.right - a.left) / Double(max(1, labels.count))
  for (i, v) in values.enumerated() where v.isFinite {
    cairo_set_source_rgba(cr, color.r, color.g, color.b, 0.8)
    let (x0, x1) = (a.sx(Double(i) + 0.2), a.sx(Double(i) + 0.8))
    cairo_rectangle(cr, x0, min(a.sy(v), a.sy(0)), x1 - x0, abs(a.sy(v) - a.sy(0)))
    cairo_fill(cr)
    LayoutRecorder.record(cr, .data, "bar", x: x0, y: min(a.sy(v), a.sy(0)), w: x1 - x0, h: abs(a.sy(v) - a.sy(0)))
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
      LayoutRecorder.record(cr, .data, "CI", x: cx - 4, y: a.sy(hgh), w: 8, h: a.sy(l) - a.sy(hgh))
    }
  }
  // Category labels: two lines when long (layer, then stratum).
  cairo_set_source_rgb(cr, 0, 0, 0)
  for (i, label) in labels.enumerated() {
    let parts = label.split(separator: " ", maxSplits: 1).map(String.init)
    let cx = a.sx(Double(i) + 0.5)
    text(cr, fitted(cr, parts[0], slot - 2), cx, a.bottom + 11, center: true)
    if parts.count > 1 { text(cr, fitted(cr, parts[1], slot - 2), cx, a.bottom + 21, center: true) }
  }
  a.draw(cr, title: title, x: nil, y: AxisSpec(yLabel), frame: (x, y, w))
}

extension PanelGrid {
  /// Draws the grid scaled to fit a (w x h) rectangle at (x, y) (never enlarged beyond 1.3x).
  public func draw(_ cr: OpaquePointer, fitting x: Double, _ y: Double, _ w: Double, _ h: Double) {
    let s = size
    let scale = min(w / s.width, h / s.height, 1.3)
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
  let cell = max(0.1, min((w - 70) / Double(max(1, cols)), (h - 44) / Double(max(1, rows))))
  let x0 = x + 10
  let y0 = y + 22
  for r in 0..<rows {
    for c in 0..<cols {
      let v = values[r * cols + c]
      let col = v.isNaN ? Color(0.8, 0.8, 0.8) : divergingColor(v / scale)
      cairo_set_source_rgb(cr, col.r, col.g, col.b)
      cairo_rectangle(cr, x0 + Double(c) * cell, y0 + Double(r) * cell, cell, cell)
      cairo_fill(cr)
    }
  }
  LayoutRecorder.record(cr, .data, "heat map", x: x0, y: y0, w: Double(cols) * cell, h: Double(rows) * cell)
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_line_width(cr, 0.6)
  cairo_rectangle(cr, x0, y0, Double(cols) * cell, Double(rows) * cell)
  cairo_stroke(cr)
  cairo_set_font_size(cr, 9.5)
  text(cr, fitted(cr, title, w - 10), x + w / 2, y + 13, center: true)
  // Colour bar.
  let bx = x0 + Double(cols) * cell + 12
  let bh = Double(rows) * cell
  for i in 0..<100 {
    let v = 1 - 2 * Double(i) / 99
    let col = divergingColor(v)
    cairo_set_source_rgb(cr, col.r, col.g, col.b)
    cairo_rectangle(cr, bx, y0 + bh * Double(i) / 100, 8, bh / 100 + 0.5)
    cairo_fill(cr)
  }
  LayoutRecorder.record(cr, .data, "colour bar", x: bx, y: y0, w: 8, h: bh)
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_set_font_size(cr, 7.5)
  text(cr, formatTick(scale), bx + 11, y0 + 6)
  if bh > 30 { text(cr, "0", bx + 11, y0 + bh / 2 + 3) }
  text(cr, formatTick(-scale), bx + 11, y0 + bh)
  text(cr, colorLabel, x0, y0 + bh + 11)
}

/// The bin of `v` among `bins` equal bins over [lo, hi]; values outside fall into the edge bins.
/// Computed in doubles and clamped before conversion, so no value (or range) can trap.
public func histogramBin(_ v: Double, lo: Double, hi: Double, bins: Int) -> Int {
  let f = (v - lo) / (hi - lo) * Double(bins)
  guard f.isFinite else { return v > lo ? bins - 1 : 0 }
  return Int(min(Double(bins - 1), max(0, f)))
}

/// Stacked bars of shares (each bar's parts sum to at most 1), one bar per label, with a legend of
/// the parts above the plot.
public func drawStackedBars(
  _ cr: OpaquePointer, labels: [String], shares: [[Double]], parts: [(name: String, color: Color)], title: String,
  yLabel: String, x: Double, y: Double, w: Double, h: Double
) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  let area = Axes.plotArea(x: x, y: y, w: w, h: h, headerLines: 1)
  let a = Axes(
    left: area.left, right: area.right, top: area.top, bottom: area.bottom, xlo: 0, xhi: Double(max(1, labels.count)),
    ylo: 0, yhi: 1)
  for (i, s) in shares.enumerated() {
    var base = 0.0
    let (x0, x1) = (a.sx(Double(i) + 0.2), a.sx(Double(i) + 0.8))
    for (j, v) in s.enumerated() where v.isFinite && v > 0 && j < parts.count {
      let c = parts[j].color
      cairo_set_source_rgb(cr, c.r, c.g, c.b)
      cairo_rectangle(cr, x0, a.sy(base + v), x1 - x0, a.sy(base) - a.sy(base + v))
      cairo_fill(cr)
      base += v
    }
    LayoutRecorder.record(cr, .data, "bar", x: x0, y: a.sy(base), w: x1 - x0, h: a.sy(0) - a.sy(base))
  }
  cairo_set_font_size(cr, 8)
  cairo_set_source_rgb(cr, 0, 0, 0)
  let slot = (a.right - a.left) / Double(max(1, labels.count))
  for (i, label) in labels.enumerated() {
    let p = label.split(separator: " ", maxSplits: 1).map(String.init)
    text(cr, fitted(cr, p[0], slot - 2), a.sx(Double(i) + 0.5), a.bottom + 11, center: true)
    if p.count > 1 { text(cr, fitted(cr, p[1], slot - 2), a.sx(Double(i) + 0.5), a.bottom + 21, center: true) }
  }
  a.draw(cr, title: title, x: nil, y: AxisSpec(yLabel), frame: (x, y, w))
  // The legend, scaled down to the panel's width when needed.
  let entries = parts.map { LegendEntry($0.color, $0.name, style: .points) }
  cairo_set_font_size(cr, 8)
  let natural = entries.map { 34 + textWidth(cr, $0.label) }.reduce(0, +)
  let fit = min(1, (x + w - a.left) / max(1, natural))
  cairo_save(cr)
  cairo_translate(cr, a.left, y + 27)
  cairo_scale(cr, fit, fit)
  drawLegend(cr, entries, x: 0, y: 0, size: 8)
  cairo_restore(cr)
}
