import Analysis
import Engine
import Foundation
import ModelInterface
import Stimuli

/// The feature-similarity gain test of Lindsay & Miller (2018; the reference's FSGMtest): attention to
/// category c is applied at one layer (gains from tuning or gradient values at strength beta) while
/// images of category c alone are shown, and every attention layer is recorded. For each recorded
/// feature map, the activity ratio (attended / no attention; the map's mean over images and positions)
/// is taken for every attended category and plotted against that category's rank in the map's own
/// tuning (0 = the map's most preferred category, by its tuning value at the recorded layer); a line
/// is fitted per map. The feature-similarity gain model predicts negative slopes (gain falls from
/// preferred to anti-preferred categories) with intercepts above 1. Maps whose response is 0 without
/// attention for a category have no ratio there; maps with fewer than 3 ratios are not fitted.
public struct GainModelTest: Sendable {
  /// One applied x recorded layer pair for one value kind.
  public struct Row: Sendable {
    public var values: FeatureValueKind
    public var applied: String
    public var recorded: String
    /// Median slope over fitted maps (ratio per rank step), median intercept - 1.
    public var medianSlope: Double
    public var medianIntercept: Double
    /// Fraction of fitted maps with a negative slope.
    public var negativeFraction: Double
    public var fittedMaps: Int
    public var maps: Int
    /// Each fitted map's slope (for histograms).
    public var slopes: [Double]
  }

  public var beta: Double
  public var imagesPerCategory: Int
  public var rows: [Row]

  /// Runs the test on `images` (at most `limit` per category) at strength `beta`.
  public static func run(
    _ net: AttentionNetwork, values: FeatureValues, images: CategoryImages, limit: Int, beta: Double,
    progress: (Int, Int) -> Void = { _, _ in }
  ) -> GainModelTest {
    let layers = net.layers.count
    let categories = images.count
    let keep = Set(0..<layers)
    let kinds = FeatureValueKind.allCases
    let valueSets = kinds.map { values.values($0) }
    // mean[c][setting][layer][channel]; setting 0 = no attention, then (kind, applied layer).
    let settings = 1 + kinds.count * layers
    let buffer = SharedBuffer<[[Double]]>(count: categories * settings, value: [])
    forEachMicroBatch(categories, size: 1) { range in
      for c in range {
        let x = net.batch(Array(images.images[c].prefix(limit)))
        let n = Double(x.shape[0])
        func means(_ gains: [LayerModulation?]) -> [[Double]] {
          let maps = net.run(x, gains: gains, keep: keep).maps
          return (0..<layers).map { k in
            let divisor = n * Double(net.mapShapes[k][1] * net.mapShapes[k][2])
            return channelSums(maps[k]!).map { $0 / divisor }
          }
        }
        buffer[c * settings] = means([])
        for (v, set) in valueSets.enumerated() {
          for k in 0..<layers {
            var gains = [LayerModulation?](repeating: nil, count: layers)
            gains[k] = .scale(channelGain(beta: Float(beta), values: set[k][c].map(Float.init)))
            buffer[c * settings + 1 + v * layers + k] = means(gains)
          }
        }
      }
    }
    progress(1, 1)
    let tuning = values.tuning
    var rows: [Row] = []
    for (v, kind) in kinds.enumerated() {
      for applied in 0..<layers {
        for recorded in 0..<layers {
          let channels = net.mapShapes[recorded][0]
          var slopes: [Double] = []
          var intercepts: [Double] = []
          for k in 0..<channels {
            let preference = (0..<categories).map { tuning[recorded][$0][k] }
            // Rank 0 = most preferred; ties keep category order.
            let order = (0..<categories).sorted { preference[$0] > preference[$1] }
            var rank = [Double](repeating: 0, count: categories)
            for (r, c) in order.enumerated() { rank[c] = Double(r) }
            let ratio = (0..<categories).map { c -> Double in
              let base = buffer[c * settings][recorded][k]
              let att = buffer[c * settings + 1 + v * layers + applied][recorded][k]
              return base > 1e-12 ? att / base : .nan
            }
            if let line = fitLine(x: rank, y: ratio) {
              slopes.append(line.slope)
              intercepts.append(line.intercept - 1)
            }
          }
          rows.append(
            Row(
              values: kind, applied: net.layers[applied], recorded: net.layers[recorded],
              medianSlope: slopes.isEmpty ? .nan : median(slopes),
              medianIntercept: intercepts.isEmpty ? .nan : median(intercepts),
              negativeFraction: slopes.isEmpty ? .nan : Double(slopes.filter { $0 < 0 }.count) / Double(slopes.count),
              fittedMaps: slopes.count, maps: channels, slopes: slopes))
        }
      }
    }
    return GainModelTest(
      beta: beta, imagesPerCategory: images.images.map { min(limit, $0.count) }.min() ?? 0, rows: rows)
  }
}
