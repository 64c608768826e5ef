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

/// A data series of a line panel.
public struct Series: Sendable {
  public var x: [Double]
  public var y: [Double]
  public var color: Color
  public var label: String
  /// Optional error band half-widths.
  public var band: [Double]?
  public init(x: [Double], y: [Double], color: Color, label: String, band: [Double]? = nil) {
    self.x = x
    self.y = y
    self.color = color
    self.label = label
    self.band = band
  }
}

/// One panel: axes with ticks and labels, and line series.
public struct LinePanel: Sendable {
  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
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

/// Draws panels in a grid on a Cairo context (used for PNG and PDF pages alike).
public struct PanelGrid {
  public var panels: [LinePanel]
  public var columns: Int
  public var panelWidth: Double = 240
  public var panelHeight: Double = 180

  public init(panels: [LinePanel], columns: Int) {
    self.panels = panels
    self.columns = columns
  }

  public var size: (width: Double, height: Double) {
    let rows = (panels.count + columns - 1) / columns
    return (Double(columns) * panelWidth, Double(rows) * panelHeight)
  }

  /// Renders the grid into `cr` with its top-left corner at (x0, y0).
  public func draw(_ cr: OpaquePointer, x0: Double = 0, y0: Double = 0) {
    for (i, p) in panels.enumerated() {
      let px = x0 + Double(i % columns) * panelWidth
      let py = y0 + Double(i / columns) * panelHeight
      drawPanel(cr, p, x: px, y: py, w: panelWidth, h: panelHeight)
    }
  }

  func drawPanel(_ cr: OpaquePointer, _ p: LinePanel, x: Double, y: Double, w: Double, h: Double) {
    let left = x + 48
    let right = x + w - 10
    let top = y + 22
    let bottom = y + h - 36
    let xs = p.series.flatMap(\.x)
    let ys = p.series.flatMap { s in zip(s.y, s.band ?? s.y.map { _ in 0 }).flatMap { [$0 - $1, $0 + $1] } }
    let finiteY = ys.filter(\.isFinite)
    let xlo = xs.min() ?? 0
    let xhi = max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9)
    var ylo = min(0, finiteY.min() ?? 0)
    var yhi = finiteY.max() ?? 1
    if yhi <= ylo { yhi = ylo + 1 }
    yhi += (yhi - ylo) * 0.08
    ylo -= ylo < 0 ? (yhi - ylo) * 0.05 : 0
    let axes = Axes(left: left, right: right, top: top, bottom: bottom, xlo: xlo, xhi: xhi, ylo: ylo, yhi: yhi)
    func sx(_ v: Double) -> Double { axes.sx(v) }
    func sy(_ v: Double) -> Double { axes.sy(v) }
    cairo_set_source_rgb(cr, 1, 1, 1)
    cairo_rectangle(cr, x, y, w, h)
    cairo_fill(cr)
    axes.draw(cr, title: p.title, xLabel: p.xLabel, yLabel: p.yLabel, x: x, y: y, w: w, h: h)
    // Series, bands first.
    for s in p.series {
      if let band = s.band {
        cairo_set_source_rgba(cr, s.color.r, s.color.g, s.color.b, 0.2)
        for (i, (xv, yv)) in zip(s.x, s.y).enumerated() {
          if i == 0 { cairo_move_to(cr, sx(xv), sy(yv + band[i])) } else { cairo_line_to(cr, sx(xv), sy(yv + band[i])) }
        }
        for (i, (xv, yv)) in zip(s.x, s.y).enumerated().reversed() { cairo_line_to(cr, sx(xv), sy(yv - band[i])) }
        cairo_close_path(cr)
        cairo_fill(cr)
      }
    }
    for s in p.series {
      cairo_set_source_rgb(cr, s.color.r, s.color.g, s.color.b)
      cairo_set_line_width(cr, 1.6)
      for (i, (xv, yv)) in zip(s.x, s.y).enumerated() where yv.isFinite {
        if i == 0 { cairo_move_to(cr, sx(xv), sy(yv)) } else { cairo_line_to(cr, sx(xv), sy(yv)) }
      }
      cairo_stroke(cr)
    }
    // Legend.
    cairo_set_font_size(cr, 8)
    for (i, s) in p.series.enumerated() {
      let ly = top + 6 + Double(i) * 11
      cairo_set_source_rgb(cr, s.color.r, s.color.g, s.color.b)
      cairo_rectangle(cr, right - 70, ly - 6, 8, 8)
      cairo_fill(cr)
      cairo_set_source_rgb(cr, 0.2, 0.2, 0.2)
      text(cr, s.label, right - 58, ly + 1)
    }
  }
}

/// Draws `s` at (x, y) (baseline), optionally centred or right-aligned.
func text(_ cr: OpaquePointer, _ s: String, _ x: Double, _ y: Double, center: Bool = false, alignRight: Bool = false) {
  var ext = cairo_text_extents_t()
  cairo_text_extents(cr, s, &ext)
  let dx = center ? -ext.width / 2 : (alignRight ? -ext.width : 0)
  cairo_move_to(cr, x + dx, y)
  cairo_show_text(cr, s)
}

func formatTick(_ v: Double) -> String {
  if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
  return String(format: abs(v) < 0.01 ? "%.1e" : "%.2g", v)
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
