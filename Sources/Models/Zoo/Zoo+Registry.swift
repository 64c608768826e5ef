import Engine
import ModelInterface

/// Registry entries of the torchvision zoo: 224 x 224 RGB, ImageNet normalisation, torchvision's
/// evaluation transform for image files (shorter side to 256, central 224 crop), any input of at
/// least the minimum side (adaptive pooling before the classifier). Layers by torchvision's module
/// names; a ReLU's output is the post-ReLU response of the conv or linear layer before it.
extension AlexNet {
  public static let registryEntry = ModelEntry(
    name: "alexnet", summary: "torchvision AlexNet (5 convs, 3 fully connected layers)", channels: 3, height: 224,
    width: 224, variableSize: true, minimumSide: 63, normalization: .imagenet,
    layers: [
      RecordableLayer("features.1", "conv1, post-ReLU"), RecordableLayer("features.2", "pool1"),
      RecordableLayer("features.4", "conv2, post-ReLU"), RecordableLayer("features.5", "pool2"),
      RecordableLayer("features.7", "conv3, post-ReLU"), RecordableLayer("features.9", "conv4, post-ReLU"),
      RecordableLayer("features.11", "conv5, post-ReLU"), RecordableLayer("features.12", "pool5"),
      RecordableLayer("avgpool", "adaptive average pool to 6x6"),
      RecordableLayer("classifier.2", "fc6, post-ReLU"), RecordableLayer("classifier.5", "fc7, post-ReLU"),
      RecordableLayer("classifier.6", "fc8, class scores"),
    ],
    make: { AlexNet() }, cropFraction: 0.875
  ).withMapLayers(MapLayers(map: "features.5", cam: "features.11", contrast: "classifier.5"))
}

extension VGG {
  /// vgg11 ... vgg19 and their `_bn` variants.
  public static let registryEntries: [ModelEntry] = Depth.allCases.flatMap { depth in
    [false, true].map { bn in entry(depth, batchNorm: bn) }
  }

  /// Conv layers named as in the paper (conv<stage>_<i>), by the index of their ReLU in `features`.
  static func entry(_ depth: Depth, batchNorm bn: Bool) -> ModelEntry {
    var layers: [RecordableLayer] = []
    var index = 0
    var stage = 1
    var conv = 1
    for width in depth.configuration {
      if width == 0 {
        layers.append(RecordableLayer("features.\(index)", "pool\(stage)"))
        index += 1
        stage += 1
        conv = 1
        continue
      }
      index += bn ? 2 : 1
      layers.append(RecordableLayer("features.\(index)", "conv\(stage)_\(conv), post-ReLU"))
      index += 1
      conv += 1
    }
    layers += [
      RecordableLayer("avgpool", "adaptive average pool to 7x7"),
      RecordableLayer("classifier.1", "fc6, post-ReLU"), RecordableLayer("classifier.4", "fc7, post-ReLU"),
      RecordableLayer("classifier.6", "fc8, class scores"),
    ]
    let name = "vgg\(depth.rawValue)" + (bn ? "_bn" : "")
    let pools = layers.filter { $0.description.hasPrefix("pool") }.map(\.name)
    let convs = layers.filter { $0.description.hasPrefix("conv") }.map(\.name)
    return ModelEntry(
      name: name,
      summary:
        "torchvision VGG-\(depth.rawValue)\(bn ? " with batch norm" : "") (\(depth.configuration.filter { $0 > 0 }.count) convs, 3 fully connected layers)",
      channels: 3, height: 224, width: 224, variableSize: true, minimumSide: 32, normalization: .imagenet,
      layers: layers, make: { VGG(depth, batchNorm: bn) }, cropFraction: 0.875
    ).withMapLayers(MapLayers(map: pools[3], cam: convs.last!, contrast: "classifier.4"))
  }
}

extension ResNet {
  /// resnet18, resnet34, resnet50.
  public static let registryEntries: [ModelEntry] = Depth.allCases.map { depth in
    var layers = [RecordableLayer("maxpool", "stem: conv1, BN, ReLU, 3x3/2 max pool")]
    for (stage, count) in depth.blocks.enumerated() {
      for b in 0..<count {
        layers.append(RecordableLayer("layer\(stage + 1).\(b)", "stage \(stage + 1) block \(b + 1) output, post-ReLU"))
      }
    }
    layers += [RecordableLayer("avgpool", "global average pool"), RecordableLayer("fc", "class scores")]
    return ModelEntry(
      name: "resnet\(depth.rawValue)",
      summary:
        "torchvision ResNet-\(depth.rawValue) (\(depth.bottleneck ? "bottleneck" : "basic") blocks \(depth.blocks.map(String.init).joined(separator: "-")))",
      channels: 3, height: 224, width: 224, variableSize: true, minimumSide: 32, normalization: .imagenet,
      layers: layers, make: { ResNet(depth) }, cropFraction: 0.875
    ).withMapLayers(MapLayers(map: "layer3", cam: "layer4", contrast: "avgpool"))
  }
}
