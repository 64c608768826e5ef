import Engine
import ModelInterface

extension SmallCNN {
  /// The smoke CNN: 1 x 28 x 28 MNIST digits in [0, 1]. Its pools are functional, so its window
  /// steps are stated here.
  public static let registryEntry = ModelEntry(
    name: "smoke-cnn", summary: "the engine's small digit CNN (2 convs, 2 fully connected layers)", channels: 1,
    height: 28, width: 28, variableSize: false, minimumSide: 28, normalization: .none,
    layers: [
      RecordableLayer("conv1", "conv1, pre-ReLU"), RecordableLayer("conv2", "conv2, pre-ReLU"),
      RecordableLayer("fc1", "fc1, pre-ReLU"), RecordableLayer("fc2", "class scores"),
    ],
    make: { SmallCNN(seed: 0) },
    steps: { layer in
      let conv = WindowStep.window(kernel: 5, stride: 1, padding: 0, dilation: 1)
      let pool = WindowStep.window(kernel: 2, stride: 2, padding: 0, dilation: 1)
      switch layer {
      case "conv1": return [conv]
      case "conv2": return [conv, pool, conv]
      case "fc1", "fc2", "drop": return [conv, pool, conv, pool, .global]
      default: return nil
      }
    })
}
