import Engine
import ModelInterface

extension SaliencyMultisetNet {
  /// HSAL-RL's activation model f_A for the workbench: 1 x 64 x 64 canvases in [0, 1]; its units are
  /// recorded like any CNN's (the attention rollout runs through `ephys evaluate saliency-multiset`).
  /// Loading reads the configuration from the checkpoint's metadata.
  public static let registryEntry = ModelEntry(
    name: "saliency-multiset",
    summary: "HSAL-RL's activation CNN (saliency = sum of squared channels of its last conv); 64 x 64 canvases",
    channels: 1, height: 64, width: 64, variableSize: false, minimumSide: 64, normalization: .none,
    layers: [
      RecordableLayer("activation.features.1", "conv1, post-ReLU (64 x 64)"),
      RecordableLayer("activation.features.2", "pool1 (32 x 32)"),
      RecordableLayer("activation.features.4", "conv2, post-ReLU (32 x 32)"),
      RecordableLayer("activation.features.5", "pool2 (16 x 16)"),
      RecordableLayer("activation.features.7", "conv3, post-ReLU (16 x 16)"),
      RecordableLayer("activation.features.8", "pool3 (8 x 8)"),
      RecordableLayer("activation.features.10", "conv4, post-ReLU (8 x 8): the activation volume V"),
    ],
    make: { SaliencyMultisetNet() },
    load: { path in try SaliencyMultisetNet.load(from: path) })
}
