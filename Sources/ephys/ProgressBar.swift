import Foundation

/// A one-line progress display on standard error: bar, counts, rate, ETA and a status text.
/// Redraws in place on a terminal and prints occasional plain lines otherwise (logs, CI).
struct ProgressBar {
  let total: Int
  let label: String
  let unit: String
  let start: Date
  private var lastDraw = Date.distantPast
  private let interactive = isatty(2) != 0

  /// `start`: when the work began (the rate counts from there, not from the first report).
  init(total: Int, label: String, unit: String = "items", start: Date = Date()) {
    self.start = start
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
    // Rate and ETA only once there is a second of history: a first batch that finished within
    // microseconds of the clock starting would otherwise print millions of items per second.
    let measured = elapsed >= 1
    let rate = measured ? String(format: "%.0f %@/s", Double(items) / elapsed, unit) : "-- \(unit)/s"
    let eta = measured && done > 0 ? Self.clock(elapsed / Double(done) * Double(total - done)) : "-:--"
    let width = 24
    let filled = Int(Double(width) * Double(done) / Double(total))
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    let line = String(
      format: "%@ [%@] %d/%d  %@  ETA %@  %@", label, bar, done, total, rate, eta, status)
    FileHandle.standardError.write(
      ((interactive ? "\r\u{1B}[K" : "") + line + (interactive && !finished ? "" : "\n")).data(using: .utf8)!)
  }

  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d", s / 60, s % 60)
  }
}

/// The statistics' progress over units of a run or merge, shown only for large runs (from 100,000
/// units: about 0.3 ms per unit on 2 cores, so minutes), as a bar labelled "`label` statistics".
struct StatisticsProgress {
  let label: String
  private var bar: ProgressBar? = nil

  init(label: String) { self.label = label }

  /// `done` of `total` units analysed.
  mutating func update(_ done: Int, _ total: Int) {
    guard total >= 100_000 else { return }
    if bar == nil { bar = ProgressBar(total: total, label: "\(label) statistics", unit: "units", start: Date()) }
    bar!.update(done, items: done)
  }
}
