import Engine
import ModelInterface

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

  /// File formats that hold a whole network (architecture and weights): `--model NAME --weights FILE`.
  public static let importers: [ModelImporter] = [ONNXModel.importer]

  /// The entry called `name`, if any.
  public static func entry(_ name: String) -> ModelEntry? { entries.first { $0.name == name } }

  /// The entry called `name`, or for an importer's name the network read from `file` with input
  /// `normalization` (nil: the importer's default); nil for an unknown name. Errors are the
  /// importer's (file, node, what was found). A registry network's normalisation is its training's,
  /// so one given for it is an error.
  public static func entry(_ name: String, file: String?, normalization: InputNormalization? = nil) throws
    -> ModelEntry?
  {
    if let importer = importers.first(where: { $0.name == name }) {
      guard let file, file != "random" else {
        throw CheckpointError("--model \(name) reads the network from its file: give --weights FILE")
      }
      return try importer.entry(file, normalization)
    }
    if normalization != nil, entries.contains(where: { $0.name == name }) {
      throw CheckpointError(
        "\(name) normalises its input as it was trained; a normalisation is given only for imported networks")
    }
    return entry(name)
  }

  /// Every registered name and importer, for messages.
  public static var allNames: [String] { names + importers.map(\.name) }

  /// Every name, in listing order.
  public static var names: [String] { entries.map(\.name) }
}

/// A file format the workbench reads whole networks from (architecture and weights in one file, e.g.
/// ONNX): `entry(file)` builds the model's entry from the file itself.
public struct ModelImporter: Sendable {
  /// The name used as `--model NAME` and in protocols.
  public var name: String
  /// One line on what it reads.
  public var summary: String
  /// The entry of the network in a file, with an input normalisation (nil: the importer's default).
  public var entry: @Sendable (String, InputNormalization?) throws -> ModelEntry

  public init(
    name: String, summary: String, entry: @escaping @Sendable (String, InputNormalization?) throws -> ModelEntry
  ) {
    self.name = name
    self.summary = summary
    self.entry = entry
  }
}
