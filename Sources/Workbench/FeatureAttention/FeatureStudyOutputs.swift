import Analysis
import Engine
import Foundation

/// Writes a study's tables, values, detectors, summary and report into `dir` (an Ephys output folder
/// swapped in whole; see `OutputFolder`): returns the files written with one line on each.
public func writeFeatureStudy(_ r: FeatureStudyResult, to dir: String, notice: (String) -> Void = { _ in })
  throws -> [String: String]
{
  try OutputFolder.writing(dir, notice: notice) { temporary in try writeFeatureStudyFiles(r, into: temporary) }
}

func csvNumber(_ x: Double) -> String { x.isFinite ? String(format: "%.6g", x) : "nan" }

func writeText(_ text: String, _ path: String) throws { try writeFileAtomically(Array(text.utf8), to: path) }

func writeFeatureStudyFiles(_ r: FeatureStudyResult, into dir: String) throws -> [String: String] {
  var files: [String: String] = [:]
  let tuning = r.values.tuning
  let gradient = r.values.gradient

  // Values: NPZ arrays [categories, channels] per layer and kind, and one long CSV.
  var stored: [StoredTensor] = []
  for (l, layer) in r.layers.enumerated() {
    let c = r.categories.count
    let k = r.values.meanResponse[l].first?.count ?? 0
    for (name, x) in [
      ("tuning", tuning[l]), ("gradient", gradient[l]), ("mean_response", r.values.meanResponse[l]),
      ("mean_gradient", r.values.meanGradient[l]),
    ] {
      stored.append(StoredTensor(name: "\(name).\(layer)", shape: [c, k], floats: x.flatMap { $0.map(Float.init) }))
    }
  }
  try NPZ.write(TensorArchive(tensors: stored), to: dir + "/feature_values.npz")
  files["feature_values.npz"] =
    "tuning, gradient, mean_response, mean_gradient per layer: float32 [categories, channels], keys KIND.LAYER"
  var csv = "layer,channel,category,mean_response,tuning_value,mean_gradient,gradient_value\n"
  for (l, layer) in r.layers.enumerated() {
    for (c, name) in r.categories.enumerated() {
      for k in r.values.meanResponse[l][c].indices {
        csv +=
          "\(layer),\(k),\(name),\(csvNumber(r.values.meanResponse[l][c][k])),\(csvNumber(tuning[l][c][k])),\(csvNumber(r.values.meanGradient[l][c][k])),\(csvNumber(gradient[l][c][k]))\n"
      }
    }
  }
  try writeText(csv, dir + "/feature_values.csv")
  files["feature_values.csv"] = "the same values as one row per layer, channel and category"

  // Detection counts per image kind, site, value kind, beta and category.
  var det = "images,values,site,beta,category,tp_rate,tn_rate,performance,positives,negatives\n"
  for sweep in r.sweeps {
    for (s, site) in sweep.sites.enumerated() {
      for (v, kind) in sweep.sources.enumerated() {
        for (b, beta) in sweep.betas.enumerated() {
          for (c, name) in r.categories.enumerated() {
            let d = sweep.counts[s][v][b][c]
            det +=
              "\(sweep.kind.rawValue),\(kind.rawValue),\(site.name(r.layers)),\(csvNumber(beta)),\(name),\(csvNumber(d.tpRate())),\(csvNumber(d.tnRate())),\(csvNumber(d.performance())),\(d.positives.reduce(0, +)),\(d.negatives.reduce(0, +))\n"
          }
        }
      }
    }
  }
  try writeText(det, dir + "/detection.csv")
  files["detection.csv"] = "per image kind, values, site, beta and category: TP and TN rates, performance"

  var perf =
    "images,values,site,change_pp,change_sem,cv_change_pp,cv_change_sem,improved_categories,categories,best_beta,hit_beta0,false_alarm_beta0,criterion_beta0,dprime_beta0,hit_best,false_alarm_best,criterion_best,dprime_best\n"
  for s in r.summaries {
    perf +=
      [
        s.kind.rawValue, s.values.rawValue, s.site, csvNumber(s.change.mean), csvNumber(s.change.sem),
        csvNumber(s.crossValidatedChange.mean), csvNumber(s.crossValidatedChange.sem), "\(s.improvedCategories)",
        "\(s.categories)", csvNumber(s.bestBeta), csvNumber(s.baseline.hit), csvNumber(s.baseline.falseAlarm),
        csvNumber(s.baseline.criterion), csvNumber(s.baseline.dPrime), csvNumber(s.attended.hit),
        csvNumber(s.attended.falseAlarm), csvNumber(s.attended.criterion), csvNumber(s.attended.dPrime),
      ].joined(separator: ",") + "\n"
  }
  try writeText(perf, dir + "/performance_change.csv")
  files["performance_change.csv"] =
    "per image kind, values and site: performance change (max over beta, and cross-validated) with SEM, c and d'"

  var gain = "values,applied,recorded,beta,median_slope,median_intercept_minus_1,negative_fraction,fitted_maps,maps\n"
  for row in r.gainTest.rows {
    gain +=
      "\(row.values.rawValue),\(row.applied),\(row.recorded),\(csvNumber(r.gainTest.beta)),\(csvNumber(row.medianSlope)),\(csvNumber(row.medianIntercept)),\(csvNumber(row.negativeFraction)),\(row.fittedMaps),\(row.maps)\n"
  }
  try writeText(gain, dir + "/gain_model_test.csv")
  files["gain_model_test.csv"] =
    "per value kind, applied and recorded layer: median slope of activity ratio vs tuning rank"

  if r.detectorsTrained {
    try r.detectors.write(to: dir + "/detectors.safetensors", layer: r.config.detectorLayer, names: r.categories)
    files["detectors.safetensors"] = "the binary detectors trained for this study (reuse with --detectors)"
  }
  let summary = featureStudySummary(r)
  let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
  try writeFileAtomically(Array(data), to: dir + "/summary.json")
  files["summary.json"] =
    "settings, definitions, detector accuracy, headline numbers (no timings: same seed, same bytes)"
  try writeFeatureStudyReport(r, to: dir + "/report.pdf")
  files["report.pdf"] = "performance vs beta, performance change, c and d' per layer, the gain-model test"
  return files
}

/// The study's summary.json: settings, definitions, headline numbers and timings.
func featureStudySummary(_ r: FeatureStudyResult) -> [String: Any] {
  let c = r.config
  var headline: [[String: Any]] = []
  for s in r.summaries {
    headline.append([
      "images": s.kind.rawValue, "values": s.values.rawValue, "site": s.site, "change_pp": s.change.mean,
      "change_sem": s.change.sem, "cv_change_pp": s.crossValidatedChange.mean,
      "cv_change_sem": s.crossValidatedChange.sem, "best_beta": s.bestBeta,
    ])
  }
  return [
    "model": c.model, "weights": c.weights, "detectors": c.detectors ?? "trained (detectors.safetensors)",
    "detector_layer": c.detectorLayer, "images": r.imageSource, "categories": r.categories,
    "attention_layers": zip(r.layers, r.layerDescriptions).map { "\($0) (\($1))" }, "betas": c.betas,
    "feature_gain_form": c.form.name, "positives_per_category": c.positives, "negatives_per_category": c.positives,
    "fit_images_per_category": r.values.imagesPerCategory, "seed": c.seed,
    "detector_balanced_accuracy_single_images": r.detectorAccuracy,
    "gain_test": ["beta": r.gainTest.beta, "images_per_category": r.gainTest.imagesPerCategory],
    "performance_change": headline,
    "definitions": featureStudyDefinitions(r),
  ]
}

/// What every number of the study is, in words (summary.json and the report).
func featureStudyDefinitions(_ r: FeatureStudyResult) -> [String] {
  [
    "Attention multiplies the post-ReLU output of one conv layer (before pooling) by max(0, 1 + beta v_k) per feature map k, the same at every position; 'all' applies it at every attention layer with beta / 10. This run: \(r.config.form.name)\(r.config.form.additive ? " (additive: max(0, h + beta v_k b_l), b_l the layer's mean response over the fit images)" : "").",
    "Spatial attention (array images, for comparison): map positions in the quadrant that holds the category (a random quadrant in negatives) x (1 + beta), the rest x max(0, 1 - beta).",
    "Tuning value: the map's mean response over fit images of the category and over positions, z-scored across categories (population SD).",
    "Gradient value: the mean over fit images of the category and positions of d(detector logit)/d(map activity), divided per map by its largest magnitude over categories.",
    "Detectors: one logistic unit per category on \(r.config.detectorLayer) (sigmoid cross-entropy + 0.01 l2_loss(w), Adam 1e-2), trained on whole images and single images in a quadrant; present when logit >= 0.",
    "Merged: a category image averaged with another category's; array: four images shrunk into the quadrants of a 2x2 grid; \(r.config.positives) positives and \(r.config.positives) negatives per category from held-out images.",
    "Performance = (TP rate + TN rate) / 2. Change = max over beta of (perf(beta) - perf(0)) in percentage points (>= 0 by construction); cross-validated change: beta chosen on half the test images, scored on the other half (can be < 0). Mean +- SEM over categories.",
    "c = -(z(H) + z(F)) / 2 and d' = z(H) - z(F) from category-mean hit and false-alarm rates clipped to [0.01, 0.99], at beta 0 and at the beta with the best mean performance.",
    "Gain-model test: attention to category c (beta \(r.gainTest.beta)) at one layer while images of c alone are shown; per recorded map the ratio attended / unattended of its mean response, against c's rank in the map's tuning (0 = preferred); a line per map, median slope per layer (negative: feature-similarity gain).",
  ]
}
