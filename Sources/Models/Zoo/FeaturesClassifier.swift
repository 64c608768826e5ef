import Engine

/// torchvision's layout of AlexNet and VGG: `features` (convs, ReLUs and pools), `avgpool`
/// (adaptive, so the classifier sees a fixed size whatever the input) and `classifier` on the
/// flattened pooled map. Input [N, 3, H, W]; output class scores [N, classes].
open class FeaturesClassifier: Module {
  public let features: Sequential
  public let avgpool: AdaptiveAvgPool2d
  public let classifier: Sequential

  public init(features: Sequential, avgpool: AdaptiveAvgPool2d, classifier: Sequential) {
    self.features = features
    self.avgpool = avgpool
    self.classifier = classifier
    super.init()
    registerModule("features", features)
    registerModule("avgpool", avgpool)
    registerModule("classifier", classifier)
  }

  open override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    classifier(avgpool(features(x)).flattened(from: 1))
  }
}
