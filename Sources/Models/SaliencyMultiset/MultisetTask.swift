import Datasets
import Engine

/// The two MNIST tasks of HSAL-RL's paper, at CPU scale: 64 x 64 canvases (the paper: 100 x 100) with
/// 1-4 digits of 14-28 px (the paper: 20-50 px at 100 px, about the same share of the canvas), 3-5
/// clutter crops of 5 px, digits placed as wellecks/mnist_multi places them. Set: distinct labels.
/// Multiset: labels drawn independently, and half of the canvases with two or more digits forced to
/// repeat a label (independent draws alone repeat a label on 1 in 10 two-digit canvases).
public enum MultisetTask: String, Sendable, CaseIterable, Codable {
  case set, multiset

  /// The canvas settings of the task at `side` pixels (digit sizes and clutter scale with the side).
  public func canvas(side: Int = 64) -> MultiDigitCanvasConfig {
    var c = MultiDigitCanvasConfig()
    c.side = side
    c.digitSizes = max(4, side * 14 / 64)...max(4, side * 28 / 64)
    c.digitCounts = 1...4
    c.clutterCounts = 3...5
    c.distinctLabels = self == .set
    c.forcedDuplicateShare = self == .set ? 0 : 0.5
    return c
  }

  /// Canvases and their activation-model input [N, 1, side, side].
  public static func images(_ canvases: [MultiDigitCanvas]) -> Tensor<Float> {
    let side = canvases.first?.side ?? 64
    return Tensor(shape: [canvases.count, 1, side, side], scalars: canvases.flatMap(\.pixels))
  }
}
