import Engine

/// torchvision's AlexNet (`torchvision.models.alexnet`): `features` (five convs with ReLUs and three
/// 3x3/2 max pools), `avgpool` (adaptive to 6x6, so any input of at least 63x63 works) and
/// `classifier` (dropout, 9216 -> 4096 -> 4096 -> classes). Parameter keys are torchvision's
/// (`features.0.weight`, `classifier.6.bias`), so its state_dict loads with no renaming. Input:
/// [N, 3, H, W], ImageNet-normalised; output: class scores [N, classes].
public final class AlexNet: FeaturesClassifier {
  /// PyTorch's default initialisation from `seed` (load weights for anything meaningful).
  public init(classes: Int = 1000, seed: UInt64 = 0) {
    var rng = RandomGenerator(seed: seed)
    let features = Sequential([
      Conv2d(3, 64, kernel: 11, stride: 4, padding: 2, rng: &rng), ReLU(), MaxPool2d(kernel: 3, stride: 2),
      Conv2d(64, 192, kernel: 5, padding: 2, rng: &rng), ReLU(), MaxPool2d(kernel: 3, stride: 2),
      Conv2d(192, 384, kernel: 3, padding: 1, rng: &rng), ReLU(),
      Conv2d(384, 256, kernel: 3, padding: 1, rng: &rng), ReLU(),
      Conv2d(256, 256, kernel: 3, padding: 1, rng: &rng), ReLU(), MaxPool2d(kernel: 3, stride: 2),
    ])
    let classifier = Sequential([
      Dropout(p: 0.5, seed: seed &+ 1), Linear(256 * 6 * 6, 4096, rng: &rng), ReLU(),
      Dropout(p: 0.5, seed: seed &+ 2), Linear(4096, 4096, rng: &rng), ReLU(), Linear(4096, classes, rng: &rng),
    ])
    super.init(features: features, avgpool: AdaptiveAvgPool2d(6), classifier: classifier)
  }
}
