import Foundation

/// A one-line progress display on standard error: bar, counts, rate, ETA and a status text.
/// Redraws in place on a terminal and prints occasional plain lines otherwise (logs, CI).
struct ProgressBar {
  let total: Int
  let label: String
  let unit: String
  let start = Date()
  private var lastDraw = Date.distantPast
  private let interactive = isatty(2) != 0

  init(total: Int, label: String, unit: String = "items") {
    self.total = max(1, total)
    self.label = label
    self.unit = unit
  }

  /// Shows `done` of `total` finished, with `items` processed so far for the rate.
  mutating func update(_ done: Int, items: Int, status: String = "") {
    let now = Date()
    let finished = done >= total
    guard finished || now.timeIntervalSince(lastDraw) > (interactive ? 0.1 : 10) else { return }
    lastDraw = now
    let elapsed = now.timeIntervalSince(start)
    let rate = elapsed > 0 ? Double(items) / elapsed : 0
    let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
    let width = 24
    let filled = Int(Double(width) * Double(done) / Double(total))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let line = String(
      format: "%@ [%@] %d/%d  %.0f %@/s  ETA %@  %@", label, bar, done, total, rate, unit, Self.clock(eta), status)
    FileHandle.standardError.write(
      ((interactive ? "\r\u{1B}[K" : "") + line + (interactive && !finished ? "" : "\n")).data(using: .utf8)!)
  }

  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
  }
}
