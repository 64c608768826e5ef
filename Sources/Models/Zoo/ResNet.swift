import Engine

/// torchvision's ResNet-18, -34 and -50 (`torchvision.models.resnet18` ...): a 7x7/2 stem conv with
/// BatchNorm, ReLU and a 3x3/2 max pool, four stages of residual blocks (`layer1` ... `layer4`;
/// BasicBlocks for 18 and 34, Bottlenecks with the stride on the 3x3 conv, torchvision's "v1.5", for
/// 50), global average pooling (`avgpool`) and `fc`. Parameter and buffer keys are torchvision's
/// (`layer3.1.conv2.weight`, `layer2.0.downsample.1.running_mean`). Input: [N, 3, H, W],
/// ImageNet-normalised, any size of at least 32x32; output: class scores [N, classes].
public final class ResNet: Module {
  /// The depths torchvision ships here, with their blocks per stage.
  public enum Depth: Int, Sendable, CaseIterable {
    case resnet18 = 18
    case resnet34 = 34
    case resnet50 = 50

    /// Residual blocks in each of the four stages.
    public var blocks: [Int] {
      switch self {
      case .resnet18: return [2, 2, 2, 2]
      case .resnet34, .resnet50: return [3, 4, 6, 3]
      }
    }
    /// Whether the blocks are Bottlenecks (1x1, 3x3, 1x1 with 4x expansion).
    public var bottleneck: Bool { self == .resnet50 }
  }

  public let depth: Depth
  public let conv1: Conv2d
  public let bn1: BatchNorm
  public let relu = ReLU()
  public let maxpool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
  public let stages: [Sequential]
  public let avgpool = AdaptiveAvgPool2d(1)
  public let fc: Linear

  /// PyTorch's default initialisation from `seed` (load weights for anything meaningful).
  public init(_ depth: Depth, classes: Int = 1000, seed: UInt64 = 0) {
    self.depth = depth
    var rng = RandomGenerator(seed: seed)
    conv1 = Conv2d(3, 64, kernel: 7, stride: 2, padding: 3, bias: false, rng: &rng)
    bn1 = BatchNorm(64)
    let expansion = depth.bottleneck ? 4 : 1
    var inChannels = 64
    var stages: [Sequential] = []
    for (stage, count) in depth.blocks.enumerated() {
      let width = 64 << stage
      var blocks: [Module] = []
      for b in 0..<count {
        let stride = b == 0 && stage > 0 ? 2 : 1
        let block: Module =
          depth.bottleneck
          ? Bottleneck(inChannels, width, stride: stride, rng: &rng)
          : BasicBlock(inChannels, width, stride: stride, rng: &rng)
        blocks.append(block)
        inChannels = width * expansion
      }
      stages.append(Sequential(blocks))
    }
    self.stages = stages
    fc = Linear(512 * expansion, classes, rng: &rng)
    super.init()
    registerModule("conv1", conv1)
    registerModule("bn1", bn1)
    registerModule("relu", relu)
    registerModule("maxpool", maxpool)
    for (i, s) in stages.enumerated() { registerModule("layer\(i + 1)", s) }
    registerModule("avgpool", avgpool)
    registerModule("fc", fc)
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    var h = maxpool(relu(bn1(conv1(x))))
    for s in stages { h = s(h) }
    return fc(avgpool(h).flattened(from: 1))
  }
}

/// The projection on a residual block's shortcut when its shape changes: 1x1 conv (stride) and
/// BatchNorm, keys `downsample.0` and `downsample.1`.
func downsample(_ inChannels: Int, _ outChannels: Int, stride: Int, rng: inout RandomGenerator) -> Sequential? {
  guard stride != 1 || inChannels != outChannels else { return nil }
  return Sequential([
    Conv2d(inChannels, outChannels, kernel: 1, stride: Pair(stride, stride), bias: false, rng: &rng),
    BatchNorm(outChannels),
  ])
}

/// ResNet-18/34's block: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convs.
public final class BasicBlock: Module, WindowPath {
  public let conv1, conv2: Conv2d
  public let bn1, bn2: BatchNorm
  public let relu = ReLU()
  public let shortcut: Sequential?

  init(_ inChannels: Int, _ width: Int, stride: Int, rng: inout RandomGenerator) {
    conv1 = Conv2d(inChannels, width, kernel: 3, stride: Pair(stride, stride), padding: 1, bias: false, rng: &rng)
    bn1 = BatchNorm(width)
    conv2 = Conv2d(width, width, kernel: 3, padding: 1, bias: false, rng: &rng)
    bn2 = BatchNorm(width)
    shortcut = downsample(inChannels, width, stride: stride, rng: &rng)
    super.init()
    registerModule("conv1", conv1)
    registerModule("bn1", bn1)
    registerModule("relu", relu)
    registerModule("conv2", conv2)
    registerModule("bn2", bn2)
    if let shortcut { registerModule("downsample", shortcut) }
  }

  /// The residual path (the 1x1 shortcut's field lies inside it).
  public var windowSteps: [WindowStep] { [conv1.windowStep, conv2.windowStep] }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    let h = bn2(conv2(relu(bn1(conv1(x)))))
    return relu(h + (shortcut.map { $0(x) } ?? x))
  }
}

/// ResNet-50's block: 1x1 reduce, 3x3 (with the stride), 1x1 expand by 4, each with BatchNorm,
/// plus the shortcut, then ReLU.
public final class Bottleneck: Module, WindowPath {
  public let conv1, conv2, conv3: Conv2d
  public let bn1, bn2, bn3: BatchNorm
  public let relu = ReLU()
  public let shortcut: Sequential?

  init(_ inChannels: Int, _ width: Int, stride: Int, rng: inout RandomGenerator) {
    conv1 = Conv2d(inChannels, width, kernel: 1, bias: false, rng: &rng)
    bn1 = BatchNorm(width)
    conv2 = Conv2d(width, width, kernel: 3, stride: Pair(stride, stride), padding: 1, bias: false, rng: &rng)
    bn2 = BatchNorm(width)
    conv3 = Conv2d(width, width * 4, kernel: 1, bias: false, rng: &rng)
    bn3 = BatchNorm(width * 4)
    shortcut = downsample(inChannels, width * 4, stride: stride, rng: &rng)
    super.init()
    registerModule("conv1", conv1)
    registerModule("bn1", bn1)
    registerModule("conv2", conv2)
    registerModule("bn2", bn2)
    registerModule("conv3", conv3)
    registerModule("bn3", bn3)
    registerModule("relu", relu)
    if let shortcut { registerModule("downsample", shortcut) }
  }

  /// The residual path (the 1x1 shortcut's field lies inside it).
  public var windowSteps: [WindowStep] { [conv1.windowStep, conv2.windowStep, conv3.windowStep] }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    let h = bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))))
    return relu(h + (shortcut.map { $0(x) } ?? x))
  }
}
