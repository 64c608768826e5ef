import Analysis
import CCairo
import Foundation
import Reports

extension ReportData {
  /// The page a paper would print as its main figure: two example units and the population tuning
  /// of the deepest headline layer, AMI medians by layer against physiology, the gain-model shares
  /// and the deepest layer's AMI histogram. Nil when the run has no attention statistics.
  func glancePage() -> ReportPage? {
    let headline = self.headline
    guard let deepest = headline.last(where: { !included(ReportData.label($0.layer, $0.stratum)).isEmpty }) else {
      return nil
    }
    let deepLabel = ReportData.label(deepest.layer, deepest.stratum)
    let ranked = included(deepLabel).sorted { units[$0].ami! < units[$1].ami! }
    // Example units: at the layer's median AMI and its 90th percentile, preferring well-fit units.
    var examples: [Int] = []
    for q in [0.5, 0.9] {
      let target = ranked[min(ranked.count - 1, Int(q * Double(ranked.count - 1)))]
      let window = ranked.filter {
        abs(units[$0].ami! - units[target].ami!) <= 0.05 && !examples.contains($0) && units[$0].q < 0.05
      }
      let best = window.max {
        (units[$0].fitUnattended?.r2 ?? -1, units[$0].meanUnattended)
          < (units[$1].fitUnattended?.r2 ?? -1, units[$1].meanUnattended)
      }
      if let k = best ?? (examples.contains(target) ? nil : target) { examples.append(k) }
    }
    let headLabels = headline.map { ReportData.label($0.layer, $0.stratum) }
    return ReportPage(title: "At a glance: example units, population tuning, AMI by layer, gain models") { cr, w, h in
      let lines = [
        context.summaryLines.first ?? "",
        "Headline units: "
          + (deepest.stratum == "rf_class=object"
            ? "receptive field on the swept object, not on the distractor" : "all recorded units of each layer")
          + String(
            format: ". %@: median AMI %+.3f [%+.3f, %+.3f], n = %d.", deepLabel as NSString, deepest.amiMedian,
            deepest.amiMedianCI.low, deepest.amiMedianCI.high, deepest.included),
      ]
      drawTextBlock(
        cr, title: context.title, lines: lines.map { String($0.prefix(150)) }, x: 36, y: 34, size: 8, monospaced: false)
      let cells = gridCells(6, columns: 3, x: 36, y: 70, w: w - 72, h: h - 96, gap: 14)
      drawLegend(
        cr,
        [
          LegendEntry(.attended, "attended", style: .pointsAndLine),
          LegendEntry(.unattended, "unattended", style: .pointsAndLine),
        ], x: w - 250, y: 34)
      for (i, k) in examples.enumerated() {
        let c = cells[i]
        drawLinePanel(cr, unitPanel(k), x: c.x, y: c.y + 8, w: c.w, h: c.h - 8)
      }
      if let p = populationPanel(deepLabel) {
        let c = cells[2]
        drawLinePanel(cr, p, x: c.x, y: c.y + 8, w: c.w, h: c.h - 8)
      }
      let c3 = cells[3]
      drawBarsWithCI(
        cr, labels: headLabels, values: headline.map(\.amiMedian),
        ci: headline.map { ($0.amiMedianCI.low, $0.amiMedianCI.high) }, color: .attended,
        title: "median AMI (95% CI) by layer", yLabel: "AMI",
        bands: physiologyMedians.map { ($0.value, $0.label.components(separatedBy: " (").first ?? $0.label) },
        x: c3.x, y: c3.y, w: c3.w, h: c3.h)
      let c4 = cells[4]
      drawStackedBars(
        cr, labels: headLabels, shares: headline.map(gainShares), parts: ReportData.shareParts,
        title: "gain-model verdicts", yLabel: "fraction of units", x: c4.x, y: c4.y, w: c4.w, h: c4.h)
      let c5 = cells[5]
      drawHistogram(cr, amiHistogram(deepLabel, summary: deepest), x: c5.x, y: c5.y, w: c5.w, h: c5.h)
    }
  }
}

/// Writes the multi-page PDF report of a run or table (pages listed in docs/analysis.md); returns
/// each page's drawn elements for the layout check.
@discardableResult
func writeReport(
  _ path: String, obs: [UnitObservations], units: [UnitResult], layers: [LayerSummary], context: ReportContext
) throws -> [[DrawnElement]] {
  let data = ReportData(obs: obs, units: units, layers: layers, context: context)
  var pages: [ReportPage] = []
  if let montage = data.montagePage() { pages.append(montage) }
  if !data.perLayer.isEmpty {
    pages += data.exampleUnitPages()
    pages += data.amiPages()
    pages.append(data.layerPage())
    pages += data.populationPages()
    pages += data.scatterPages()
    pages += data.effectPages()
    pages += data.heatMapPages()
  }
  if let passes = data.passPage() { pages.append(passes) }
  pages += data.gatingPages()
  pages += data.measureReportPages()
  return try renderReport(
    path, title: context.title, glance: data.glancePage(), summary: data.summaryText(), pages: pages)
}
