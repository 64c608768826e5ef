import Analysis
import CCairo
import Foundation
import Reports
import Stimuli

/// Colours of the two value kinds (tuning: blue, gradient: red) and of applied layers.
private func valueColor(_ k: AttentionSource) -> Color {
  switch k {
  case .tuning: return .attended
  case .gradient: return .unattended
  case .spatial: return Color(0.17, 0.63, 0.17)
  }
}

/// "tuning values", "gradient values", "spatial attention".
private func sourceLabel(_ k: AttentionSource) -> String {
  k == .spatial ? "spatial attention" : "\(k.rawValue) values"
}
private let layerPalette: [Color] = [
  Color(0.12, 0.47, 0.71), Color(1.0, 0.5, 0.05), Color(0.17, 0.63, 0.17), Color(0.84, 0.15, 0.16),
  Color(0.58, 0.4, 0.74), Color(0.55, 0.34, 0.29), Color(0.89, 0.47, 0.76), Color(0.5, 0.5, 0.5),
]

/// The study's report: contents and summary, then performance vs beta per site, performance change
/// per layer (tuning vs gradient, merged and array), criterion and d' per layer, the gain-model test.
func writeFeatureStudyReport(_ r: FeatureStudyResult, to path: String) throws {
  let sites = r.layers + ["all"]
  let siteAxis = AxisSpec(
    "attention site (1-\(r.layers.count): layer, \(sites.count): all)", ticks: sites.indices.map { Double($0 + 1) })
  func summary(_ kind: CategoryImageKind, _ v: AttentionSource, _ site: String) -> DetectionSummary? {
    r.summaries.first { $0.kind == kind && $0.values == v && $0.site == site }
  }
  var lines = [
    "Model \(r.config.model) (\(r.config.weights)); images: \(r.imageSource).",
    "Detectors on \(r.config.detectorLayer): \(r.detectorsTrained ? "trained for this study" : r.config.detectors ?? ""); balanced accuracy on single held-out images: "
      + r.detectorAccuracy.map { String(format: "%.2f", $0) }.joined(separator: " "),
    "Betas: " + r.config.betas.map { csvNumber($0) }.joined(separator: ", ") + ".",
    "",
  ]
  lines += featureStudyDefinitions(r).flatMap { wrapText($0, width: 770, size: 8) }
  lines.append("")
  lines.append(
    "Performance change, percentage points, mean +- SEM over \(r.categories.count) categories (cross-validated in brackets):"
  )
  lines.append(
    "site".padding(toLength: 26, withPad: " ", startingAt: 0)
      + "merged tuning          merged gradient        array tuning           array gradient         array spatial")
  for (i, site) in sites.enumerated() {
    var line = (i < r.layers.count ? "\(site) (\(r.layerDescriptions[i]))" : "all (beta / 10)")
      .padding(toLength: 26, withPad: " ", startingAt: 0)
    for kind in CategoryImageKind.allCases {
      for v in AttentionSource.allCases {
        guard let s = summary(kind, v, site) else { continue }
        line += String(
          format: "%5.1f±%.1f [%+5.1f±%.1f] ", s.change.mean, s.change.sem, s.crossValidatedChange.mean,
          s.crossValidatedChange.sem)
      }
    }
    lines.append(line)
  }

  var pages: [ReportPage] = []
  // 1. Performance vs beta per site.
  let betaAxis = AxisSpec("beta (all layers: beta / 10 each)", ticks: r.config.betas)
  let perfValues = r.summaries.flatMap { s in zip(s.meanPerformance, s.semPerformance).flatMap { [$0 - $1, $0 + $1] } }
    .filter(\.isFinite)
  let perfRange = (max(0, (perfValues.min() ?? 0.5) - 0.02), min(1, (perfValues.max() ?? 1) + 0.02))
  let perfPanels = sites.map { site in
    LinePanel(
      title: site == "all" ? "all layers" : site, x: betaAxis, yLabel: "performance (TP + TN) / 2",
      series: CategoryImageKind.allCases.flatMap { kind in
        AttentionSource.allCases.compactMap { v -> Series? in
          guard let s = summary(kind, v, site) else { return nil }
          return Series(
            x: s.betas, y: s.meanPerformance, color: valueColor(v), label: "\(kind.rawValue), \(sourceLabel(v))",
            errors: s.semPerformance, style: .pointsAndLine, dashed: kind == .array)
        }
      }, yRange: perfRange)
  }
  let legend = CategoryImageKind.allCases.flatMap { kind in
    AttentionSource.allCases.filter { kind == .array || $0 != .spatial }.map {
      LegendEntry(valueColor($0), "\(kind.rawValue), \(sourceLabel($0)) (\(kind == .array ? "dashed" : "solid"))")
    }
  }
  for (i, part) in balancedPages(perfPanels, perPage: 8).enumerated() {
    pages.append(
      ReportPage(title: "Performance vs beta per attention site" + (perfPanels.count > 8 ? " (\(i + 1))" : "")) {
        cr, w, h in
        drawTextBlock(
          cr, title: "Detection performance vs attention strength (mean +- SEM over categories)", lines: [], x: 36,
          y: 36)
        drawLegend(cr, legend, x: 36, y: 52)
        let shape = gridShape(part.count)
        for (cell, p) in zip(gridCells(part.count, columns: shape.columns, x: 36, y: 64, w: w - 72, h: h - 98), part) {
          drawLinePanel(cr, p, x: cell.x, y: cell.y, w: cell.w, h: cell.h)
        }
      })
  }
  // 2. Performance change per layer.
  let x = sites.indices.map { Double($0 + 1) }
  var changePanels: [LinePanel] = []
  for crossValidated in [false, true] {
    for kind in CategoryImageKind.allCases {
      changePanels.append(
        LinePanel(
          title: "\(kind.rawValue) images" + (crossValidated ? ", cross-validated" : ", max over beta"), x: siteAxis,
          yLabel: "performance change (pp)",
          series: AttentionSource.allCases.filter { v in summary(kind, v, "all") != nil }.map { v in
            let ss = sites.map { summary(kind, v, $0) }
            return Series(
              x: x, y: ss.map { (crossValidated ? $0?.crossValidatedChange.mean : $0?.change.mean) ?? .nan },
              color: valueColor(v), label: sourceLabel(v),
              errors: ss.map { (crossValidated ? $0?.crossValidatedChange.sem : $0?.change.sem) ?? .nan },
              style: .pointsAndLine)
          }))
    }
  }
  pages.append(
    fourPanelPage(
      "Performance change per layer: tuning vs gradient values",
      heading: "Performance change per attention site (mean +- SEM over categories, percentage points)",
      lines: [
        "Top: the reference's max over beta (>= 0 by construction). Bottom: beta chosen on half the test images, scored on the other half."
      ],
      legend: AttentionSource.allCases.map { LegendEntry(valueColor($0), sourceLabel($0)) },
      panels: changePanels))
  // 3. Criterion and d'.
  var sdPanels: [LinePanel] = []
  for measure in ["criterion c", "d'"] {
    for kind in CategoryImageKind.allCases {
      func pick(_ s: DetectionSummary?, attended: Bool) -> Double {
        guard let s else { return .nan }
        let t = attended ? s.attended : s.baseline
        return measure == "d'" ? t.dPrime : t.criterion
      }
      var series = [
        Series(
          x: x, y: sites.map { pick(summary(kind, .tuning, $0), attended: false) }, color: .grey,
          label: "no attention (beta 0)", style: .pointsAndLine)
      ]
      series += AttentionSource.allCases.map { v in
        Series(
          x: x, y: sites.map { pick(summary(kind, v, $0), attended: true) }, color: valueColor(v),
          label: sourceLabel(v) + ", best beta", style: .pointsAndLine)
      }
      sdPanels.append(
        LinePanel(title: "\(measure), \(kind.rawValue) images", x: siteAxis, yLabel: measure, series: series))
    }
  }
  pages.append(
    fourPanelPage(
      "Criterion and sensitivity per layer",
      heading: "Criterion c and sensitivity d' of the category-mean hit and false-alarm rates",
      lines: [
        "c > 0: conservative (says 'absent' more often); the best beta is the one with the best mean performance at each site."
      ],
      legend: sdPanels[0].series.map { LegendEntry($0.color, $0.label) }, panels: sdPanels))
  // 4. Gain-model test.
  let layerAxis = AxisSpec("recorded layer (1-\(r.layers.count))", ticks: r.layers.indices.map { Double($0 + 1) })
  var gainPanels: [LinePanel] = []
  for (measure, label) in [("slope", "median slope (ratio per rank)"), ("intercept", "median intercept - 1")] {
    for v in FeatureValueKind.allCases {
      gainPanels.append(
        LinePanel(
          title: "\(v.rawValue) values: \(measure)", x: layerAxis, yLabel: label,
          series: r.layers.enumerated().map { a, applied in
            let rows = r.layers.map { rec in
              r.gainTest.rows.first { $0.values == v && $0.applied == applied && $0.recorded == rec }
            }
            // Layers below the applied one are untouched by attention: left blank, not drawn as 0.
            return Series(
              x: r.layers.indices.map { Double($0 + 1) },
              y: rows.enumerated().map { i, row in
                i < a ? .nan : (measure == "slope" ? row?.medianSlope : row?.medianIntercept) ?? .nan
              },
              color: layerPalette[a % layerPalette.count], label: "applied at \(applied)", style: .pointsAndLine)
          }))
    }
  }
  pages.append(
    fourPanelPage(
      "Feature-similarity gain test: activity ratio vs tuning rank",
      heading:
        "Feature-similarity gain test (attention at one layer, beta \(csvNumber(r.gainTest.beta)); every layer recorded)",
      lines: [
        "Per map, attended / unattended mean response against the attended category's rank in the map's tuning (0 = preferred); negative slopes: gain falls from preferred to anti-preferred."
      ],
      legend: r.layers.enumerated().map { LegendEntry(layerPalette[$0 % layerPalette.count], "applied at \($1)") },
      panels: gainPanels))
  _ = try renderReport(path, title: "Feature-based attention study", glance: nil, summary: lines, pages: pages)
}

/// A page of four panels in a 2x2 grid under a heading, explanatory lines and one legend.
private func fourPanelPage(
  _ title: String, heading: String, lines: [String], legend: [LegendEntry], panels: [LinePanel]
) -> ReportPage {
  ReportPage(title: title) { cr, w, h in
    let top = drawTextBlock(cr, title: heading, lines: lines, x: 36, y: 36)
    drawLegend(cr, legend, x: 36, y: top + 8)
    for (cell, p) in zip(gridCells(panels.count, columns: 2, x: 36, y: top + 20, w: w - 72, h: h - 54 - top), panels) {
      drawLinePanel(cr, p, x: cell.x, y: cell.y, w: cell.w, h: cell.h)
    }
  }
}
