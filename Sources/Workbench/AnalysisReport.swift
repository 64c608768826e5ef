import Analysis
import CCairo
import Engine
import Foundation
import ModelInterface
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
  /// Warnings about the unit selection and caveats about the design, printed on page 1.
  public var warnings: [String] = []
  public var caveats: [String] = []
  /// Pages of the protocol's measures (receptive-field maps, V1 properties).
  public var measurePages: [MeasurePage] = []

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
  context: ReportContext, seed: UInt64 = 1, tuning: TuningModel? = nil, contrastAxis: Bool = false
) throws -> (units: [UnitResult], layers: [LayerSummary]) {
  let (units, layers) = analyzeUnits(obs, seed: seed, tuning: tuning, contrastAxis: contrastAxis)
  try writeFileAtomically(Array(unitsCSV(units).utf8), to: dir + "/" + unitsFile)
  try writeFileAtomically(Array(layersCSV(layers).utf8), to: dir + "/" + layersFile)
  try writeReport(dir + "/report.pdf", obs: obs, units: units, layers: layers, context: context)
  return (units, layers)
}

/// `line` broken at spaces into pieces of at most `width` characters (continuations indented).
func wrapped(_ line: String, width: Int) -> [String] {
  guard line.count > width else { return [line] }
  var out: [String] = []
  var current = ""
  for word in line.split(separator: " ", omittingEmptySubsequences: false) {
    if current.count + word.count + 1 > width && !current.isEmpty {
      out.append(current)
      current = "    " + word
    } else {
      current += (current.isEmpty ? "" : " ") + word
    }
  }
  if !current.isEmpty { out.append(current) }
  return out
}

/// The multi-page PDF report (pages listed in docs/analysis.md).
func writeReport(
  _ path: String, obs: [UnitObservations], units: [UnitResult], layers: [LayerSummary], context: ReportContext
) throws {
  let doc = try PDFDocument(path: path)
  doc.figurePrefix = (path as NSString).deletingLastPathComponent + "/figure_"
  // 1. Summary: per layer and stratum (receptive-field class), never pooled across strata.
  doc.page { cr, w, _ in
    var lines = context.summaryLines + [""]
    if !layers.isEmpty {
      let headline = layers.filter { $0.stratum == "rf_class=object" }
      if !headline.isEmpty {
        lines.append("Headline (units whose receptive field covers the swept object and not the distractor):")
        for l in headline {
          lines.append(
            String(
              format: "  %@: AMI median %+.3f [95%% CI %+.3f, %+.3f], mean %+.3f (n = %d)", l.layer as NSString,
              l.amiMedian, l.amiMedianCI.low, l.amiMedianCI.high, l.amiMean, l.included))
        }
        lines.append("")
      }
      func pad(_ t: String, _ n: Int) -> String {
        t.count >= n ? String(t.prefix(n)) : t + String(repeating: " ", count: n - t.count)
      }
      lines.append(
        pad("layer", 14) + pad("stratum", 14)
          + "  units   incl.  silent  AMI median [95% CI]      AMI mean [95% CI]        enh.  supp.  none  mul/add/aff*"
      )
      for l in layers {
        lines.append(
          pad(l.layer, 14)
            + pad(l.stratum.isEmpty ? "-" : l.stratum.replacingOccurrences(of: "rf_class=", with: "rf "), 14)
            + String(
              format:
                " %6d %7d %7d  %+.3f [%+.3f, %+.3f]   %+.3f [%+.3f, %+.3f]   %3.0f%%  %3.0f%%  %3.0f%%  %.0f/%.0f/%.0f%%",
              l.units, l.included, l.excluded[ExclusionReason.silent] ?? 0, l.amiMedian, l.amiMedianCI.low,
              l.amiMedianCI.high, l.amiMean, l.amiMeanCI.low, l.amiMeanCI.high, 100 * l.fractionEnhanced,
              100 * l.fractionSuppressed, 100 * l.fractionUnmodulated, 100 * l.fractionMultiplicative,
              100 * l.fractionAdditive, 100 * l.fractionAffine))
      }
      lines.append("* shares of the gain-model verdicts among modulated units")
      let test = layers.first?.test ?? ""
      lines += [
        "",
        "Definitions: A, U = a unit's attended and unattended responses per condition; AMI = (A - U) / (A + U) of the means;",
        "modulated = q < 0.05 (Benjamini-Hochberg over included units) of the \(test); verdict 'none' otherwise.",
        "Gain models A = mU, A = U + b, A = mU + b (least squares, GSL) for modulated units: the better one-parameter model unless",
        "affine fits better (F-test p < 0.05). 95% CIs by seeded bootstrap (2,000 resamples). Silent units are excluded and counted.",
        "Reference: McAdams & Maunsell 1999 median attention effect V1 +8% (AMI ~0.038), V4 +26% (AMI ~0.115).",
      ]
    }
    if !context.warnings.isEmpty {
      lines.append("")
      lines += context.warnings.map { "WARNING: \($0)" }
    }
    if !context.caveats.isEmpty {
      lines.append("")
      lines += context.caveats.map { "Caveat: \($0)" }
    }
    drawTextBlock(cr, title: context.title, lines: lines.flatMap { wrapped($0, width: 150) }, x: 36, y: 48, size: 7.5)
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
  // Pages are drawn per layer and stratum ("conv2 [rf_class=object]"), never pooled across strata.
  func label(_ layer: String, _ stratum: String) -> String { stratum.isEmpty ? layer : "\(layer) [\(stratum)]" }
  let byLayer = Dictionary(grouping: units.indices, by: { label(units[$0].layer, units[$0].stratum) })
  // Per-layer pages show each layer's headline responses (the last pass); the passes of a recurrent
  // model have their own page below.
  let perLayer = layers.filter { splitPassLayerName($0.layer).pass == nil }
  let layerNames = perLayer.map { label($0.layer, $0.stratum) }
  if !perLayer.isEmpty {
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
          cr, xs: us, ys: attendedMeans, title: "\(layer) (\(ok.count) units)", xLabel: "unattended",
          yLabel: "attended",
          lines: lines, x: 36 + Double(i) * pw, y: 60, w: pw - 10, h: min(pw, h - 90))
      }
    }
    // 5. AMI histograms per layer on a shared axis.
    doc.page { cr, w, h in
      drawTextBlock(cr, title: "Attention modulation index per layer", lines: [], x: 36, y: 36)
      let pw = (w - 72) / Double(max(1, layerNames.count))
      for (i, l) in perLayer.enumerated() {
        let amis = (byLayer[layerNames[i]] ?? []).compactMap { units[$0].excluded == nil ? units[$0].ami : nil }
        let suppressed = amis.isEmpty ? 0 : 100 * Double(amis.filter { $0 < 0 }.count) / Double(amis.count)
        drawHistogram(
          cr, values: amis, lo: -1, hi: 1, bins: 40, color: .attended,
          title: String(format: "%@: %.0f%% below 0", layerNames[i], suppressed),
          xLabel: "AMI", markers: [(l.amiMedian, .black, String(format: "median %.3f", l.amiMedian))],
          x: 36 + Double(i) * pw, y: 60,
          w: pw - 10, h: h - 100)
      }
    }
    // McAdams-style histograms of the attention effects on fitted tuning parameters, per layer.
    for (li, layer) in layerNames.enumerated()
    where (byLayer[layer] ?? []).contains(where: { units[$0].effects != nil }) {
      let effects = (byLayer[layer] ?? []).compactMap { units[$0].effects }
      let poorly = perLayer[li].poorlyFit
      doc.page { cr, w, h in
        drawTextBlock(
          cr,
          title:
            "\(layer): attention effects on fitted tuning (\(effects.count) units; \(poorly) poorly fit, excluded)",
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
        cr, title: "Population tuning aligned to preference (normalised by the unattended peak)", lines: [], x: 36,
        y: 36)
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
    let positions: [(layer: String, y: Int, x: Int, ami: Double)] = units.compactMap {
      r -> (String, Int, Int, Double)? in
      guard r.excluded == nil, let ami = r.ami else { return nil }
      let parts = r.unit.split(whereSeparator: { "[],".contains($0) })
      // Map positions are at most a canvas side; anything else in a user's table is a name, not a position.
      guard parts.count == 4, let y = Int(parts[2]), let x = Int(parts[3]), (0..<StimulusLimits.maxCanvas).contains(y),
        (0..<StimulusLimits.maxCanvas).contains(x)
      else { return nil }
      return (label(r.layer, r.stratum), y, x, ami)
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
  if !perLayer.isEmpty {
    // 6. Layer-wise modulation with CIs and reference bands; gain-model preference.
    doc.page { cr, w, h in
      drawTextBlock(cr, title: "Modulation across layers", lines: [], x: 36, y: 36)
      drawBarsWithCI(
        cr, labels: layerNames, values: perLayer.map(\.amiMean),
        ci: perLayer.map { ($0.amiMeanCI.low, $0.amiMeanCI.high) },
        color: .attended,
        title: "mean AMI with 95% bootstrap CI", yLabel: "AMI", bands: [(0.038, "V1 (+8%)"), (0.115, "V4 (+26%)")],
        x: 36,
        y: 60,
        w: (w - 90) / 2, h: h - 100)
      let pref = perLayer.map { $0.fractionMultiplicative }
      drawBarsWithCI(
        cr, labels: layerNames, values: pref, ci: pref.map { _ in (.nan, .nan) }, color: .unattended,
        title: "share of units whose verdict is A = mU", yLabel: "fraction", x: 54 + (w - 90) / 2, y: 60,
        w: (w - 90) / 2,
        h: h - 100)
    }
  }
  // Modulation per pass of a recurrent model: when attention effects appear.
  let passRows = layers.compactMap { l -> (base: String, pass: Int?, summary: LayerSummary)? in
    let (base, pass) = splitPassLayerName(l.layer)
    return (base, pass, l)
  }
  if let lastPass = passRows.compactMap(\.pass).max().map({ $0 + 1 }) {
    var panels: [LinePanel] = []
    var keys: [String] = []
    for r in passRows where !keys.contains(label(r.base, r.summary.stratum)) {
      keys.append(label(r.base, r.summary.stratum))
    }
    for key in keys {
      let rows = passRows.filter { label($0.base, $0.summary.stratum) == key }.map { ($0.pass ?? lastPass, $0.summary) }
        .sorted { $0.0 < $1.0 }
      panels.append(
        LinePanel(
          title: key, xLabel: "pass", yLabel: "AMI median",
          series: [
            Series(
              x: rows.map { Double($0.0) }, y: rows.map(\.1.amiMedian), color: .attended, label: "median AMI (95% CI)",
              band: rows.map { ($0.1.amiMedianCI.high - $0.1.amiMedianCI.low) / 2 })
          ]))
    }
    doc.page { cr, w, h in
      drawTextBlock(
        cr, title: "Attention modulation per pass of the recurrent network (modulation_by_pass.csv)",
        lines: ["pass \(lastPass) is the glimpse's last pass (the layer's headline responses)"], x: 36, y: 36)
      PanelGrid(panels: panels, columns: min(3, panels.count)).draw(cr, fitting: 36, 70, w - 72, h - 100)
    }
  }
  for m in context.measurePages {
    doc.page { cr, w, h in
      drawTextBlock(cr, title: m.title, lines: m.lines.flatMap { wrapped($0, width: 130) }, x: 36, y: 36, size: 8)
      let top = 50 + 11 * Double(m.lines.count + 1)
      let panels = m.histograms.count + m.maps.count
      guard panels > 0 else { return }
      let columns = panels <= 2 ? panels : panels <= 6 ? 3 : 4
      let rows = (panels + columns - 1) / columns
      let pw = (w - 72) / Double(columns)
      let ph = min(220, (h - top - 30) / Double(rows))
      for (i, hst) in m.histograms.enumerated() {
        drawHistogram(
          cr, values: hst.values, lo: hst.lo, hi: hst.hi, bins: 30, color: .attended, title: hst.title,
          xLabel: hst.xLabel,
          markers: [(median(hst.values), .black, "median")], x: 36 + Double(i % columns) * pw,
          y: top + Double(i / columns) * ph, w: pw - 8, h: ph - 6)
      }
      for (j, map) in m.maps.enumerated() {
        let i = m.histograms.count + j
        drawHeatMap(
          cr, values: map.values, rows: map.rows, cols: map.cols, scale: max(1e-12, map.values.max() ?? 1),
          title: map.title, colorLabel: "|dr|", x: 36 + Double(i % columns) * pw, y: top + Double(i / columns) * ph,
          w: pw - 8, h: ph - 6)
      }
    }
  }
  try doc.finish()
}
