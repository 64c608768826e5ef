import Engine
import Foundation
import Testing

@testable import Workbench

/// The shipped feature-attention CNN and detectors (`ephys train feature-gain-cnn --epochs 30 --seed 1`).
@Suite("Feature-based attention on the shipped checkpoint", .serialized)
struct FeatureAttentionCheckpointTests {
  /// A reduced study (betas 0, 0.5, 2; 50 positives and 50 negatives per digit): attention at the last conv
  /// layer and at all layers raises detection on held-out merged and array images, by a margin that
  /// survives choosing beta on one half of the images and scoring it on the other.
  @Test("attention improves detection (cross-validated) at conv3_2 and at all layers") func detection() throws {
    var config = FeatureStudyConfig()
    config.weights = repoRoot + "/Checkpoints/feature-gain-cnn.safetensors"
    config.detectors = repoRoot + "/Checkpoints/feature-gain-cnn-detectors.safetensors"
    config.betas = [0, 0.5, 2]
    config.positives = 50
    config.fitImages = 100
    config.gainTestImages = 20
    let result = try runFeatureStudy(config)
    #expect(result.detectorAccuracy.allSatisfy { $0 >= 0.95 }, "detectors on single held-out digits")
    for s in result.summaries where s.site == "all" || s.site == "features.13" {
      print(
        String(
          format: "FEATURE STUDY %@ %@ %@: change %.1f ± %.1f, cross-validated %.1f ± %.1f", s.kind.rawValue,
          s.values.rawValue, s.site, s.change.mean, s.change.sem, s.crossValidatedChange.mean,
          s.crossValidatedChange.sem))
      if s.values != .spatial {
        #expect(s.crossValidatedChange.mean - s.crossValidatedChange.sem > 0, "\(s.kind) \(s.values) \(s.site)")
      }
    }
    // The gain-model test: attention at conv2_2 from tuning values makes later maps' gains fall with
    // the attended category's tuning rank.
    for row in result.gainTest.rows where row.values == .tuning && row.applied == "features.8" {
      if ["features.11", "features.13"].contains(row.recorded) {
        #expect(row.medianSlope < 0 && row.negativeFraction > 0.75, "\(row.recorded)")
      }
    }
  }

  /// The Treue & Martinez-Trujillo picture on the shipped protocol: attention to 45 degrees (tuning
  /// values on conv2_1) raises the gain of conv3 units preferring 45 degrees and lowers it for units
  /// preferring 135 degrees.
  @Test("gain falls with the distance between preferred and attended orientation") func featureSimilarity() throws {
    var spec = try ProtocolFile.load(repoRoot + "/Protocols/feature-gain-orientation.yaml")
    spec.writeResponses = false
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-fsg-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    _ = try ProtocolRunner.run(spec, output: dir, notice: { _ in })
    let table = try readCSVColumns(dir + "/feature_similarity_layers.csv")
    #expect(table["layer"] == ["features.11", "features.13"])
    for (i, layer) in (table["layer"] ?? []).enumerated() {
      let slope = try #require(Double(table["log2_gain_slope_per_deg"]![i]))
      let p = try #require(Double(table["p"]![i]))
      let near = try #require(Double(table["mean_log2_gain_within_22_5_deg"]![i]))
      let far = try #require(Double(table["mean_log2_gain_beyond_67_5_deg"]![i]))
      print("FEATURE SIMILARITY \(layer): slope \(slope) per deg, p \(p), log2 gain near \(near), far \(far)")
      #expect(slope < 0 && p < 1e-6 && near > 0 && far < 0, "\(layer)")
    }
    let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/summary.json")))
    let gain = (summary as? [String: Any])?["feature_gain"] as? [String: Any]
    #expect(gain?["target_orientation"] as? Double == 45)
  }
}
