/// A recordable layer of a model at the model's input size: its name, output map shape and how its
/// units see the input. A unit is one (channel, y, x) position of the map; a fully connected layer's
/// output is a map of `channels` x 1 x 1.
public struct LayerGeometry: Sendable, Equatable {
  /// The layer's name (a PyTorch module name such as `features.29`, or a model's own such as `conv2`).
  public var name: String
  /// Output channels, height and width of the map.
  public var channels, height, width: Int
  /// Input rows and columns (inclusive, input pixels) seen by the unit at map position (y, x).
  public var receptiveField: @Sendable (Int, Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>)

  public init(
    name: String, channels: Int, height: Int, width: Int,
    receptiveField: @escaping @Sendable (Int, Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>)
  ) {
    self.name = name
    self.channels = channels
    self.height = height
    self.width = width
    self.receptiveField = receptiveField
  }

  public static func == (a: LayerGeometry, b: LayerGeometry) -> Bool {
    a.name == b.name && a.channels == b.channels && a.height == b.height && a.width == b.width
  }

  /// Units in the layer (channels x height x width).
  public var units: Int { channels * height * width }

  /// [C, H, W].
  public var shapeCHW: [Int] { [channels, height, width] }

  /// Whether the map has more than one position (a spatial gain can act on it).
  public var isSpatial: Bool { height * width > 1 }
}
