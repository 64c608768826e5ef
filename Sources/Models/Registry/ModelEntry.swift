import Engine
import ModelInterface
import Synchronization

/// A layer the workbench can record: its PyTorch module name and what its output is.
public struct RecordableLayer: Sendable, Equatable {
  /// The module name, as in the PyTorch state_dict (`features.29`, `layer3.1`, `conv2`).
  public var name: String
  /// What the output is, e.g. "conv5_3, post-ReLU".
  public var description: String

  public init(_ name: String, _ description: String) {
    self.name = name
    self.description = description
  }
}

/// Everything the workbench knows of one architecture: its name, input geometry and normalisation,
/// its recordable layers with their receptive-field geometry, how to build and load it, and the
/// attention conditions it adds beyond the ones every CNN gets. Each model folder defines its
/// entries; `ModelRegistry` lists them.
public struct ModelEntry: Sendable {
  public var name: String
  /// One line on what it is.
  public var summary: String
  /// Input channels and the default (trained) height and width, pixels.
  public var channels, height, width: Int
  /// Whether other input sizes work (adaptive pooling before the classifier), and the smallest side.
  public var variableSize: Bool
  public var minimumSide: Int
  public var normalization: InputNormalization
  public var layers: [RecordableLayer]
  /// Attention conditions of the model's own (e.g. "glimpses", "cue"); forward-modifier conditions
  /// such as spatial gain work on every entry.
  public var conditions: [String]
  /// A network with PyTorch's default initialisation.
  public var make: @Sendable () -> Module
  /// The network with weights from a safetensors, `.pt`/`.pth` or `.npz` file (evaluation mode).
  public var load: @Sendable (String) throws -> Module
  /// The window steps from the input to a layer (nil: not a layer of this model). By default they
  /// are read off the module tree (`ReceptiveFieldMap.steps(in:to:)`).
  public var steps: @Sendable (String) -> [WindowStep]?
  /// A model's own receptive fields per layer and input height x width, where the module tree does
  /// not give them (an imported graph); nil: `receptiveFields` from the window steps.
  public var fieldMaps: (@Sendable (String, Int, Int) throws -> (any UnitFieldMap)?)? = nil
  /// A model's own recording adapter (nil: the generic `LayerRecorder`); see `recorder(_:_:_:)`.
  public var customRecorder: (@Sendable (Module, Int?, Int?) throws -> RecordableModel)?
  /// The share of the resized image its evaluation transform keeps: torchvision's zoo resizes the
  /// shorter side to 256 and crops 224 (0.875); 1 keeps the whole shorter side.
  public var cropFraction: Double
  /// A model's own extraction (nil: the named modules' outputs); see `extract(_:)`.
  public var customExtract: (@Sendable (ExtractionRequest) throws -> Void)?
  /// Where top-down attention maps are read by default (`ephys attribute`, `ephys pointing-game`);
  /// nil: the user names the layers.
  public var mapLayers: MapLayers? = nil

  public init(
    name: String, summary: String, channels: Int, height: Int, width: Int, variableSize: Bool, minimumSide: Int,
    normalization: InputNormalization, layers: [RecordableLayer], conditions: [String] = [],
    make: @escaping @Sendable () -> Module, load: (@Sendable (String) throws -> Module)? = nil,
    steps: (@Sendable (String) -> [WindowStep]?)? = nil,
    recorder: (@Sendable (Module, Int?, Int?) throws -> RecordableModel)? = nil, cropFraction: Double = 1,
    extract: (@Sendable (ExtractionRequest) throws -> Void)? = nil
  ) {
    self.cropFraction = cropFraction
    self.name = name
    self.summary = summary
    self.channels = channels
    self.height = height
    self.width = width
    self.variableSize = variableSize
    self.minimumSide = minimumSide
    self.normalization = normalization
    self.layers = layers
    self.conditions = conditions
    self.make = make
    self.load =
      load ?? { path in
        let m = make()
        try m.load(from: path)
        m.eval()
        return m
      }
    let name = self.name
    self.steps = steps ?? { layer in LayerStepsCache.steps(of: name, make: make)[layer] }
    self.customRecorder = recorder
    self.customExtract = extract
  }

  /// The recording adapter of a built or loaded network at an input of height x width (nil: the
  /// model's own size): the model's own when it has conditions of its own, else the generic
  /// `LayerRecorder` (forward hooks on the named layers).
  public func recorder(_ module: Module, _ height: Int?, _ width: Int?) throws -> RecordableModel {
    if let customRecorder { return try customRecorder(module, height, width) }
    return try LayerRecorder(module: module, entry: self, height: height, width: width)
  }

  /// `ephys extract` for this model: its own extraction, else the named modules' outputs.
  public func extract(_ request: ExtractionRequest) throws {
    if let customExtract { return try customExtract(request) }
    try extractModuleOutputs(self, request)
  }

  /// The input geometry at the model's own size.
  public var input: InputGeometry {
    InputGeometry(channels: channels, height: height, width: width, normalization: normalization)
  }

  /// The network's weights from `weights` ("random": PyTorch's default initialisation from seed 0),
  /// wrapped in its recording adapter at an input of height x width (nil: the model's own size).
  public func recordable(weights: String, height: Int? = nil, width: Int? = nil) throws -> RecordableModel {
    try recorder(network(weights: weights), height, width)
  }

  /// The receptive fields of `layer`'s units for an input of `height x width` (default: the model's).
  public func receptiveFields(_ layer: String, height: Int? = nil, width: Int? = nil) -> ReceptiveFieldMap? {
    steps(layer).map {
      ReceptiveFieldMap(steps: $0, inputHeight: height ?? self.height, inputWidth: width ?? self.width)
    }
  }
}

extension ModelEntry {
  /// Where the units of `layer` look at an input of height x width (default: the model's own): the
  /// model's own fields where it has them, else those of its window steps; nil: not a layer.
  public func fields(_ layer: String, height: Int? = nil, width: Int? = nil) throws -> (any UnitFieldMap)? {
    let (h, w) = (height ?? self.height, width ?? self.width)
    if let fieldMaps { return try fieldMaps(layer, h, w) }
    return receptiveFields(layer, height: h, width: w)
  }
}

/// The window steps of every module of a model, read off one instance built on first use (building
/// VGG16 takes a second; a listing asks for dozens of layers).
enum LayerStepsCache {
  static let cache = Mutex<[String: [String: [WindowStep]]]>([:])

  static func steps(of model: String, make: () -> Module) -> [String: [WindowStep]] {
    if let known = cache.withLock({ $0[model] }) { return known }
    let module = make()
    var table: [String: [WindowStep]] = [:]
    for (name, _) in module.namedModules() where !name.isEmpty {
      table[name] = ReceptiveFieldMap.steps(in: module, to: name)
    }
    cache.withLock { $0[model] = table }
    return table
  }
}

/// A network's default layers for top-down attention maps: `map` for Excitation Backprop and LRP
/// (VGG16's pool4, ResNet's layer3), `cam` for CAM and Grad-CAM (the last conv block), `contrast`
/// for contrastive MWP (the classifier's input: VGG's relu7, ResNet's avgpool), as TorchRay's
/// Pointing Game benchmark sets them.
public struct MapLayers: Sendable, Equatable {
  public var map, cam, contrast: String
  public init(map: String, cam: String, contrast: String) {
    self.map = map
    self.cam = cam
    self.contrast = contrast
  }
}

extension ModelEntry {
  /// This entry with default map layers.
  public func withMapLayers(_ layers: MapLayers) -> ModelEntry {
    var e = self
    e.mapLayers = layers
    return e
  }
}
