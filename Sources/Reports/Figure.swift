import CCairo
import Foundation

/// An RGB colour with components in [0, 1].
public struct Color: Sendable, Equatable {
  public var r, g, b: Double
  public init(_ r: Double, _ g: Double, _ b: Double) {
    self.r = r
    self.g = g
    self.b = b
  }
  /// Attended responses, always this blue.
  public static let attended = Color(14 / 255, 77 / 255, 179 / 255)
  /// Unattended responses, always this red.
  public static let unattended = Color(212 / 255, 78 / 255, 78 / 255)
  public static let black = Color(0, 0, 0)
  public static let grey = Color(0.6, 0.6, 0.6)
}

/// Why a figure could not be written.
public struct ReportError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// How a series is drawn: a line through its points, markers only, or both.
public enum SeriesStyle: Sendable {
  case line, points, pointsAndLine
}

/// A data series of a line panel: values, optional error bars (half-widths, e.g. SEM over trials)
/// or a shaded band (half-widths, e.g. a 95% CI).
public struct Series: Sendable {
  public var x: [Double]
  public var y: [Double]
  public var color: Color
  public var label: String
  /// Optional error band half-widths.
  public var band: [Double]?
  public var errors: [Double]?
  public var style: SeriesStyle
  public var dashed: Bool
  public init(
    x: [Double], y: [Double], color: Color, label: String, band: [Double]? = nil, errors: [Double]? = nil,
    style: SeriesStyle = .line, dashed: Bool = false
  ) {
    self.x = x
    self.y = y
    self.color = color
    self.label = label
    self.band = band
    self.errors = errors
    self.style = style
    self.dashed = dashed
  }
}

/// One panel: axes with ticks and labels, line series, and annotation lines (e.g. fitted
/// parameters) printed under the title, never on the data.
public struct LinePanel: Sendable {
  public var title: String
  public var x: AxisSpec
  public var yLabel: String
  public var series: [Series]
  public var notes: [(text: String, color: Color)]
  /// A y range to use instead of the data's.
  public var yRange: (Double, Double)?
  public init(
    title: String, x: AxisSpec, yLabel: String, series: [Series], notes: [(text: String, color: Color)] = [],
    yRange: (Double, Double)? = nil
  ) {
    self.title = title
    self.x = x
    self.yLabel = yLabel
    self.series = series
    self.notes = notes
    self.yRange = yRange
  }
  public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
    self.init(title: title, x: AxisSpec(xLabel), yLabel: yLabel, series: series)
  }
}

/// A legend entry: a colour swatch (line or marker) and its label.
public struct LegendEntry: Sendable {
  public var color: Color
  public var label: String
  public var style: SeriesStyle
  public init(_ color: Color, _ label: String, style: SeriesStyle = .line) {
    self.color = color
    self.label = label
    self.style = style
  }
}

/// "Nice" tick positions covering [lo, hi] (steps of 1, 2 or 5 x 10^k), at most `4 * count + 1` of
/// them. Survives any input: a non-finite, empty or reversed range, or one too narrow for its
/// magnitude (steps below the spacing of doubles there), gives the ends alone.
public func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
  guard lo.isFinite else { return [] }
  guard hi.isFinite, hi > lo else { return [lo] }
  let span = hi - lo
  guard span.isFinite else { return [lo, hi] }  // e.g. -1e308 ... 1e308
  let raw = span / Double(max(1, count))
  let mag = pow(10, floor(log10(raw)))
  let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
  let first = ceil(lo / step) * step
  // A step that no longer changes the value (1e16 + 0.5 == 1e16) would repeat ticks forever.
  guard step.isFinite, step > 0, first.isFinite, first + step != first, (first + step) - first > step / 2 else {
    return [lo, hi]
  }
  let n = Int(min(Double(4 * max(1, count)), floor((hi - first) / step + 1e-9))) + 1
  return (0..<max(0, n)).map { i in
    let t = first + Double(i) * step
    return abs(t) < step * 1e-9 ? 0 : t
  }
}

/// Draws a legend row at (x, y) (the baseline of its labels); returns the width used.
@discardableResult
public func drawLegend(_ cr: OpaquePointer, _ entries: [LegendEntry], x: Double, y: Double, size: Double = 8.5)
  -> Double
{
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  cairo_set_font_size(cr, size)
  var cx = x
  for e in entries {
    cairo_set_source_rgb(cr, e.color.r, e.color.g, e.color.b)
    if e.style == .line || e.style == .pointsAndLine {
      cairo_set_line_width(cr, 1.6)
      cairo_move_to(cr, cx, y - size / 3)
      cairo_line_to(cr, cx + 16, y - size / 3)
      cairo_stroke(cr)
    }
    if e.style != .line {
      cairo_arc(cr, cx + 8, y - size / 3, 2.2, 0, 2 * .pi)
      cairo_fill(cr)
    }
    LayoutRecorder.record(cr, .legend, e.label, x: cx, y: y - size / 3 - 3, w: 16, h: 6)
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15)
    text(cr, e.label, cx + 20, y, kind: .legend)
    cx += 20 + textWidth(cr, e.label) + 14
  }
  return cx - x
}

/// Draws panels in a grid on a Cairo context (used for PNG and PDF pages alike), with one shared
/// legend row above the panels (the series of the first panel) instead of a legend in each.
public struct PanelGrid {
  public var panels: [LinePanel]
  public var columns: Int
  public var panelWidth: Double = 240
  public var panelHeight: Double = 180
  /// The shared legend; by default the labelled series of the first panel.
  public var legend: [LegendEntry]

  public init(panels: [LinePanel], columns: Int, legend: [LegendEntry]? = nil) {
    self.panels = panels
    self.columns = max(1, columns)
    self.legend =
      legend
      ?? (panels.first?.series ?? []).filter { !$0.label.isEmpty }.map {
        LegendEntry($0.color, $0.label, style: $0.style)
      }
  }

  var legendHeight: Double { legend.isEmpty ? 0 : 16 }

  public var size: (width: Double, height: Double) {
    let rows = (panels.count + columns - 1) / columns
    return (Double(columns) * panelWidth, Double(rows) * panelHeight + legendHeight)
  }

  /// Renders the grid into `cr` with its top-left corner at (x0, y0).
  public func draw(_ cr: OpaquePointer, x0: Double = 0, y0: Double = 0) {
    if !legend.isEmpty { drawLegend(cr, legend, x: x0 + 50, y: y0 + 11) }
    for (i, p) in panels.enumerated() {
      let px = x0 + Double(i % columns) * panelWidth
      let py = y0 + legendHeight + Double(i / columns) * panelHeight
      drawLinePanel(cr, p, x: px, y: py, w: panelWidth, h: panelHeight)
    }
  }
}

/// Draws one line panel in the rectangle (x, y, w, h): the notes under the title, series clipped to
/// the plot area (values outside the x range are not drawn).
public func drawLinePanel(_ cr: OpaquePointer, _ p: LinePanel, x: Double, y: Double, w: Double, h: Double) {
  let area = Axes.plotArea(x: x, y: y, w: w, h: h, headerLines: p.notes.count)
  let xs = p.series.flatMap(\.x).filter(p.x.scale.admits)
  var ys: [Double] = []
  for s in p.series {
    for (i, v) in s.y.enumerated() where v.isFinite {
      let e = max(s.band?[i] ?? 0, s.errors?[i] ?? 0)
      ys += [v - (e.isFinite ? e : 0), v + (e.isFinite ? e : 0)]
    }
  }
  var xlo = xs.min() ?? 0
  var xhi = xs.max() ?? 1
  if let t = p.x.ticks, let a = t.first, let b = t.last, xlo >= a, xhi <= b {
    (xlo, xhi) = (a, b)
  }
  if xhi <= xlo { (xlo, xhi) = p.x.scale == .linear ? (xlo - 0.5, xhi + 0.5) : (xlo / 2, xhi * 2) }
  var ylo = min(0, ys.min() ?? 0)
  var yhi = ys.max() ?? 1
  if let r = p.yRange { (ylo, yhi) = r }
  if yhi <= ylo { yhi = ylo + 1 }
  if p.yRange == nil {
    yhi += (yhi - ylo) * 0.05
    ylo -= ylo < 0 ? (yhi - ylo) * 0.05 : 0
  }
  let axes = Axes(
    left: area.left, right: area.right, top: area.top, bottom: area.bottom, xlo: xlo, xhi: xhi, ylo: ylo, yhi: yhi,
    xScale: p.x.scale)
  cairo_set_source_rgb(cr, 1, 1, 1)
  cairo_rectangle(cr, x, y, w, h)
  cairo_fill(cr)
  axes.draw(cr, title: p.title, x: p.x, y: AxisSpec(p.yLabel), frame: (x, y, w))
  cairo_set_font_size(cr, 7.5)
  for (i, n) in p.notes.enumerated() {
    cairo_set_source_rgb(cr, n.color.r, n.color.g, n.color.b)
    text(cr, fitted(cr, n.text, w - 56), area.left, y + 24 + 10 * Double(i))
  }
  cairo_save(cr)
  cairo_rectangle(cr, axes.left - 3, axes.top - 3, axes.right - axes.left + 6, axes.bottom - axes.top + 6)
  cairo_clip(cr)
  for s in p.series {
    let pts = zip(s.x, s.y).enumerated().filter { p.x.scale.admits($0.element.0) && $0.element.1.isFinite }
    if let band = s.band, pts.count > 1 {
      cairo_set_source_rgba(cr, s.color.r, s.color.g, s.color.b, 0.2)
      for (k, (i, (xv, yv))) in pts.enumerated() {
        let b = band[i].isFinite ? band[i] : 0
        if k == 0 {
          cairo_move_to(cr, axes.sx(xv), axes.sy(yv + b))
        } else {
          cairo_line_to(cr, axes.sx(xv), axes.sy(yv + b))
        }
      }
      for (i, (xv, yv)) in pts.reversed() {
        cairo_line_to(cr, axes.sx(xv), axes.sy(yv - (band[i].isFinite ? band[i] : 0)))
      }
      cairo_close_path(cr)
      cairo_fill(cr)
    }
    cairo_set_source_rgb(cr, s.color.r, s.color.g, s.color.b)
    if s.style != .points {
      cairo_set_line_width(cr, s.style == .line ? 1.6 : 1.0)
      if s.dashed { cairo_set_dash(cr, [3, 2], 2, 0) }
      for (k, (_, (xv, yv))) in pts.enumerated() {
        if k == 0 { cairo_move_to(cr, axes.sx(xv), axes.sy(yv)) } else { cairo_line_to(cr, axes.sx(xv), axes.sy(yv)) }
      }
      cairo_stroke(cr)
      cairo_set_dash(cr, nil, 0, 0)
    }
    for (i, (xv, yv)) in pts where axes.contains(xv, yv) {
      let (px, py) = (axes.sx(xv), axes.sy(yv))
      if s.style != .line {
        cairo_arc(cr, px, py, 2.2, 0, 2 * .pi)
        cairo_fill(cr)
      }
      if let e = s.errors?[i], e.isFinite, e > 0 {
        cairo_set_line_width(cr, 0.9)
        cairo_move_to(cr, px, axes.sy(yv - e))
        cairo_line_to(cr, px, axes.sy(yv + e))
        cairo_stroke(cr)
        LayoutRecorder.record(
          cr, .data, "error bar", x: px - 1, y: axes.sy(yv + e), w: 2, h: axes.sy(yv - e) - axes.sy(yv + e))
      }
      LayoutRecorder.record(cr, .data, s.label.isEmpty ? "curve" : s.label, x: px - 1.5, y: py - 1.5, w: 3, h: 3)
    }
  }
  cairo_restore(cr)
}

/// Draws `s` at (x, y) (baseline), optionally centred or right-aligned; recorded for the layout check.
func text(
  _ cr: OpaquePointer, _ s: String, _ x: Double, _ y: Double, center: Bool = false, alignRight: Bool = false,
  kind: ElementKind = .text
) {
  guard !s.isEmpty else { return }
  var ext = cairo_text_extents_t()
  cairo_text_extents(cr, s, &ext)
  let dx = center ? -ext.x_advance / 2 : (alignRight ? -ext.x_advance : 0)
  cairo_move_to(cr, x + dx, y)
  cairo_show_text(cr, s)
  LayoutRecorder.record(
    cr, kind, s, x: x + dx + ext.x_bearing, y: y + ext.y_bearing, w: max(ext.width, 0.1), h: max(ext.height, 0.1))
}

func formatTick(_ v: Double) -> String {
  if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
  if abs(v) >= 0.001 && abs(v) < 1e6 {
    var s = String(format: "%.3f", v)
    while s.hasSuffix("0") { s.removeLast() }
    return s
  }
  return String(format: "%.1e", v)
}

/// Renders a panel grid to a PNG file (written atomically via a temporary file).
public func writePNG(_ grid: PanelGrid, to path: String, scale: Double = 2) throws {
  let size = grid.size
  guard
    let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(size.width * scale), Int32(size.height * scale))
  else {
    throw ReportError("cannot create an image surface")
  }
  defer { cairo_surface_destroy(surface) }
  let cr = cairo_create(surface)!
  defer { cairo_destroy(cr) }
  cairo_scale(cr, scale, scale)
  grid.draw(cr)
  cairo_surface_flush(surface)
  let url = URL(fileURLWithPath: path)
  try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
  let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
    .path
  let status = cairo_surface_write_to_png(surface, tmp)
  guard status == CAIRO_STATUS_SUCCESS else {
    try? FileManager.default.removeItem(atPath: tmp)
    throw ReportError("\(path): PNG could not be written (\(String(cString: cairo_status_to_string(status))))")
  }
  guard rename(tmp, path) == 0 else { throw ReportError("\(path): could not be moved into place") }
}
