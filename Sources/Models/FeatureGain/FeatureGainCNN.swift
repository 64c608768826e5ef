import Engine

/// The VGG-style CNN of the feature-based attention study (Lindsay & Miller 2018 at CPU scale):
/// three stages of two 3x3 convs (16, 32, 64 channels, padding 1, each followed by a ReLU) with a
/// 2x2/2 max pool after each stage, then fc6 (3136 -> 256), fc7 (256 -> 256), both with ReLU and
/// dropout 0.5, and fc8 (256 -> 10 digit classes). torchvision's VGG layout and module names
/// (`features.N`, `avgpool`, `classifier.N`), so the same study code runs on a torchvision VGG16.
/// Input: [N, 1, 56, 56] canvases in [0, 1]; output: class scores [N, 10].
public final class FeatureGainCNN: FeaturesClassifier {
  /// Convolution widths per stage, 0 for a max pool (VGG's configuration notation).
  public static let configuration = [16, 16, 0, 32, 32, 0, 64, 64, 0]
  /// Canvas side, pixels: room for a 2x2 array of 28 x 28 digits.
  public static let side = 56
  /// Width of fc6 and fc7.
  public static let hidden = 256

  /// torchvision's VGG initialisation from `seed` (a VGG without batch norm does not learn from
  /// PyTorch's layer defaults): conv weights N(0, 2 / fan_out) (Kaiming, fan-out, ReLU), linear weights
  /// N(0, 0.01^2), biases 0.
  public init(classes: Int = 10, seed: UInt64 = 0) {
    var rng = RandomGenerator(seed: seed)
    let (layers, channels) = VGG.featureLayers(Self.configuration, inChannels: 1, batchNorm: false, rng: &rng)
    let pooled = Self.side >> 3
    let classifier = Sequential([
      Linear(channels * pooled * pooled, Self.hidden, rng: &rng), ReLU(), Dropout(p: 0.5, seed: seed &+ 1),
      Linear(Self.hidden, Self.hidden, rng: &rng), ReLU(), Dropout(p: 0.5, seed: seed &+ 2),
      Linear(Self.hidden, classes, rng: &rng),
    ])
    super.init(features: Sequential(layers), avgpool: AdaptiveAvgPool2d(Pair(pooled, pooled)), classifier: classifier)
    VGG.torchvisionInitialisation(self, rng: &rng)
  }
}
