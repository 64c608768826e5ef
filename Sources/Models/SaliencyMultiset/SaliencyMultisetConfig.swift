import Datasets

/// The geometry and sizes of the hierarchical saliency-based attention network (HSAL-RL, Welleck et
/// al. 2017, section 3) at CPU scale. The paper's values are in brackets.
public struct SaliencyMultisetConfig: Sendable, Equatable, Codable {
  /// Canvas side, pixels [100, resized to 224 for ResNet-34].
  public var canvasSide = 64
  /// Channels C of the activation volume V [512, ResNet-34's last block].
  public var channels = 64
  /// Height and width of V, cells [7 x 7]; the activation CNN downsamples the canvas by
  /// canvasSide / gridSide.
  public var gridSide = 8
  /// Gaussian components K of the covert attention mask [5].
  public var components = 5
  /// Width beta of each component, inclusive range [exp(.) constrained to 1.5-2.0]; here
  /// beta = lower + (upper - lower) * sigmoid(.), the smooth form of the constraint.
  public var betaLower: Float = 1.5
  public var betaUpper: Float = 2.0
  /// Meta-controller encoder and GRU width [128].
  public var metaHidden = 128
  /// Controller encoder and GRU width [512].
  public var controllerHidden = 256
  /// Glimpse steps k per meta step before the class step [2].
  public var glimpses = 2
  /// Digit classes; the class step chooses among them and "stop" (index `classes`).
  public var classes = 10

  public init() {}

  /// Locations of V (h * w): the glimpse action space.
  public var locations: Int { gridSide * gridSide }
  /// Class-step outcomes: the digits and "stop".
  public var outcomes: Int { classes + 1 }
  /// The "stop" outcome's index.
  public var stop: Int { classes }
  /// The meta-controller's input: the flattened saliency map and the previous label (one-hot).
  public var metaInput: Int { locations + outcomes }
  /// The controller's input: the priority map, the previous label, the previous glimpse location
  /// (one-hot) and the previous glimpse vector.
  public var controllerInput: Int { locations + outcomes + locations + channels }

  /// Refuses sizes the network cannot be built with.
  public func validate() throws {
    func fail(_ m: String) -> DatasetError { DatasetError(m, file: "saliency-multiset configuration") }
    guard gridSide >= 1, canvasSide >= gridSide, canvasSide % gridSide == 0,
      (canvasSide / gridSide).nonzeroBitCount == 1
    else {
      throw fail("canvas side \(canvasSide) must be the grid side \(gridSide) times a power of two")
    }
    guard channels >= 1, channels <= 4096, components >= 1, components <= 64, metaHidden >= 1,
      controllerHidden >= 1, metaHidden <= 8192, controllerHidden <= 8192, glimpses >= 0, glimpses <= 16,
      classes >= 1, classes <= 1000
    else { throw fail("sizes out of range: \(self)") }
    guard betaLower > 0, betaUpper >= betaLower, betaUpper.isFinite else {
      throw fail("beta range [\(betaLower), \(betaUpper)] must be positive and ordered")
    }
  }

  /// The keys of the checkpoint metadata that carry this configuration.
  public var metadata: [String: String] {
    [
      "hsal.canvas_side": "\(canvasSide)", "hsal.channels": "\(channels)", "hsal.grid_side": "\(gridSide)",
      "hsal.components": "\(components)", "hsal.beta_lower": "\(betaLower)", "hsal.beta_upper": "\(betaUpper)",
      "hsal.meta_hidden": "\(metaHidden)", "hsal.controller_hidden": "\(controllerHidden)",
      "hsal.glimpses": "\(glimpses)", "hsal.classes": "\(classes)",
    ]
  }

  /// The configuration stored in checkpoint metadata (keys missing: the defaults); errors name the key.
  public init(metadata m: [String: String]) throws {
    self.init()
    func int(_ key: String, _ into: inout Int) throws {
      guard let v = m[key] else { return }
      guard let n = Int(v) else {
        throw DatasetError("metadata \(key) = \"\(v)\" is not an integer", file: "checkpoint")
      }
      into = n
    }
    func float(_ key: String, _ into: inout Float) throws {
      guard let v = m[key] else { return }
      guard let x = Float(v), x.isFinite else {
        throw DatasetError("metadata \(key) = \"\(v)\" is not a number", file: "checkpoint")
      }
      into = x
    }
    try int("hsal.canvas_side", &canvasSide)
    try int("hsal.channels", &channels)
    try int("hsal.grid_side", &gridSide)
    try int("hsal.components", &components)
    try float("hsal.beta_lower", &betaLower)
    try float("hsal.beta_upper", &betaUpper)
    try int("hsal.meta_hidden", &metaHidden)
    try int("hsal.controller_hidden", &controllerHidden)
    try int("hsal.glimpses", &glimpses)
    try int("hsal.classes", &classes)
    try validate()
  }
}
