import Attribution
import CCairo
import Engine
import Foundation
import Reports

/// Writes a Pointing Game's tables, summary and report into `dir` (an Ephys output folder, swapped
/// in whole): returns the files written with one line on each.
public func writePointingGame(
  _ r: PointingGameResult, to dir: String, notice: (String) -> Void = { _ in }
) throws -> [String: String] {
  try OutputFolder.writing(dir, notice: notice) { temporary in try writePointingFiles(r, into: temporary) }
}

/// The definitions every output states.
func pointingDefinitions(_ r: PointingGameResult) -> [String] {
  [
    "Pairs: every (image, category present) on \(r.images) images of \(r.height) x \(r.width) px (the network's input).",
    "Map layers: MWP, c-MWP and LRP at \(r.layers.map); CAM and Grad-CAM at \(r.layers.cam); c-MWP contrast at \(r.layers.contrast); gradient, deconvnet and guided at the input (max |.| over channels). Top-down signal: one-hot on the category (LRP: its score).",
    "Maps are upsampled to the input size (bilinear, align_corners false); gradient, deconvnet and guided maps are then smoothed with a Gaussian, sigma = 0.02 * max(H, W) (TorchRay's imsmooth). Excitation Backprop, CAM, Grad-CAM and LRP are not smoothed.",
    String(
      format:
        "Hit: some ground-truth pixel of the category lies strictly within %.2f px of the map's first maximum (the paper's 15 px at 224, scaled by max(H, W) / 224). Centre baseline: the point (H / 2, W / 2).",
      r.tolerance),
    "Accuracy: per category hits / (hits + misses), a category with no evaluated pair counting as 0 (as TorchRay), then the mean over all \(r.categories.count) categories, in percent. Difficult: the category covers less than 1/4 of the image and another category is present.",
  ]
}

func writePointingFiles(_ r: PointingGameResult, into dir: String) throws -> [String: String] {
  var files: [String: String] = [:]
  func path(_ name: String) -> String { (dir as NSString).appendingPathComponent(name) }
  var csv = "method,all_percent,difficult_percent,pairs_all,pairs_difficult,hits_all,hits_difficult\n"
  for s in r.scores {
    csv +=
      "\(s.method.rawValue),\(csvNumber(100 * s.all.accuracy)),\(csvNumber(100 * s.difficult.accuracy)),\(s.all.pairs),\(s.difficult.pairs),\(s.all.hits.reduce(0, +)),\(s.difficult.hits.reduce(0, +))\n"
  }
  try writeText(csv, path("pointing_game.csv"))
  files["pointing_game.csv"] = "accuracy (%) per method, all pairs and the difficult subset"
  var per = "method,category,name,hits_all,misses_all,hits_difficult,misses_difficult\n"
  for s in r.scores {
    for (c, name) in r.categories.enumerated() {
      per +=
        "\(s.method.rawValue),\(c),\(name),\(s.all.hits[c]),\(s.all.misses[c]),\(s.difficult.hits[c]),\(s.difficult.misses[c])\n"
    }
  }
  try writeText(per, path("pointing_per_category.csv"))
  files["pointing_per_category.csv"] = "hits and misses per method and category"
  if !r.randomisation.isEmpty {
    var rc = "method,spearman_trained_vs_random_mean,spearman_sd,pairs\n"
    for c in r.randomisation {
      rc += "\(c.method.rawValue),\(csvNumber(c.meanCorrelation)),\(csvNumber(c.sdCorrelation)),\(c.pairs)\n"
    }
    try writeText(rc, path("randomisation.csv"))
    files["randomisation.csv"] = "rank correlation of maps from trained vs random weights (model-randomisation test)"
  }
  var summary: [String: Any] = [
    "model": r.model, "images": r.images, "tolerance_px": r.tolerance, "input": [r.height, r.width],
    "definitions": pointingDefinitions(r),
    "layers": ["map": r.layers.map, "cam": r.layers.cam, "contrast": r.layers.contrast],
  ]
  summary["accuracy_percent"] = Dictionary(
    uniqueKeysWithValues: r.scores.map {
      ($0.method.rawValue, ["all": 100 * $0.all.accuracy, "difficult": 100 * $0.difficult.accuracy])
    })
  summary["randomisation_spearman"] = Dictionary(
    uniqueKeysWithValues: r.randomisation.map { ($0.method.rawValue, $0.meanCorrelation) })
  let json = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
  try writeFileAtomically(Array(json), to: path("summary.json"))
  files["summary.json"] = "accuracies, randomisation check and definitions"
  try writePointingReport(r, to: path("report.pdf"))
  files["report.pdf"] = "the table, definitions, the randomisation check and example maps per method"
  return files
}

/// The table as text lines: method, All, Difficult (percent).
public func pointingTable(_ r: PointingGameResult) -> [String] {
  ["method        All     Difficult   pairs (all / difficult)"]
    + r.scores.map {
      $0.method.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
        + String(
          format: "%6.1f   %6.1f      %d / %d", 100 * $0.all.accuracy, 100 * $0.difficult.accuracy, $0.all.pairs,
          $0.difficult.pairs)
    }
}

func writePointingReport(_ r: PointingGameResult, to path: String) throws {
  let doc = try PDFDocument(path: path)
  doc.page { cr, w, _ in
    var lines = ["Model \(r.model); \(r.categories.count) categories.", ""]
    lines += pointingTable(r)
    lines.append("")
    lines += pointingDefinitions(r).flatMap { wrapText($0, width: w - 80, size: 8.5) }
    if !r.randomisation.isEmpty {
      lines.append("")
      lines.append(
        "Model randomisation (Adebayo et al. 2018): Spearman correlation of maps from trained vs random weights, mean +- SD over pairs"
      )
      lines.append("(near 1: the map does not depend on what the network learned):")
      for c in r.randomisation {
        lines.append(
          "  " + c.method.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
            + String(format: "%+.3f +- %.3f  (%d pairs)", c.meanCorrelation, c.sdCorrelation, c.pairs))
      }
    }
    drawTextBlock(cr, title: "Pointing Game", lines: lines, x: 40, y: 50, size: 8.5)
  }
  guard !r.examples.isEmpty else { return try doc.finish() }
  let methods = r.scores.map(\.method)
  doc.page { cr, w, h in
    drawTextBlock(
      cr, title: "Example maps (cross: the map's maximum; caption: hit or miss)", lines: [], x: 40, y: 36, size: 8)
    let cols = methods.count
    let rows = r.examples.count
    let cw = (w - 60) / Double(max(1, cols))
    let ch = min(cw + 14, (h - 70) / Double(max(1, rows)))
    for (i, e) in r.examples.enumerated() {
      for (j, m) in methods.enumerated() {
        guard let map = e.maps[m] else { continue }
        let image = r.displays[e.image] ?? [Float](repeating: 0, count: r.height * r.width)
        drawMapOverlay(
          cr, image: image.map(Double.init), map: map.map(Double.init), rows: r.height, cols: r.width,
          point: e.points[m], title: i == 0 ? m.rawValue : "",
          caption: "\(r.categories[e.category]): \(e.hits[m] == true ? "hit" : "miss")", x: 30 + Double(j) * cw,
          y: 50 + Double(i) * ch, w: cw - 4, h: ch - 2)
      }
    }
  }
  try doc.finish()
}
