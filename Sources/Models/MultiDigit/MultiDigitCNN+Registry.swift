import Engine
import ModelInterface

extension MultiDigitCNN {
  /// The Pointing Game study's CNN: 1 x 64 x 64 multi-digit canvases in [0, 1]; layers by
  /// torchvision's module names.
  public static let registryEntry = ModelEntry(
    name: "multi-digit-cnn",
    summary: "multi-label digit CNN of the Pointing Game study (6 convs, global average pooling, 1 linear layer)",
    channels: 1, height: side, width: side, variableSize: true, minimumSide: 8, normalization: .none,
    layers: [
      RecordableLayer("features.2", "conv1, post-ReLU (64 x 64)"), RecordableLayer("features.3", "pool1 (32 x 32)"),
      RecordableLayer("features.6", "conv2_1, post-ReLU"), RecordableLayer("features.9", "conv2_2, post-ReLU"),
      RecordableLayer("features.10", "pool2 (16 x 16)"),
      RecordableLayer("features.13", "conv3_1, post-ReLU"),
      RecordableLayer("features.16", "conv3_2, post-ReLU (16 x 16): the Pointing Game's map layer"),
      RecordableLayer("features.17", "pool3 (8 x 8)"),
      RecordableLayer("features.20", "conv4, post-ReLU (8 x 8): CAM's and Grad-CAM's layer"),
      RecordableLayer("avgpool", "global average (the classifier's input, c-MWP's contrast layer)"),
      RecordableLayer("classifier.0", "digit scores (logits)"),
    ],
    make: { MultiDigitCNN() }
  ).withMapLayers(MapLayers(map: "features.16", cam: "features.20", contrast: "avgpool"))
}
