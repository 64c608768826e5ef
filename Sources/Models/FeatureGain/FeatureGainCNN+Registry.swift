import Engine
import ModelInterface

extension FeatureGainCNN {
  /// The feature-attention CNN: 1 x 56 x 56 digit canvases in [0, 1]; layers by torchvision's VGG
  /// module names (a ReLU's output is the post-ReLU response of the conv or linear layer before it).
  public static let registryEntry = ModelEntry(
    name: "feature-gain-cnn",
    summary: "VGG-style digit CNN of the feature-attention study (6 convs in 3 stages, 3 fully connected layers)",
    channels: 1, height: side, width: side, variableSize: false, minimumSide: side, normalization: .none,
    layers: [
      RecordableLayer("features.1", "conv1_1, post-ReLU"), RecordableLayer("features.3", "conv1_2, post-ReLU"),
      RecordableLayer("features.4", "pool1"),
      RecordableLayer("features.6", "conv2_1, post-ReLU"), RecordableLayer("features.8", "conv2_2, post-ReLU"),
      RecordableLayer("features.9", "pool2"),
      RecordableLayer("features.11", "conv3_1, post-ReLU"), RecordableLayer("features.13", "conv3_2, post-ReLU"),
      RecordableLayer("features.14", "pool3"),
      RecordableLayer("classifier.1", "fc6, post-ReLU"), RecordableLayer("classifier.4", "fc7, post-ReLU"),
      RecordableLayer("classifier.6", "fc8, class scores"),
    ],
    make: { FeatureGainCNN() }
  ).withMapLayers(MapLayers(map: "features.9", cam: "features.13", contrast: "classifier.4"))
}
