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
  /// The geometric centre (row, column; input pixels, not clamped to the input) of the receptive field
  /// of the unit at map position (y, x); nil: the centre of the clamped field.
  public var receptiveFieldCentre: (@Sendable (Int, Int) -> (y: Double, x: Double))?

  public init(
    name: String, channels: Int, height: Int, width: Int,
    receptiveField: @escaping @Sendable (Int, Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>),
    centre: (@Sendable (Int, Int) -> (y: Double, x: Double))? = nil
  ) {
    self.name = name
    self.channels = channels
    self.height = height
    self.width = width
    self.receptiveField = receptiveField
    self.receptiveFieldCentre = centre
  }

  /// The geometric receptive-field centre of map position (y, x), input pixels (row, column).
  public func centre(_ y: Int, _ x: Int) -> (y: Double, x: Double) {
    if let c = receptiveFieldCentre { return c(y, x) }
    let rf = receptiveField(y, x)
    return (Double(rf.rows.lowerBound + rf.rows.upperBound) / 2, Double(rf.cols.lowerBound + rf.cols.upperBound) / 2)
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
