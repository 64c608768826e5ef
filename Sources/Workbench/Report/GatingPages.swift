import Analysis
import CCairo
import Foundation
import Reports

extension ReportData {
  /// Gating models only: inhibition inside vs outside the attended object (seed paper Fig. 2) and
  /// the attention visualisations (Fig. 3). Empty for runs whose attention is not the model's gating.
  func gatingPages() -> [ReportPage] {
    var pages: [ReportPage] = []
    if let inh = context.inhibition {
      pages.append(
        ReportPage(title: "Gated inhibition inside vs outside the attended object") { cr, w, h in
          let t = PairedTTest(inh.outside, inh.attended)
          let note =
            t.map {
              String(
                format: "paired t-test outside vs attended: t = %.1f, df = %d, p %@ (%d images)", $0.t, $0.df,
                $0.p == 0 ? "< 1e-300" : String(format: "= %.3g", $0.p), $0.n)
            } ?? ""
          drawTextBlock(
            cr, title: "Gated inhibition (input mask after pass T-1), held-out test composites", lines: [note], x: 36,
            y: 36, size: 9, monospaced: false)
          let (ma, mo) = (median(inh.attended), median(inh.outside))
          for (i, (values, color, name, m)) in [
            (inh.attended, Color.attended, "inside the attended object", ma),
            (inh.outside, Color.unattended, "outside the attended object", mo),
          ].enumerated() {
            var hist = Histogram(
              values: values, lo: -0.2, hi: 1.1, bins: 52, x: AxisSpec("mean mask value"), title: name)
            hist.color = color
            hist.yLabel = "images"
            hist.markers = [Marker(m, color: .black, label: String(format: "median %.3f", m))]
            drawHistogram(cr, hist, x: 36 + Double(i) * (w - 72) / 2, y: 74, w: (w - 72) / 2 - 10, h: h - 110)
          }
        })
    }
    let pngs = context.attentionPNGs
    if !pngs.isEmpty {
      pages.append(
        ReportPage(title: "Attention visualisations: gated input, mask, inhibition of return") { cr, w, h in
          let images = pngs.compactMap { p -> OpaquePointer? in
            guard let s = cairo_image_surface_create_from_png(p), cairo_surface_status(s) == CAIRO_STATUS_SUCCESS
            else { return nil }
            return s
          }
          defer { for i in images { cairo_surface_destroy(i) } }
          drawTextBlock(
            cr, title: "Attention: input; per glimpse gated input, mask after pass T-1, IOR mask", lines: [], x: 36,
            y: 36)
          var y = 56.0
          for img in images {
            let iw = Double(cairo_image_surface_get_width(img))
            let ih = Double(cairo_image_surface_get_height(img))
            let s = min((w - 72) / iw, (h - 90) / Double(images.count) / ih)
            cairo_save(cr)
            cairo_translate(cr, 36, y)
            cairo_scale(cr, s, s)
            cairo_set_source_surface(cr, img, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
            cairo_paint(cr)
            cairo_restore(cr)
            y += ih * s + 6
          }
        })
    }
    return pages
  }

  /// The pages of the protocol's measures (receptive-field maps, V1 properties): the text and the
  /// panels on one page when the panels keep at least 150 points a row, else the panels on a page of
  /// their own.
  func measureReportPages() -> [ReportPage] {
    context.measurePages.flatMap { m -> [ReportPage] in
      let lines = m.lines.flatMap { wrapText($0, width: 842 - 72, size: 8) }
      let count = m.histograms.count + m.maps.count + m.panels.count
      let shape = gridShape(count)
      let textBottom = 36 + 18 + 11.5 * Double(lines.count) + 4
      let together = count == 0 || (595 - 40 - textBottom) / Double(max(1, shape.rows)) >= 150
      func panels(_ cr: OpaquePointer, top: Double, w: Double, h: Double) {
        guard count > 0 else { return }
        let cells = gridCells(
          count, columns: shape.columns, x: 36, y: top, w: w - 72, h: min(h - 40 - top, 230 * Double(shape.rows)))
        for (i, hst) in m.histograms.enumerated() {
          let r = robustRange(hst.values)
          var hist = Histogram(
            values: hst.values, lo: min(hst.lo, r.lo), hi: max(hst.hi, r.hi), bins: 30, x: AxisSpec(hst.xLabel),
            title: hst.title)
          let med = median(hst.values.filter(\.isFinite))
          hist.markers = [Marker(med, color: .black, label: String(format: "median %.3g", med))]
          drawHistogram(cr, hist, x: cells[i].x, y: cells[i].y, w: cells[i].w, h: cells[i].h)
        }
        for (j, map) in m.maps.enumerated() {
          let c = cells[m.histograms.count + j]
          drawHeatMap(
            cr, values: map.values, rows: map.rows, cols: map.cols, scale: max(1e-12, map.values.max() ?? 1),
            title: map.title, colorLabel: "|dr|", x: c.x, y: c.y, w: c.w, h: c.h)
        }
        for (j, p) in m.panels.enumerated() {
          let c = cells[m.histograms.count + m.maps.count + j]
          drawLinePanel(cr, p, x: c.x, y: c.y, w: c.w, h: c.h)
        }
      }
      var pages = [
        ReportPage(title: m.title) { cr, w, h in
          let top = drawTextBlock(cr, title: m.title, lines: lines, x: 36, y: 36, size: 8) + 4
          if together { panels(cr, top: top, w: w, h: h) }
        }
      ]
      if !together {
        pages.append(
          ReportPage(title: m.title + " (figures)") { cr, w, h in
            drawTextBlock(cr, title: m.title, lines: [], x: 36, y: 36)
            panels(cr, top: 50, w: w, h: h)
          })
      }
      return pages
    }
  }
}
