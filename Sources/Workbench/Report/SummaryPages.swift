import Analysis
import CCairo
import Foundation
import Reports

/// The font size of the report's summary text, points.
let summaryFontSize = 7.5

extension ReportData {
  /// The run summary as text lines (wrapped to the page at `summaryFontSize`): where the data came
  /// from, the headline numbers, the per-layer and per-stratum table, definitions, warnings, caveats.
  func summaryText() -> [String] {
    var lines = context.summaryLines + [""]
    if !layers.isEmpty {
      let headline = self.headline
      if !headline.isEmpty {
        lines.append(
          headline.contains { $0.stratum == "rf_class=object" }
            ? "Headline (units whose receptive field covers the swept object and not the distractor):"
            : "Headline:")
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
          + " units  incl. silent  AMI median [95% CI]     AMI mean [95% CI]       enh. supp. none mul/add/aff*")
      for l in layers {
        lines.append(
          pad(l.layer, 14)
            + pad(l.stratum.isEmpty ? "-" : l.stratum.replacingOccurrences(of: "rf_class=", with: "rf "), 14)
            + String(
              format:
                "%6d %6d %6d  %+.3f [%+.3f, %+.3f]  %+.3f [%+.3f, %+.3f]  %3.0f%% %3.0f%% %3.0f%% %.0f/%.0f/%.0f%%",
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
    return lines.flatMap { wrapText($0, width: 842 - 72, size: summaryFontSize) }
  }

  /// The stimulus montage page, when the run wrote one.
  func montagePage() -> ReportPage? {
    guard let png = context.montagePNG, FileManager.default.fileExists(atPath: png) else { return nil }
    return ReportPage(title: "Stimuli (distractor region in red, swept object's centre in blue)") { cr, w, h in
      guard let image = cairo_image_surface_create_from_png(png), cairo_surface_status(image) == CAIRO_STATUS_SUCCESS
      else { return }
      defer { cairo_surface_destroy(image) }
      drawTextBlock(
        cr, title: "Stimuli (red frame: distractor region; blue dot: swept object's centre)", lines: [], x: 36, y: 40)
      let iw = Double(cairo_image_surface_get_width(image))
      let ih = Double(cairo_image_surface_get_height(image))
      let s = min((w - 72) / iw, (h - 100) / ih)
      cairo_save(cr)
      cairo_translate(cr, 36, 60)
      cairo_scale(cr, s, s)
      cairo_set_source_surface(cr, image, 0, 0)
      cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
      cairo_paint(cr)
      cairo_restore(cr)
    }
  }
}
