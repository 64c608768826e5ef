import Engine

/// torchvision's VGG (`vgg11`, `vgg13`, `vgg16`, `vgg19` and their `_bn` variants): `features` (3x3
/// convs, each followed by BatchNorm in the `_bn` variants and a ReLU, with 2x2/2 max pools between
/// stages), `avgpool` (adaptive to 7x7, so any input of at least 32x32 works) and `classifier`
/// (25088 -> 4096 -> 4096 -> classes with ReLUs and dropout). Parameter keys are torchvision's
/// (`features.28.weight`, `classifier.6.bias`). Input: [N, 3, H, W], ImageNet-normalised; output:
/// class scores [N, classes].
public final class VGG: FeaturesClassifier {
  /// The four depths torchvision ships: convolution widths per stage, 0 for a max pool.
  public enum Depth: Int, Sendable, CaseIterable {
    case vgg11 = 11
    case vgg13 = 13
    case vgg16 = 16
    case vgg19 = 19

    /// torchvision's configurations A, B, D and E.
    public var configuration: [Int] {
      switch self {
      case .vgg11: return [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
      case .vgg13: return [64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
      case .vgg16: return [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]
      case .vgg19:
        return [64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0]
      }
    }
  }

  public let depth: Depth
  public let batchNorm: Bool

  /// PyTorch's default initialisation from `seed` (load weights for anything meaningful).
  public init(_ depth: Depth, batchNorm: Bool = false, classes: Int = 1000, seed: UInt64 = 0) {
    self.depth = depth
    self.batchNorm = batchNorm
    var rng = RandomGenerator(seed: seed)
    let (layers, _) = Self.featureLayers(depth.configuration, inChannels: 3, batchNorm: batchNorm, rng: &rng)
    let classifier = Sequential([
      Linear(512 * 7 * 7, 4096, rng: &rng), ReLU(), Dropout(p: 0.5, seed: seed &+ 1),
      Linear(4096, 4096, rng: &rng), ReLU(), Dropout(p: 0.5, seed: seed &+ 2), Linear(4096, classes, rng: &rng),
    ])
    super.init(features: Sequential(layers), avgpool: AdaptiveAvgPool2d(7), classifier: classifier)
  }

  /// VGG's `features` modules for a configuration (convolution widths, 0 for a 2x2/2 max pool): each
  /// conv 3x3 with padding 1, then BatchNorm when asked, then ReLU; returns them and the last width.
  /// torchvision's VGG initialisation of every conv and linear layer below `module`: conv weights
  /// N(0, 2 / fan_out) (Kaiming, fan-out, ReLU), linear weights N(0, 0.01^2), biases 0 (batch norm
  /// keeps weight 1, bias 0).
  public static func torchvisionInitialisation(_ module: Module, rng: inout RandomGenerator) {
    for (_, m) in module.namedModules() {
      if let conv = m as? Conv2d {
        let fanOut = conv.weight.shape[0] * conv.weight.shape[2] * conv.weight.shape[3]
        let sd = (2 / Double(fanOut)).squareRoot()
        conv.weight.assign((0..<conv.weight.count).map { _ in Float(rng.normal() * sd) })
        conv.bias.map { $0.assign([Float](repeating: 0, count: $0.count)) }
      } else if let fc = m as? Linear {
        fc.weight.assign((0..<fc.weight.count).map { _ in Float(rng.normal() * 0.01) })
        fc.bias.map { $0.assign([Float](repeating: 0, count: $0.count)) }
      }
    }
  }

  public static func featureLayers(
    _ configuration: [Int], inChannels: Int, batchNorm: Bool, rng: inout RandomGenerator
  ) -> (layers: [Module], channels: Int) {
    var layers: [Module] = []
    var channels = inChannels
    for width in configuration {
      if width == 0 {
        layers.append(MaxPool2d(kernel: 2, stride: 2))
        continue
      }
      layers.append(Conv2d(channels, width, kernel: 3, padding: 1, rng: &rng))
      if batchNorm { layers.append(BatchNorm(width)) }
      layers.append(ReLU())
      channels = width
    }
    return (layers, channels)
  }
}
