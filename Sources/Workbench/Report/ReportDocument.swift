import Analysis
import CCairo
import Foundation
import ModelInterface
import Reports

/// One page of a report: its title (listed in the contents) and how it is drawn on an A4 landscape
/// page (points).
struct ReportPage {
  var title: String
  var draw: (OpaquePointer, Double, Double) -> Void
}

/// What every page of a run's report draws from: the observations and results per unit, the layer
/// summaries, and the run's context; units grouped per layer and receptive-field class ("stratum").
struct ReportData {
  var obs: [UnitObservations]
  var units: [UnitResult]
  var layers: [LayerSummary]
  var context: ReportContext
  /// Layer summaries of the per-layer pages: each layer's headline responses (its last pass).
  var perLayer: [LayerSummary]
  /// "conv2 [rf_class=object]" labels of `perLayer`, and the units of each.
  var labels: [String]
  var unitsByLabel: [String: [Int]]

  init(obs: [UnitObservations], units: [UnitResult], layers: [LayerSummary], context: ReportContext) {
    self.obs = obs
    self.units = units
    self.layers = layers
    self.context = context
    perLayer = layers.filter { splitPassLayerName($0.layer).pass == nil }
    labels = perLayer.map { ReportData.label($0.layer, $0.stratum) }
    unitsByLabel = Dictionary(grouping: units.indices, by: { ReportData.label(units[$0].layer, units[$0].stratum) })
  }

  static func label(_ layer: String, _ stratum: String) -> String {
    stratum.isEmpty ? layer : "\(layer) \(stratum.replacingOccurrences(of: "rf_class=", with: "rf:"))"
  }

  /// The included units (with an AMI) of a layer label.
  func included(_ label: String) -> [Int] {
    (unitsByLabel[label] ?? []).filter { units[$0].excluded == nil && units[$0].ami != nil }
  }

  /// The headline summaries: per layer the stratum a physiologist would report (receptive field on
  /// the swept object), or the only one.
  var headline: [LayerSummary] {
    var out: [LayerSummary] = []
    var seen: Set<String> = []
    for l in perLayer where !seen.contains(l.layer) {
      let mine = perLayer.filter { $0.layer == l.layer }
      out.append(mine.first { $0.stratum == "rf_class=object" } ?? mine.first { $0.stratum.isEmpty } ?? mine[0])
      seen.insert(l.layer)
    }
    return out
  }

  /// The tuning axis of the run, in its own units.
  var axis: AxisSpec {
    AxisSpec.stimulus(context.axisName, values: obs.first.map { $0.conditions.compactMap(Double.init) } ?? [])
  }
}

/// Renders a report: the at-a-glance page first, then the contents (every page with its number)
/// with the run summary below it (continued on further pages when long), then `pages`; each page
/// carries a footer with its number. Returns every page's drawn elements (for the layout check).
func renderReport(
  _ path: String, title: String, glance: ReportPage?, summary: [String], pages: [ReportPage]
) throws -> [[DrawnElement]] {
  let doc = try PDFDocument(path: path)
  let folder = (path as NSString).deletingLastPathComponent
  // Page images of an earlier, longer report must not outlive it.
  for f in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
  where f.hasPrefix("figure_") && f.hasSuffix(".png") {
    try? FileManager.default.removeItem(atPath: folder + "/" + f)
  }
  doc.figurePrefix = folder + "/figure_"
  let height = doc.height
  let front = glance.map { [$0] } ?? []
  let line = summaryFontSize + 3.5
  // Contents entries: the front pages, this page, continuation pages, then `pages`.
  let entryCount = front.count + 1 + pages.count + 2
  let contentRows = (entryCount + 1) / 2
  let summaryTop = 40 + 20 + Double(contentRows) * 12 + 18
  let firstLines = max(0, Int((height - 30 - summaryTop) / line))
  let rest = summary.count > firstLines ? Array(summary.dropFirst(firstLines)) : []
  let perPage = Int((height - 40 - 30 - 20) / line)
  let continuations = chunked(rest, perPage: perPage)
  let contentsNumber = front.count + 1
  let total = contentsNumber + continuations.count + pages.count
  func footer(_ cr: OpaquePointer, _ w: Double, _ h: Double, _ n: Int) {
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    cairo_set_font_size(cr, 7.5)
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4)
    let s = "\(title) — page \(n) of \(total)"
    var ext = cairo_text_extents_t()
    cairo_text_extents(cr, s, &ext)
    cairo_move_to(cr, w - 36 - ext.x_advance, h - 16)
    cairo_show_text(cr, s)
  }
  var entries: [String] = []
  for (i, p) in front.enumerated() { entries.append("\(i + 1)  \(p.title)") }
  entries.append("\(contentsNumber)  Contents; summary: run, headline numbers, table per layer and class")
  for i in continuations.indices { entries.append("\(contentsNumber + 1 + i)  Summary (continued)") }
  for (i, p) in pages.enumerated() { entries.append("\(contentsNumber + continuations.count + 1 + i)  \(p.title)") }
  var number = 0
  func drawPages(_ list: [ReportPage]) {
    for p in list {
      number += 1
      let n = number
      doc.page { cr, w, h in
        p.draw(cr, w, h)
        footer(cr, w, h, n)
      }
    }
  }
  drawPages(front)
  number += 1
  doc.page { cr, w, h in
    let half = (entries.count + 1) / 2
    drawTextBlock(cr, title: "Contents", lines: Array(entries.prefix(half)), x: 36, y: 40, size: 8, monospaced: false)
    drawTextBlock(
      cr, title: "", lines: Array(entries.dropFirst(half)), x: w / 2 + 6, y: 40 + 20, size: 8, monospaced: false)
    drawTextBlock(
      cr, title: "Summary", lines: Array(summary.prefix(firstLines)), x: 36, y: summaryTop, size: summaryFontSize)
    footer(cr, w, h, contentsNumber)
  }
  for part in continuations {
    number += 1
    let n = number
    doc.page { cr, w, h in
      drawTextBlock(cr, title: "Summary (continued)", lines: part, x: 36, y: 40, size: summaryFontSize)
      footer(cr, w, h, n)
    }
  }
  drawPages(pages)
  try doc.finish()
  return doc.layouts
}

/// Columns and rows of a grid for `n` panels on a landscape page (at most `maxColumns` wide).
func gridShape(_ n: Int, maxColumns: Int = 4) -> (columns: Int, rows: Int) {
  let wanted = n <= 2 ? max(1, n) : n <= 4 ? 2 : n <= 6 || n == 9 ? 3 : 4
  let c = max(1, min(wanted, maxColumns))
  return (c, (n + c - 1) / c)
}

/// `items` in consecutive pieces of at most `perPage`.
func chunked<T>(_ items: [T], perPage: Int) -> [[T]] {
  stride(from: 0, to: items.count, by: max(1, perPage)).map { Array(items[$0..<min(items.count, $0 + perPage)]) }
}

/// `items` over as few pages as `perPage` allows, as evenly as possible (7 in fours: 4 and 3), so
/// that no page is left nearly empty.
func balancedPages<T>(_ items: [T], perPage: Int) -> [[T]] {
  let pages = (items.count + max(1, perPage) - 1) / max(1, perPage)
  guard pages > 1 else { return items.isEmpty ? [] : [items] }
  return chunked(items, perPage: (items.count + pages - 1) / pages)
}

/// The panel rectangles of a grid filling (x, y, w, h).
func gridCells(_ n: Int, columns: Int, x: Double, y: Double, w: Double, h: Double, gap: Double = 10) -> [(
  x: Double, y: Double, w: Double, h: Double
)] {
  let rows = (n + columns - 1) / max(1, columns)
  let cw = w / Double(max(1, columns))
  let ch = h / Double(max(1, rows))
  return (0..<n).map { i in
    (x + Double(i % columns) * cw, y + Double(i / columns) * ch, cw - gap, ch - gap)
  }
}
