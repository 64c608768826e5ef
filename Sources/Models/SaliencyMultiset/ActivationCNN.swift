import Engine

/// The activation model f_A of HSAL-RL at CPU scale: a plain VGG-style stack on 1 x side x side
/// canvases (values in [0, 1]), conv 3x3 (padding 1) + ReLU with widths 16, 32, 64, ... (capped at C)
/// and a 2x2/2 max pool after each stage until the grid side is reached, then a last conv 3x3 to C
/// channels + ReLU: its output is the activation volume V [N, C, h, w] (the paper fine-tunes
/// ResNet-34 and takes its last block, 512 x 7 x 7). For pretraining on single digits a head takes the
/// global maximum of each channel and one linear layer to the digit scores. Names as in PyTorch:
/// `features.N`, `head`.
public final class ActivationCNN: Module {
  public let features: Sequential
  public let head: Linear

  /// Built from `config` (canvas and grid sides, C, classes) with PyTorch's default initialisation.
  public init(_ config: SaliencyMultisetConfig, rng: inout RandomGenerator) {
    var layers: [Module] = []
    var width = 1
    var side = config.canvasSide
    var stage = 0
    while side > config.gridSide {
      let next = min(16 << stage, config.channels)
      layers += [Conv2d(width, next, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(kernel: 2)]
      width = next
      side /= 2
      stage += 1
    }
    layers += [Conv2d(width, config.channels, kernel: 3, padding: 1, rng: &rng), ReLU()]
    features = Sequential(layers)
    head = Linear(config.channels, config.classes, rng: &rng)
    super.init()
    registerModule("features", features)
    registerModule("head", head)
  }

  /// The activation volume V [N, C, h, w].
  public func volume(_ x: Tensor<Float>) -> Tensor<Float> { features(x) }

  /// Digit scores [N, classes] from each channel's global maximum of V (pretraining only).
  public func scores(_ x: Tensor<Float>) -> Tensor<Float> {
    let v = volume(x)
    return head(v.reshaped([v.shape[0], v.shape[1], v.shape[2] * v.shape[3]]).max(dim: 2).values)
  }

  /// The volume, as the registry's forward pass (what the workbench records through).
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { volume(x) }
}
