import Engine

/// The multi-label digit CNN of the CPU-scale Pointing Game study: a fully convolutional VGG-style
/// stack on 1 x 64 x 64 canvases, conv 3x3 (padding 1) + BatchNorm + ReLU with widths
/// 16 | 32, 32 | 64, 64 | 128
/// and a 2x2/2 max pool between stages (maps 64, 32, 16, 8 px), global average pooling, and one
/// linear layer to 10 digit scores (one logistic output per digit: which digits are present). With
/// global average pooling before a single linear classifier, CAM is exact on it. torchvision's
/// layout and names (`features.N`, `avgpool`, `classifier.0`). Output: scores [N, 10]. (Without
/// batch norm it barely learned in three short epochs; Excitation Backprop passes through batch norm.)
public final class MultiDigitCNN: FeaturesClassifier {
  /// Convolution widths, 0 for a max pool (VGG's configuration notation).
  public static let configuration = [16, 0, 32, 32, 0, 64, 64, 0, 128]
  /// Canvas side, pixels.
  public static let side = 64

  /// torchvision's VGG initialisation from `seed`: conv weights N(0, 2 / fan_out), linear weights
  /// N(0, 0.01^2), biases 0.
  public init(classes: Int = 10, seed: UInt64 = 0) {
    var rng = RandomGenerator(seed: seed)
    let (layers, channels) = VGG.featureLayers(Self.configuration, inChannels: 1, batchNorm: true, rng: &rng)
    super.init(
      features: Sequential(layers), avgpool: AdaptiveAvgPool2d(1),
      classifier: Sequential([Linear(channels, classes, rng: &rng)]))
    VGG.torchvisionInitialisation(self, rng: &rng)
  }
}
