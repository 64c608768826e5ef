import CCairo
import Foundation

/// A rectangle in page coordinates (points, origin top-left).
public struct Box: Sendable, Equatable, CustomStringConvertible {
  public var x, y, w, h: Double
  public init(x: Double, y: Double, w: Double, h: Double) {
    self.x = x
    self.y = y
    self.w = w
    self.h = h
  }
  /// Whether the interiors overlap by more than `slack` points in both directions.
  public func overlaps(_ o: Box, slack: Double = 0.5) -> Bool {
    min(x + w, o.x + o.w) - max(x, o.x) > slack && min(y + h, o.y + o.h) - max(y, o.y) > slack
  }
  /// Whether the box lies inside `o`, give or take `slack` points.
  public func inside(_ o: Box, slack: Double = 0.5) -> Bool {
    x >= o.x - slack && y >= o.y - slack && x + w <= o.x + o.w + slack && y + h <= o.y + o.h + slack
  }
  public var description: String { String(format: "(%.1f, %.1f, %.1f x %.1f)", x, y, w, h) }
}

/// What a drawn element is, for the layout check: data marks (bars, points, curve vertices, image
/// cells), text (titles, labels, ticks, annotations) and legend entries.
public enum ElementKind: String, Sendable {
  case data, text, legend
}

/// One element a figure drew, with its bounding box on the page.
public struct DrawnElement: Sendable {
  public var kind: ElementKind
  public var box: Box
  /// The text, or what the mark is ("bar", "point").
  public var label: String
}

/// Collects the bounding boxes of what is drawn on Cairo contexts that are being recorded (the
/// PDF pages of a report). Drawing code calls `record`; contexts not being recorded cost nothing.
enum LayoutRecorder {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var logs: [UInt: [DrawnElement]] = [:]

  static func begin(_ cr: OpaquePointer) {
    lock.lock()
    logs[UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(cr)))] = []
    lock.unlock()
  }

  static func end(_ cr: OpaquePointer) -> [DrawnElement] {
    lock.lock()
    defer { lock.unlock() }
    return logs.removeValue(forKey: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(cr)))) ?? []
  }

  /// Records the user-space rectangle (x, y, w, h), mapped through the context's current transform.
  static func record(
    _ cr: OpaquePointer, _ kind: ElementKind, _ label: String, x: Double, y: Double, w: Double, h: Double
  ) {
    let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(cr)))
    lock.lock()
    defer { lock.unlock() }
    guard logs[key] != nil else { return }
    var xs: [Double] = []
    var ys: [Double] = []
    for (cx, cy) in [(x, y), (x + w, y), (x, y + h), (x + w, y + h)] {
      var dx = cx
      var dy = cy
      cairo_user_to_device(cr, &dx, &dy)
      xs.append(dx)
      ys.append(dy)
    }
    let box = Box(x: xs.min()!, y: ys.min()!, w: xs.max()! - xs.min()!, h: ys.max()! - ys.min()!)
    logs[key]!.append(DrawnElement(kind: kind, box: box, label: label))
  }
}

/// Problems of a page's layout: text or legend outside the page (less `margin`), text or legends
/// overlapping data marks, and text overlapping other text. One line per problem.
public func layoutProblems(_ elements: [DrawnElement], width: Double, height: Double, margin: Double = 4) -> [String] {
  var problems: [String] = []
  let page = Box(x: margin, y: margin, w: width - 2 * margin, h: height - 2 * margin)
  let texts = elements.filter { $0.kind != .data }
  let marks = elements.filter { $0.kind == .data }
  for t in texts where !t.box.inside(page) {
    problems.append("\(t.kind.rawValue) '\(t.label)' at \(t.box) leaves the page")
  }
  for t in texts {
    if let m = marks.first(where: { t.box.overlaps($0.box) }) {
      problems.append("\(t.kind.rawValue) '\(t.label)' at \(t.box) overlaps a data mark (\(m.label) at \(m.box))")
    }
  }
  for i in texts.indices {
    for j in texts.indices where j > i && texts[i].box.overlaps(texts[j].box) {
      problems.append("'\(texts[i].label)' at \(texts[i].box) overlaps '\(texts[j].label)' at \(texts[j].box)")
    }
  }
  return problems
}
