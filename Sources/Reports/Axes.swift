import CCairo
import Foundation

/// How an axis maps values to the page: linear, or logarithmic (base 10 for stimulus magnitudes
/// such as contrast and spatial frequency, base 2 for ratios).
public enum AxisScale: Sendable, Equatable {
  case linear, log10, log2

  func forward(_ v: Double) -> Double {
    switch self {
    case .linear: return v
    case .log10: return Foundation.log10(v)
    case .log2: return Foundation.log2(v)
    }
  }

  /// Whether `v` can be drawn on this scale (positive for log axes).
  public func admits(_ v: Double) -> Bool { v.isFinite && (self == .linear || v > 0) }
}

/// An axis: its label (with units), scale and, optionally, fixed ticks (else "nice" ones).
public struct AxisSpec: Sendable {
  public var label: String
  public var scale: AxisScale
  public var ticks: [Double]?
  /// Appended to tick labels ("°" for degrees).
  public var suffix: String
  public init(_ label: String, scale: AxisScale = .linear, ticks: [Double]? = nil, suffix: String = "") {
    self.label = label
    self.scale = scale
    self.ticks = ticks
    self.suffix = suffix
  }

  /// The axis of a stimulus parameter in its own units: orientation in degrees (ticks every 45°),
  /// contrast and spatial frequency on log axes, positions and sizes in pixels.
  public static func stimulus(_ parameter: String, values: [Double] = []) -> AxisSpec {
    switch parameter {
    case "orientation", "direction":
      let hi = (values.max() ?? 180) > 180 ? 360.0 : 180
      return AxisSpec("\(parameter) (deg)", ticks: Array(stride(from: 0, through: hi, by: 45)), suffix: "°")
    case "contrast":
      return AxisSpec("contrast", scale: values.allSatisfy { $0 > 0 } ? .log10 : .linear)
    case "frequency":
      return AxisSpec("spatial frequency (cycles/pixel)", scale: values.allSatisfy { $0 > 0 } ? .log10 : .linear)
    case "phase": return AxisSpec("phase (deg)", ticks: Array(stride(from: 0, through: 360, by: 90)), suffix: "°")
    case "x", "y": return AxisSpec("\(parameter) position (pixels)")
    case "width", "length", "size", "aperture", "sigma": return AxisSpec("\(parameter) (pixels)")
    default: return AxisSpec(parameter)
    }
  }

  /// Tick positions (data units) for the range [lo, hi].
  func tickValues(_ lo: Double, _ hi: Double) -> [Double] {
    if let ticks { return ticks.filter { $0 >= lo - 1e-9 * abs(hi - lo) && $0 <= hi + 1e-9 * abs(hi - lo) } }
    switch scale {
    case .linear where suffix == "°" && hi - lo >= 60:
      // Degrees in steps of 15, 30, 45 or 90, at most 7 ticks.
      let step = [15.0, 30, 45, 90, 180].first { (hi - lo) / $0 <= 6 } ?? 180
      return stride(from: ceil(lo / step) * step, through: hi + 1e-9, by: step).map { $0 }
    case .linear: return niceTicks(lo, hi)
    case .log10, .log2:
      guard lo > 0, hi > lo else { return [] }
      let base = scale == .log10 ? 10.0 : 2.0
      let a = Int(floor(scale.forward(lo) + 1e-9))
      let b = Int(ceil(scale.forward(hi) - 1e-9))
      var steps = Array(a...max(a, b))
      if steps.count > 7 { steps = steps.filter { $0 % ((steps.count + 5) / 6) == 0 } }
      var out = steps.map { pow(base, Double($0)) }.filter { $0 >= lo * (1 - 1e-9) && $0 <= hi * (1 + 1e-9) }
      // Within one decade, 2 and 5 times the decade make the axis readable.
      if scale == .log10 && out.count < 3 {
        var dense: [Double] = []
        for e in steps {
          for m in [1.0, 2, 5] {
            let t = m * pow(10, Double(e))
            if t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9) { dense.append(t) }
          }
        }
        out = dense
      }
      return out
    }
  }

  func format(_ v: Double) -> String {
    if scale == .log2 && v < 1 && v > 0 {
      let k = -Foundation.log2(v)
      if k == k.rounded() { return "1/\(Int(pow(2, k)))" }
    }
    return formatTick(v) + suffix
  }
}

/// A range for values, from robust quantiles: [q(low), q(high)] of the finite values admitted by
/// `scale`, widened a little; `clipped` counts values outside it (not drawn, the count printed).
public func robustRange(_ values: [Double], scale: AxisScale = .linear, low: Double = 0.005, high: Double = 0.995)
  -> (lo: Double, hi: Double, clipped: Int)
{
  let v = values.filter(scale.admits).sorted()
  guard let first = v.first, let last = v.last else { return (scale == .linear ? 0 : 0.5, scale == .linear ? 1 : 2, 0) }
  func q(_ p: Double) -> Double { v[min(v.count - 1, max(0, Int((p * Double(v.count - 1)).rounded())))] }
  var lo = v.count >= 50 ? q(low) : first
  var hi = v.count >= 50 ? q(high) : last
  if scale == .linear {
    if hi <= lo { (lo, hi) = (lo - 0.5, hi + 0.5) }
    let pad = (hi - lo) * 0.04
    lo -= pad
    hi += pad
  } else {
    if hi <= lo { (lo, hi) = (lo / 2, hi * 2) }
    lo /= 1.1
    hi *= 1.1
  }
  let clipped = values.count - values.filter { scale.admits($0) && $0 >= lo && $0 <= hi }.count
  return (lo, hi, clipped)
}

/// Axes for a panel in a rectangle: data ranges, scales and the mapping to page coordinates.
struct Axes {
  var left, right, top, bottom: Double
  var xlo, xhi, ylo, yhi: Double
  var xScale: AxisScale = .linear
  var yScale: AxisScale = .linear

  func sx(_ v: Double) -> Double {
    let (a, b, t) = (xScale.forward(xlo), xScale.forward(xhi), xScale.forward(v))
    return left + (t - a) / (b - a) * (right - left)
  }
  func sy(_ v: Double) -> Double {
    let (a, b, t) = (yScale.forward(ylo), yScale.forward(yhi), yScale.forward(v))
    return bottom - (t - a) / (b - a) * (bottom - top)
  }
  /// Whether a point lies within the axes' ranges (drawable).
  func contains(_ x: Double, _ y: Double) -> Bool {
    xScale.admits(x) && yScale.admits(y) && x >= min(xlo, xhi) && x <= max(xlo, xhi) && y >= min(ylo, yhi)
      && y <= max(ylo, yhi)
  }

  /// A panel's plot area inside (x, y, w, h): room for the title and `headerLines` annotation lines
  /// above, tick labels and the axis label below and left.
  static func plotArea(x: Double, y: Double, w: Double, h: Double, headerLines: Int = 0, rightMargin: Double = 10)
    -> (left: Double, right: Double, top: Double, bottom: Double)
  {
    (x + 50, x + w - rightMargin, y + 22 + 10 * Double(headerLines), y + h - 30)
  }

  /// Draws the frame, ticks, tick labels, axis labels and the title.
  func draw(
    _ cr: OpaquePointer, title: String, x xAxis: AxisSpec?, y yAxis: AxisSpec, frame: (x: Double, y: Double, w: Double)
  ) {
    cairo_set_source_rgb(cr, 0, 0, 0)
    cairo_set_line_width(cr, 0.8)
    cairo_move_to(cr, left, top)
    cairo_line_to(cr, left, bottom)
    cairo_line_to(cr, right, bottom)
    cairo_stroke(cr)
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, 7.5)
    if let xAxis {
      var lastRight = -Double.infinity
      for t in xAxis.tickValues(xlo, xhi) {
        cairo_move_to(cr, sx(t), bottom)
        cairo_line_to(cr, sx(t), bottom + 3)
        cairo_stroke(cr)
        // Skip a label that would run into the previous one.
        let label = xAxis.format(t)
        let width = textWidth(cr, label)
        guard sx(t) - width / 2 > lastRight + 3 else { continue }
        lastRight = sx(t) + width / 2
        text(cr, label, sx(t), bottom + 11, center: true)
      }
      cairo_set_font_size(cr, 8.5)
      text(cr, fitted(cr, xAxis.label, right - left), (left + right) / 2, bottom + 23, center: true)
    }
    cairo_set_font_size(cr, 7.5)
    var lastTop = Double.infinity
    for t in yAxis.tickValues(ylo, yhi) {
      cairo_move_to(cr, left - 3, sy(t))
      cairo_line_to(cr, left, sy(t))
      cairo_stroke(cr)
      guard sy(t) + 4 < lastTop - 1 else { continue }
      lastTop = sy(t) - 4
      text(cr, yAxis.format(t), left - 5, sy(t) + 3, alignRight: true)
    }
    cairo_set_font_size(cr, 8.5)
    rotatedText(cr, fitted(cr, yAxis.label, bottom - top), x: frame.x + 10, y: (top + bottom) / 2)
    cairo_set_font_size(cr, 9.5)
    text(cr, fitted(cr, title, frame.w - 4), frame.x + frame.w / 2, frame.y + 12, center: true)
  }
}

/// Draws `s` rotated a quarter turn counter-clockwise, centred on (x, y) (a y-axis label).
func rotatedText(_ cr: OpaquePointer, _ s: String, x: Double, y: Double) {
  cairo_save(cr)
  cairo_translate(cr, x, y)
  cairo_rotate(cr, -Double.pi / 2)
  text(cr, s, 0, 0, center: true)
  cairo_restore(cr)
}

/// The width of `s` in the current font, points.
func textWidth(_ cr: OpaquePointer, _ s: String) -> Double {
  var ext = cairo_text_extents_t()
  cairo_text_extents(cr, s, &ext)
  return ext.x_advance
}

/// `s`, shortened with an ellipsis until it fits `width` points in the current font.
func fitted(_ cr: OpaquePointer, _ s: String, _ width: Double) -> String {
  guard textWidth(cr, s) > width, width > 0 else { return s }
  var t = s
  while !t.isEmpty && textWidth(cr, t + "…") > width { t.removeLast() }
  return t + "…"
}
