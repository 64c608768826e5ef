import Datasets
import Engine
import ImageIO
import Stimuli

/// Digits on the feature-attention CNN's 56 x 56 canvas (values in [0, 1]).
public enum DigitCanvas {
  /// A 28 x 28 digit enlarged to fill the canvas (bilinear, 2x): the "whole image" of a category that
  /// merged images average and arrays shrink back into a quadrant.
  public static func full(_ digit: ArraySlice<Float>) -> [Float] {
    resampleBilinear(
      Array(digit), channels: 1, height: MNIST.side, width: MNIST.side, toHeight: FeatureGainCNN.side,
      toWidth: FeatureGainCNN.side)
  }

  /// `image` (side x side) shifted by (dy, dx) pixels, the uncovered border 0.
  static func shifted(_ image: [Float], side: Int, dy: Int, dx: Int) -> [Float] {
    var out = [Float](repeating: 0, count: side * side)
    for y in 0..<side where (0..<side).contains(y - dy) {
      for x in 0..<side where (0..<side).contains(x - dx) { out[y * side + x] = image[(y - dy) * side + x - dx] }
    }
    return out
  }

  /// A training presentation: half the time the whole-canvas digit shifted by up to 4 pixels, half the
  /// time the digit at its own size in a random quadrant (the rest blank), shifted by up to 2 pixels;
  /// contrast scaled by a uniform factor in [0.5, 1] so half-contrast merged images stay familiar.
  public static func training(_ digit: ArraySlice<Float>, rng: inout RandomGenerator) -> [Float] {
    let side = FeatureGainCNN.side
    var image: [Float]
    if rng.next() % 2 == 0 {
      image = shifted(full(digit), side: side, dy: Int(rng.next() % 9) - 4, dx: Int(rng.next() % 9) - 4)
    } else {
      let slot = Int(rng.next() % 4)
      let blank = [Float](repeating: 0, count: side * side)
      image = arrayImage((0..<4).map { $0 == slot ? full(digit) : blank }, channels: 1, side: side)
      image = shifted(image, side: side, dy: Int(rng.next() % 5) - 2, dx: Int(rng.next() % 5) - 2)
    }
    let contrast = Float(rng.uniform(0.5, 1))
    return image.map { $0 * contrast }
  }

  /// The digits of `data` as whole-canvas images grouped by label "0" ... "9".
  public static func categories(_ data: MNIST) -> CategoryImages {
    var images = [[[Float]]](repeating: [], count: 10)
    let n = MNIST.side * MNIST.side
    for i in 0..<data.count { images[data.labels[i]].append(full(data.pixels[(i * n)..<((i + 1) * n)])) }
    return CategoryImages(
      names: (0..<10).map(String.init), images: images, channels: 1, side: FeatureGainCNN.side)
  }
}
