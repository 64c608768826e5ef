import Engine
import Stimuli

/// Activity of one batch: per phase (0 = attended, 1 = unattended) and requested layer, [N, C, H, W];
/// the model's predicted class per phase and stimulus; and, for models that attend in a sequence of
/// glimpses, per stimulus the glimpse (0-based) that attended the swept object (-1: none).
public struct BatchRecording {
  public var activity: [[Tensor<Float>]]
  public var predictions: [[Int]]
  public var attendedGlimpse: [Int]?

  public init(activity: [[Tensor<Float>]], predictions: [[Int]], attendedGlimpse: [Int]? = nil) {
    self.activity = activity
    self.predictions = predictions
    self.attendedGlimpse = attendedGlimpse
  }
}

/// What the recording harness needs of a model: its input, its recordable layers, and a forward pass
/// that records both phases of an attention condition. A model folder implements it (or uses the
/// registry's generic `LayerRecorder`); the harness never knows which model it drives.
public protocol RecordableModel: AnyObject {
  /// Input channels, height, width and normalisation.
  var inputGeometry: InputGeometry { get }
  /// Recordable layers at the input size, with their receptive fields.
  var recordableLayers: [LayerGeometry] { get }
  /// Conditions of the model's own (beyond `AttentionCondition.layerConditions`), by name.
  var ownConditions: [String] { get }
  /// What a recorded response is, e.g. "post-ReLU module output".
  var responseDefinition: String { get }
  /// What a unit is.
  var unitDefinition: String { get }
  /// Runs `condition` on `stimuli` and returns the activity of `layers` in both phases.
  func record(_ stimuli: [Stimulus], condition: AttentionCondition, layers: [String]) throws -> BatchRecording
  /// What the two phases of one of the model's own conditions are.
  func phaseDefinition(_ condition: AttentionCondition) -> String
  /// Model settings for the run summary (JSON values), empty when there is nothing to say.
  var summaryDetails: [String: Any] { get }
  /// Writes the model's own evaluation files into a run folder (e.g. the gating evaluation of
  /// object attention); returns their names with one line on each.
  func writeModelOutputs(into dir: String) throws -> [String: String]
  /// Recurrent models: passes per forward run (1 for feedforward models). A layer of pass t
  /// (1-based) records as "LAYER@passT"; plain "LAYER" is the last pass.
  var passes: Int { get }
}

/// The layer name of `layer` at pass `t` (1-based) of a recurrent model.
public func passLayerName(_ layer: String, pass t: Int) -> String { "\(layer)@pass\(t)" }

/// Splits "LAYER@passT" into the layer and the pass (nil: no pass suffix, the last pass).
public func splitPassLayerName(_ name: String) -> (layer: String, pass: Int?) {
  guard let r = name.range(of: "@pass"), let t = Int(name[r.upperBound...]) else { return (name, nil) }
  return (String(name[..<r.lowerBound]), t)
}

extension RecordableModel {
  public func phaseDefinition(_ condition: AttentionCondition) -> String {
    condition.layerPhaseDefinition ?? condition.name
  }
  public var summaryDetails: [String: Any] { [:] }
  public var unitDefinition: String {
    "one (channel, y, x) position of a layer's output map (a fully connected layer's map is features x 1 x 1)"
  }
  public func writeModelOutputs(into dir: String) throws -> [String: String] { [:] }
  public var passes: Int { 1 }

  /// The geometry of `layer`, or an error naming the recordable layers.
  public func geometry(of layer: String) throws -> LayerGeometry {
    let (base, pass) = splitPassLayerName(layer)
    if let pass {
      guard (1...max(1, passes)).contains(pass), passes > 1 else {
        throw RecordingError(
          passes > 1
            ? "layer '\(layer)': this model runs passes 1 to \(passes)"
            : "layer '\(layer)': this model is feedforward (one pass); record '\(base)'")
      }
      var g = try geometry(of: base)
      g.name = layer
      return g
    }
    guard let g = recordableLayers.first(where: { $0.name == layer }) else {
      throw RecordingError(
        "layer '\(layer)' cannot be recorded; this model has \(recordableLayers.map(\.name).joined(separator: ", "))")
    }
    return g
  }

  /// Whether the model supports `condition` (a layer condition on one of its spatial layers, or one
  /// of its own).
  public func supports(_ condition: AttentionCondition) -> Bool {
    switch condition {
    case .model(let name): return ownConditions.contains(name)
    case .none: return true
    case .spatialGain(let layer, _, _):
      return recordableLayers.first { $0.name == layer }?.isSpatial ?? false
    case .channelGain(let layer, _, let values):
      return recordableLayers.first { $0.name == layer }?.channels == values.count
    case .featureGain(let layers, _, let values, _):
      return layers.count == values.count
        && zip(layers, values).allSatisfy { l, v in
          recordableLayers.first { $0.name == l }.map { $0.channels == v.count && $0.isSpatial } ?? false
        }
    }
  }
}

/// Why a recording cannot run.
public struct RecordingError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
