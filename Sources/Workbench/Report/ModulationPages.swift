import Analysis
import CCairo
import Foundation
import ModelInterface
import Reports

/// Physiology medians the layer-wise AMI medians are drawn against (McAdams & Maunsell 1999: median
/// response increase with attention, as AMI).
let physiologyMedians: [(value: Double, label: String)] = [
  (0.038, "V1 median +8% (McAdams & Maunsell 1999)"), (0.115, "V4 median +26%"),
]

extension ReportData {
  /// The AMI histogram of a layer label: significant units (q < 0.05) solid, others light; the
  /// median with its 95% bootstrap CI marked.
  func amiHistogram(_ label: String, summary l: LayerSummary) -> Histogram {
    let ks = included(label)
    var h = Histogram(
      values: ks.map { units[$0].ami! }, lo: -1, hi: 1, bins: 40, x: AxisSpec("AMI = (A - U) / (A + U)"),
      title: String(
        format: "%@: %.0f%% below 0", label,
        ks.isEmpty ? 0 : 100 * Double(ks.filter { units[$0].ami! < 0 }.count) / Double(ks.count)))
    h.highlighted = ks.map { units[$0].q < 0.05 }
    h.markers = [
      Marker(
        l.amiMedian, ci: (l.amiMedianCI.low, l.amiMedianCI.high), color: .black,
        label: String(
          format: "median %+.3f [%+.3f, %+.3f] (95%% CI)", l.amiMedian, l.amiMedianCI.low, l.amiMedianCI.high)
      )
    ]
    return h
  }

  /// AMI histograms of every layer and stratum, up to 8 a page.
  func amiPages() -> [ReportPage] {
    let items = Array(zip(labels, perLayer)).filter { !included($0.0).isEmpty }
    return balancedPages(items, perPage: 8).enumerated().map { i, part in
      ReportPage(title: "Attention modulation index per layer and class" + (items.count > 8 ? " (\(i + 1))" : "")) {
        cr, w, h in
        drawTextBlock(
          cr, title: "Attention modulation index (solid: q < 0.05 after Benjamini-Hochberg)", lines: [], x: 36, y: 36)
        let shape = gridShape(part.count)
        for (cell, (label, l)) in zip(
          gridCells(part.count, columns: shape.columns, x: 36, y: 50, w: w - 72, h: h - 84), part)
        {
          drawHistogram(cr, amiHistogram(label, summary: l), x: cell.x, y: cell.y, w: cell.w, h: cell.h)
        }
      }
    }
  }

  /// Gain-model shares per layer: multiplicative, additive, affine among all included units (the
  /// modulated share split by verdict) and unmodulated.
  func gainShares(_ l: LayerSummary) -> [Double] {
    let modulated = l.fractionUnmodulated.isFinite ? 1 - l.fractionUnmodulated : 1
    return [l.fractionMultiplicative, l.fractionAdditive, l.fractionAffine].map { $0 * modulated }
      + [l.fractionUnmodulated.isFinite ? l.fractionUnmodulated : 0]
  }

  static let shareParts: [(name: String, color: Color)] = [
    ("A = mU", .attended), ("A = U + b", Color(0.95, 0.65, 0.2)), ("A = mU + b", Color(0.45, 0.3, 0.7)),
    ("unmodulated", Color(0.8, 0.8, 0.8)),
  ]

  /// Layer-wise AMI medians with CIs against the physiology medians (like with like), and the
  /// gain-model shares; each across the page's width.
  func layerPage() -> ReportPage {
    ReportPage(title: "Modulation across layers: AMI medians vs physiology; gain-model shares") { cr, w, h in
      drawTextBlock(cr, title: "Modulation across layers", lines: [], x: 36, y: 36)
      let half = (h - 90) / 2
      drawBarsWithCI(
        cr, labels: labels, values: perLayer.map(\.amiMedian),
        ci: perLayer.map { ($0.amiMedianCI.low, $0.amiMedianCI.high) }, color: .attended,
        title: "median AMI with 95% bootstrap CI (dashed: physiology medians)", yLabel: "AMI", bands: physiologyMedians,
        x: 36, y: 50, w: w - 72, h: half)
      drawStackedBars(
        cr, labels: labels, shares: perLayer.map(gainShares), parts: ReportData.shareParts,
        title: "gain-model verdicts of included units", yLabel: "fraction of units", x: 36, y: 56 + half,
        w: w - 72, h: half)
    }
  }

  /// Attended against unattended unit means, with population gain fits, per layer and stratum.
  func scatterPages() -> [ReportPage] {
    let items = labels.filter { !(unitsByLabel[$0] ?? []).filter { units[$0].excluded == nil }.isEmpty }
    return balancedPages(items, perPage: 8).enumerated().map { i, part in
      ReportPage(title: "Attended vs unattended unit means, gain fits" + (items.count > 8 ? " (\(i + 1))" : "")) {
        cr, w, h in
        drawTextBlock(cr, title: "Attended vs unattended (unit means over conditions)", lines: [], x: 36, y: 36)
        let shape = gridShape(part.count)
        for (cell, label) in zip(
          gridCells(part.count, columns: shape.columns, x: 36, y: 50, w: w - 72, h: h - 84), part)
        {
          let ok = (unitsByLabel[label] ?? []).filter { units[$0].excluded == nil }
          let us = ok.map { units[$0].meanUnattended }
          let attendedMeans = ok.map { units[$0].meanAttended }
          var lines: [(Double, Double, Color, String)] = []
          if let fit = GainFit(attended: attendedMeans, unattended: us) {
            lines.append((fit.mulGain, 0, .attended, String(format: "A = %.3f U", fit.mulGain)))
            lines.append(
              (
                fit.affineSlope, fit.affineIntercept, .unattended,
                String(format: "A = %.3f U %+.3g", fit.affineSlope, fit.affineIntercept)
              ))
          }
          let side = min(cell.w, cell.h)
          drawScatter(
            cr, xs: us, ys: attendedMeans, title: "\(label) (\(ok.count) units)", xLabel: "unattended mean",
            yLabel: "attended mean", lines: lines, x: cell.x, y: cell.y, w: side + 20, h: side)
        }
      }
    }
  }

  /// McAdams-style histograms of the attention effects on fitted tuning: amplitude and width ratios
  /// on log2 axes, baseline change and preference shift on linear ones; three layers a page.
  func effectPages() -> [ReportPage] {
    let items = Array(zip(labels, perLayer)).filter { pair in
      (unitsByLabel[pair.0] ?? []).contains { units[$0].effects != nil }
    }
    let axis = self.axis
    return balancedPages(items, perPage: 4).enumerated().map { i, part in
      ReportPage(title: "Attention effects on fitted tuning parameters" + (items.count > 4 ? " (\(i + 1))" : "")) {
        cr, w, h in
        drawTextBlock(
          cr,
          title: "Attention effects on fitted tuning (units with R² >= 0.5 in both phases)",
          lines: ["Ratios on log2 axes (1 = no effect); dashed: no effect; ranges from the data (0.5-99.5%)."],
          x: 36, y: 36, size: 8, monospaced: false)
        let rowH = (h - 96) / Double(part.count)
        for (row, (label, l)) in part.enumerated() {
          let effects = (unitsByLabel[label] ?? []).compactMap { units[$0].effects }
          let specs: [(String, [Double], AxisSpec, Double)] = [
            ("amplitude ratio", effects.map(\.amplitudeRatio), AxisSpec("A_att / A_un", scale: .log2), 1),
            ("width ratio", effects.map(\.widthRatio), AxisSpec("w_att / w_un", scale: .log2), 1),
            ("baseline change", effects.map(\.baselineChange), AxisSpec("B_att - B_un"), 0),
            (
              "preferred shift", effects.map(\.preferredShift), AxisSpec("shift (\(axis.label))", suffix: axis.suffix),
              0
            ),
          ]
          let cells = gridCells(4, columns: 4, x: 36, y: 64 + Double(row) * rowH, w: w - 72, h: rowH)
          for (cell, s) in zip(cells, specs) {
            let r = robustRange(s.1, scale: s.2.scale)
            let lo = s.2.scale == .linear ? min(r.lo, s.3) : min(r.lo, s.3 / 1.05)
            let hi = s.2.scale == .linear ? max(r.hi, s.3) : max(r.hi, s.3 * 1.05)
            var hist = Histogram(
              values: s.1, lo: lo, hi: hi, bins: 30, x: s.2,
              title: "\(label): \(s.0) (\(effects.count); \(l.poorlyFit) poorly fit)")
            let m = median(s.1.filter(s.2.scale.admits))
            hist.markers = [
              Marker(s.3, color: .grey, label: "no effect", dashed: true),
              Marker(m, color: .black, label: String(format: "median %.3g", m)),
            ]
            drawHistogram(cr, hist, x: cell.x, y: cell.y, w: cell.w, h: cell.h)
          }
        }
      }
    }
  }

  /// Heat maps of the mean AMI over channels at each map position, per layer and stratum.
  func heatMapPages() -> [ReportPage] {
    var maps: [(label: String, rows: Int, cols: Int, mean: [Double])] = []
    for label in labels {
      var cells: [(Int, Int, Double)] = []
      for k in included(label) {
        let parts = units[k].unit.split(whereSeparator: { "[],".contains($0) })
        // Map positions are at most a canvas side; anything else in a user's table is a name.
        guard parts.count == 4, let y = Int(parts[2]), let x = Int(parts[3]), (0..<4096).contains(y),
          (0..<4096).contains(x)
        else { continue }
        cells.append((y, x, units[k].ami!))
      }
      guard let rows = cells.map(\.0).max().map({ $0 + 1 }), let cols = cells.map(\.1).max().map({ $0 + 1 }),
        rows * cols <= 1 << 20
      else { continue }
      var sum = [Double](repeating: 0, count: rows * cols)
      var count = [Int](repeating: 0, count: rows * cols)
      for (y, x, a) in cells {
        sum[y * cols + x] += a
        count[y * cols + x] += 1
      }
      maps.append((label, rows, cols, zip(sum, count).map { $1 > 0 ? $0 / Double($1) : .nan }))
    }
    return balancedPages(maps, perPage: 8).enumerated().map { i, part in
      ReportPage(title: "Mean AMI at each map position" + (maps.count > 8 ? " (\(i + 1))" : "")) { cr, w, h in
        drawTextBlock(
          cr, title: "Mean AMI over channels at each map position (grey: no included unit)", lines: [], x: 36, y: 36)
        let shape = gridShape(part.count)
        for (cell, m) in zip(gridCells(part.count, columns: shape.columns, x: 36, y: 50, w: w - 72, h: h - 84), part) {
          let scale = max(0.05, m.mean.filter(\.isFinite).map(abs).max() ?? 0.05)
          drawHeatMap(
            cr, values: m.mean, rows: m.rows, cols: m.cols, scale: scale, title: "\(m.label) (\(m.rows) x \(m.cols))",
            colorLabel: "AMI", x: cell.x, y: cell.y, w: cell.w, h: cell.h)
        }
      }
    }
  }

  /// Modulation per pass of a recurrent model (when attention effects appear), median AMI with its
  /// 95% CI band, per layer and stratum.
  func passPage() -> ReportPage? {
    let rows = layers.map { l -> (base: String, pass: Int?, summary: LayerSummary) in
      let (base, pass) = splitPassLayerName(l.layer)
      return (base, pass, l)
    }
    guard let lastPass = rows.compactMap(\.pass).max().map({ $0 + 1 }) else { return nil }
    var keys: [String] = []
    for r in rows where !keys.contains(ReportData.label(r.base, r.summary.stratum)) {
      keys.append(ReportData.label(r.base, r.summary.stratum))
    }
    let panels = keys.map { key -> LinePanel in
      let mine = rows.filter { ReportData.label($0.base, $0.summary.stratum) == key }.map {
        ($0.pass ?? lastPass, $0.summary)
      }.sorted { $0.0 < $1.0 }
      return LinePanel(
        title: key, x: AxisSpec("pass", ticks: (1...lastPass).map(Double.init)), yLabel: "AMI median",
        series: [
          Series(
            x: mine.map { Double($0.0) }, y: mine.map(\.1.amiMedian), color: .attended,
            label: "median AMI (95% CI band)", band: mine.map { ($0.1.amiMedianCI.high - $0.1.amiMedianCI.low) / 2 },
            style: .pointsAndLine)
        ])
    }
    return ReportPage(title: "Attention modulation per pass of the recurrent network") { cr, w, h in
      drawTextBlock(
        cr, title: "Attention modulation per pass (modulation_by_pass.csv)",
        lines: ["pass \(lastPass) is the glimpse's last pass (the layer's headline responses)"], x: 36, y: 36,
        size: 8, monospaced: false)
      let shape = gridShape(panels.count)
      var grid = PanelGrid(panels: panels, columns: shape.columns)
      grid.panelHeight = 190
      grid.draw(cr, fitting: 36, 64, w - 72, h - 96)
    }
  }
}
