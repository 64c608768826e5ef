/// Every architecture the workbench can build, load and record from. A model folder defines its
/// entries (`<Model>+Registry.swift`); adding a model adds one line here.
public enum ModelRegistry {
  public static let entries: [ModelEntry] =
    ObjectAttentionNet.registryEntries
    + [SmallCNN.registryEntry]
    + [FeatureGainCNN.registryEntry]
    + [MultiDigitCNN.registryEntry]
    + [SaliencyMultisetNet.registryEntry]
    + [AlexNet.registryEntry]
    + VGG.registryEntries
    + ResNet.registryEntries

  /// The entry called `name`, if any.
  public static func entry(_ name: String) -> ModelEntry? { entries.first { $0.name == name } }

  /// Every name, in listing order.
  public static var names: [String] { entries.map(\.name) }
}
