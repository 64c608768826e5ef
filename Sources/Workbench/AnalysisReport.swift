import Analysis
import CCairo
import Engine
import Foundation
import Recording
import Reports
import Stimuli

/// What the report says about where the data came from, and optional curves to draw.
public struct ReportContext {
  public var title: String
  public var summaryLines: [String]
  /// Tuning axis name and values, and per unit (by row of the observations) its attended and
  /// unattended curves, when the data are tuning curves.
  public var axisName: String
  public var montagePNG: String?
  /// Gating models: per-image inhibition inside and outside the attended object, and attention PNGs.
  public var inhibition: (attended: [Double], outside: [Double])?
  public var attentionPNGs: [String] = []

  public init(title: String, summaryLines: [String], axisName: String = "condition", montagePNG: String? = nil) {
    self.title = title
    self.summaryLines = summaryLines
    self.axisName = axisName
    self.montagePNG = montagePNG
  }
}

/// Turns tuning curves into paired observations: one per unit, its conditions the axis values, A and U
/// the attended and unattended tuning values.
public func observations(from r: RecordingResult, values: [Float]) -> [UnitObservations] {
  let u = r.units.units.count
  let axis = r.tuning.axisValues
  return r.units.units.enumerated().map { k, unit in
    UnitObservations(
      unit: "\(unit.layer)[\(unit.channel),\(unit.y),\(unit.x)]", layer: unit.layer,
      conditions: axis.map(formatNumberForTable),
      attended: (0..<axis.count).map { Double(values[($0 * 2) * u + k]) },
      unattended: (0..<axis.count).map { Double(values[($0 * 2 + 1) * u + k]) })
  }
}

func formatNumberForTable(_ v: Double) -> String { formatNumber(v) }

/// Runs the analysis on observations and writes the unit and layer tables and the PDF report.
@discardableResult
public func writeAnalysis(
  _ obs: [UnitObservations], into dir: String, unitsFile: String = "units.csv", layersFile: String = "layers.csv",
  context: ReportContext, seed: UInt64 = 1, tuning: TuningModel? = nil
) throws -> (units: [UnitResult], layers: [LayerSummary]) {
  let (units, layers) = analyzeUnits(obs, seed: seed, tuning: tuning)
  try writeFileAtomically(Array(unitsCSV(units).utf8), to: dir + "/" + unitsFile)
  try writeFileAtomically(Array(layersCSV(layers).utf8), to: dir + "/" + layersFile)
  try writeReport(dir + "/report.pdf", obs: obs, units: units, layers: layers, context: context)
  return (units, layers)
}

/// The multi-page PDF report (pages listed in docs/analysis.md).
func writeReport(
  _ path: String, obs: [UnitObservations], units: [UnitResult], layers: [LayerSummary], context: ReportContext
) throws {
  let doc = try PDFDocument(path: path)
  doc.figurePrefix = (path as NSString).deletingLastPathComponent + "/figure_"
  // 1. Summary.
  doc.page { cr, w, _ in
    var lines = context.summaryLines + [""]
    lines.append(
      "layer       units  included  silent  single  non-finite  AMI mean [95% CI]        AMI median [95% CI]      enh.   supp.  mul/add/aff"
    )
    for l in layers {
      lines.append(
        String(
          format:
            "%-10@ %6d %9d %7d %7d %11d  %+.3f [%+.3f, %+.3f]   %+.3f [%+.3f, %+.3f]   %4.0f%%  %4.0f%%  %.0f/%.0f/%.0f%%",
          l.layer as NSString, l.units, l.included, l.excluded[ExclusionReason.silent] ?? 0,
          l.excluded[ExclusionReason.singleCondition] ?? 0,
          l.excluded[ExclusionReason.nonFinite] ?? 0, l.amiMean, l.amiMeanCI.low, l.amiMeanCI.high, l.amiMedian,
          l.amiMedianCI.low,
          l.amiMedianCI.high, 100 * l.fractionEnhanced, 100 * l.fractionSuppressed, 100 * l.fractionMultiplicative,
          100 * l.fractionAdditive,
          100 * l.fractionAffine))
    }
    lines += [
      "",
      "Definitions: A, U = a unit's attended and unattended responses per condition; AMI = (A - U) / (A + U) of the means;",
      "paired t-test across conditions, Benjamini-Hochberg q < 0.05 for enhanced/suppressed; gain models A = mU, A = U + b,",
      "A = mU + b (least squares, GSL); verdict: the better one-parameter model unless affine is better (F-test p < 0.05); 95% CIs by seeded bootstrap (2,000 resamples).",
      "Reference: McAdams & Maunsell 1999 median attention effect V1 +8% (AMI ~0.038), V4 +26% (AMI ~0.115).",
    ]
    drawTextBlock(cr, title: context.title, lines: lines, x: 36, y: 48, size: 8.5)
    _ = w
  }
  // 2. Stimulus montage.
  if let png = context.montagePNG, let image = cairo_image_surface_create_from_png(png),
    cairo_surface_status(image) == CAIRO_STATUS_SUCCESS
  {
    doc.page { cr, w, h in
      drawTextBlock(
        cr, title: "Stimuli (red frame: distractor region; blue dot: swept object's centre)", lines: [], x: 36, y: 40)
      let iw = Double(cairo_image_surface_get_width(image))
      let ih = Double(cairo_image_surface_get_height(image))
      let s = min((w - 72) / iw, (h - 90) / ih)
      cairo_save(cr)
      cairo_translate(cr, 36, 64)
      cairo_scale(cr, s, s)
      cairo_set_source_surface(cr, image, 0, 0)
      cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
      cairo_paint(cr)
      cairo_restore(cr)
    }
    cairo_surface_destroy(image)
  }
  let byLayer = Dictionary(grouping: units.indices, by: { units[$0].layer })
  let layerNames = layers.map(\.layer)
  // 3. Tuning curves of example units across AMI quantiles, per layer.
  for layer in layerNames {
    let included = (byLayer[layer] ?? []).filter { units[$0].excluded == nil && units[$0].ami != nil }.sorted {
      units[$0].ami! < units[$1].ami!
    }
    guard !included.isEmpty else { continue }
    let picks = [0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.98].map {
      included[min(included.count - 1, Int($0 * Double(included.count - 1)))]
    }
    let panels = picks.map { k -> LinePanel in
      let o = obs[k]
      let xs = o.conditions.enumerated().map { Double($0.element) ?? Double($0.offset) }
      return LinePanel(
        title: String(format: "%@  AMI %+.2f", o.unit, units[k].ami ?? .nan), xLabel: context.axisName,
        yLabel: "response",
        series: [
          Series(x: xs, y: o.attended, color: .attended, label: "attended"),
          Series(x: xs, y: o.unattended, color: .unattended, label: "unattended"),
        ])
    }
    doc.page { cr, w, h in
      drawTextBlock(
        cr, title: "\(layer): tuning curves of units across the AMI distribution (2nd to 98th percentile)", lines: [],
        x: 36, y: 36)
      PanelGrid(panels: panels, columns: 3).draw(cr, fitting: 36, 50, w - 72, h - 70)
    }
  }
  // 4. Attended vs unattended mean responses with population gain fits.
  doc.page { cr, w, h in
    drawTextBlock(cr, title: "Attended vs unattended (unit means over conditions)", lines: [], x: 36, y: 36)
    let pw = (w - 72) / Double(max(1, layerNames.count))
    for (i, layer) in layerNames.enumerated() {
      let ok = (byLayer[layer] ?? []).filter { units[$0].excluded == nil }
      let us = ok.map { units[$0].meanUnattended }
      let attendedMeans = ok.map { units[$0].meanAttended }
      var lines: [(Double, Double, Color, String)] = []
      if let fit = GainFit(attended: attendedMeans, unattended: us) {
        lines.append((fit.mulGain, 0, .attended, String(format: "A = %.3f U", fit.mulGain)))
        lines.append(
          (
            fit.affineSlope, fit.affineIntercept, .unattended,
            String(format: "A = %.3f U %+.3f", fit.affineSlope, fit.affineIntercept)
          ))
      }
      drawScatter(
        cr, xs: us, ys: attendedMeans, title: "\(layer) (\(ok.count) units)", xLabel: "unattended", yLabel: "attended",
        lines: lines, x: 36 + Double(i) * pw, y: 60, w: pw - 10, h: min(pw, h - 90))
    }
  }
  // 5. AMI histograms per layer on a shared axis.
  doc.page { cr, w, h in
    drawTextBlock(cr, title: "Attention modulation index per layer", lines: [], x: 36, y: 36)
    let pw = (w - 72) / Double(max(1, layerNames.count))
    for (i, l) in layers.enumerated() {
      let amis = (byLayer[l.layer] ?? []).compactMap { units[$0].excluded == nil ? units[$0].ami : nil }
      let suppressed = amis.isEmpty ? 0 : 100 * Double(amis.filter { $0 < 0 }.count) / Double(amis.count)
      drawHistogram(
        cr, values: amis, lo: -1, hi: 1, bins: 40, color: .attended,
        title: String(format: "%@: %.0f%% of units below 0", l.layer, suppressed),
        xLabel: "AMI", markers: [(l.amiMedian, .black, String(format: "median %.3f", l.amiMedian))],
        x: 36 + Double(i) * pw, y: 60,
        w: pw - 10, h: h - 100)
    }
  }
  // McAdams-style histograms of the attention effects on fitted tuning parameters, per layer.
  for layer in layerNames where units.contains(where: { $0.layer == layer && $0.effects != nil }) {
    let effects = (byLayer[layer] ?? []).compactMap { units[$0].effects }
    let poorly = layers.first { $0.layer == layer }?.poorlyFit ?? 0
    doc.page { cr, w, h in
      drawTextBlock(
        cr,
        title: "\(layer): attention effects on fitted tuning (\(effects.count) units; \(poorly) poorly fit, excluded)",
        lines: [], x: 36, y: 36)
      let panels: [(String, [Double], Double, Double, Double)] = [
        ("amplitude ratio A_att / A_un", effects.map(\.amplitudeRatio), 0, 3, 1),
        ("width ratio w_att / w_un", effects.map(\.widthRatio), 0, 3, 1),
        ("baseline change B_att - B_un", effects.map(\.baselineChange), -1, 1, 0),
        ("preferred shift (\(context.axisName))", effects.map(\.preferredShift), -45, 45, 0),
      ]
      cairo_set_font_size(cr, 9)
      cairo_move_to(cr, 36, 52)
      cairo_show_text(
        cr,
        "Fits: wrapped Gaussian (orientation) or Gaussian per phase, R^2 >= 0.5 in both. Values beyond an axis fall in its edge bin."
      )
      let pw = (w - 72) / 2
      let ph = (h - 90) / 2
      for (i, p) in panels.enumerated() {
        let m = median(p.1)
        drawHistogram(
          cr, values: p.1, lo: p.2, hi: p.3, bins: 30, color: .attended, title: p.0, xLabel: p.0,
          markers: [(p.4, .grey, "no effect"), (m, .black, String(format: "median %.3g", m))],
          x: 36 + Double(i % 2) * pw, y: 60 + Double(i / 2) * ph, w: pw - 10, h: ph - 6)
      }
    }
  }
  // Population tuning aligned to each unit's preference (peak of the unattended curve), normalised by
  // the unattended peak, averaged over included units.
  doc.page { cr, w, h in
    drawTextBlock(
      cr, title: "Population tuning aligned to preference (normalised by the unattended peak)", lines: [], x: 36, y: 36)
    var panels: [LinePanel] = []
    for layer in layerNames {
      let ok = (byLayer[layer] ?? []).filter { units[$0].excluded == nil }
      guard let first = ok.first else { continue }
      let m = obs[first].conditions.count
      var sumA = [Double](repeating: 0, count: m)
      var sumU = sumA
      var count = 0
      for k in ok {
        let o = obs[k]
        guard let peak = o.unattended.max(), peak > 0, o.attended.count == m else { continue }
        let pi = o.unattended.firstIndex(of: peak)!
        for j in 0..<m {
          let src = (pi + j - m / 2 + m) % m
          sumA[j] += o.attended[src] / peak
          sumU[j] += o.unattended[src] / peak
        }
        count += 1
      }
      guard count > 0 else { continue }
      let xs = (0..<m).map { Double($0 - m / 2) }
      panels.append(
        LinePanel(
          title: "\(layer) (\(count) units)", xLabel: "conditions from the preferred one",
          yLabel: "normalised response",
          series: [
            Series(x: xs, y: sumA.map { $0 / Double(count) }, color: .attended, label: "attended"),
            Series(x: xs, y: sumU.map { $0 / Double(count) }, color: .unattended, label: "unattended"),
          ]))
    }
    if !panels.isEmpty { PanelGrid(panels: panels, columns: panels.count).draw(cr, fitting: 36, 60, w - 72, h - 90) }
  }
  // Heat maps of the mean AMI over channels at each map position (units named layer[c,y,x]).
  let positions: [(layer: String, y: Int, x: Int, ami: Double)] = units.compactMap { r in
    guard r.excluded == nil, let ami = r.ami else { return nil }
    let parts = r.unit.split(whereSeparator: { "[],".contains($0) })
    // Map positions are at most a canvas side; anything else in a user's table is a name, not a position.
    guard parts.count == 4, let y = Int(parts[2]), let x = Int(parts[3]), (0..<StimulusLimits.maxCanvas).contains(y),
      (0..<StimulusLimits.maxCanvas).contains(x)
    else { return nil }
    return (r.layer, y, x, ami)
  }
  if !positions.isEmpty {
    doc.page { cr, w, h in
      drawTextBlock(
        cr, title: "Mean AMI over channels at each map position (grey: no included unit)", lines: [], x: 36, y: 36)
      let pw = (w - 72) / Double(max(1, layerNames.count))
      for (i, layer) in layerNames.enumerated() {
        let mine = positions.filter { $0.layer == layer }
        guard let rows = mine.map(\.y).max().map({ $0 + 1 }), let cols = mine.map(\.x).max().map({ $0 + 1 }) else {
          continue
        }
        var sum = [Double](repeating: 0, count: rows * cols)
        var count = [Int](repeating: 0, count: rows * cols)
        for p in mine {
          sum[p.y * cols + p.x] += p.ami
          count[p.y * cols + p.x] += 1
        }
        let mean = zip(sum, count).map { $1 > 0 ? $0 / Double($1) : .nan }
        let scale = max(0.05, mean.filter(\.isFinite).map(abs).max() ?? 0.05)
        drawHeatMap(
          cr, values: mean, rows: rows, cols: cols, scale: scale, title: "\(layer) (\(rows) x \(cols))",
          colorLabel: "AMI", x: 36 + Double(i) * pw, y: 60, w: pw - 10, h: h - 100)
      }
    }
  }
  // Gating models: inhibition inside vs outside the attended object (seed paper Fig. 2) and attention
  // visualisations (Fig. 3).
  if let inh = context.inhibition {
    doc.page { cr, w, h in
      let t = PairedTTest(inh.outside, inh.attended)
      let note =
        t.map {
          String(
            format: "paired t-test outside vs attended: t = %.1f, df = %d, p %@ (%d images)", $0.t, $0.df,
            $0.p == 0 ? "< 1e-300" : String(format: "= %.3g", $0.p), $0.n)
        } ?? ""
      drawTextBlock(
        cr, title: "Gated inhibition (input mask after pass T-1), held-out test composites", lines: [note], x: 36, y: 36
      )
      let (ma, mo) = (median(inh.attended), median(inh.outside))
      drawHistogram(
        cr, values: inh.attended, lo: -0.2, hi: 1.1, bins: 52, color: .attended, title: "inside the attended object",
        xLabel: "mean mask value",
        markers: [(ma, .black, String(format: "median %.3f", ma))], yLabel: "images", x: 36, y: 80, w: (w - 80) / 2,
        h: h - 120)
      drawHistogram(
        cr, values: inh.outside, lo: -0.2, hi: 1.1, bins: 52, color: .unattended, title: "outside the attended object",
        xLabel: "mean mask value",
        markers: [(mo, .black, String(format: "median %.3f", mo))], yLabel: "images", x: 44 + (w - 80) / 2, y: 80,
        w: (w - 80) / 2, h: h - 120)
    }
  }
  let attention = context.attentionPNGs.compactMap { p -> OpaquePointer? in
    guard let s = cairo_image_surface_create_from_png(p), cairo_surface_status(s) == CAIRO_STATUS_SUCCESS else {
      return nil
    }
    return s
  }
  if !attention.isEmpty {
    doc.page { cr, w, h in
      drawTextBlock(
        cr, title: "Attention: input; per glimpse gated input, mask after pass T-1, IOR mask", lines: [], x: 36, y: 36)
      var y = 56.0
      for img in attention {
        let iw = Double(cairo_image_surface_get_width(img))
        let ih = Double(cairo_image_surface_get_height(img))
        let s = min((w - 72) / iw, (h - 80) / Double(attention.count) / ih)
        cairo_save(cr)
        cairo_translate(cr, 36, y)
        cairo_scale(cr, s, s)
        cairo_set_source_surface(cr, img, 0, 0)
        cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
        cairo_paint(cr)
        cairo_restore(cr)
        y += ih * s + 6
      }
    }
  }
  defer { for a in attention { cairo_surface_destroy(a) } }
  // 6. Layer-wise modulation with CIs and reference bands; gain-model preference.
  doc.page { cr, w, h in
    drawTextBlock(cr, title: "Modulation across layers", lines: [], x: 36, y: 36)
    drawBarsWithCI(
      cr, labels: layerNames, values: layers.map(\.amiMean), ci: layers.map { ($0.amiMeanCI.low, $0.amiMeanCI.high) },
      color: .attended,
      title: "mean AMI with 95% bootstrap CI", yLabel: "AMI", bands: [(0.038, "V1 (+8%)"), (0.115, "V4 (+26%)")], x: 36,
      y: 60,
      w: (w - 90) / 2, h: h - 100)
    let pref = layers.map { $0.fractionMultiplicative }
    drawBarsWithCI(
      cr, labels: layerNames, values: pref, ci: pref.map { _ in (.nan, .nan) }, color: .unattended,
      title: "share of units whose verdict is A = mU", yLabel: "fraction", x: 54 + (w - 90) / 2, y: 60, w: (w - 90) / 2,
      h: h - 100)
  }
  try doc.finish()
}
