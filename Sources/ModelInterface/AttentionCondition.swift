/// How attention is directed while recording. Every recording has two phases per stimulus: 0 =
/// attended (attention on the swept object) and 1 = unattended.
public enum AttentionCondition: Sendable, Equatable {
  /// Any CNN: the chosen layer's output is multiplied by 1 + beta * exp(-d^2 / (2 sigma^2)), d the
  /// distance (input pixels) from each unit's receptive-field centre to the attended object's
  /// centroid: the swept object (attended) or the distractor (unattended; no gain without one).
  case spatialGain(layer: String, beta: Float, sigma: Double)
  /// Any CNN: channel k of the chosen layer's output is multiplied by max(0, 1 + beta * values[k])
  /// in the attended phase (the feature-similarity gain form); the unattended phase runs without gain.
  case channelGain(layer: String, beta: Float, values: [Float])
  /// Any CNN: feature-based attention (Lindsay & Miller 2018's feature-similarity gain): channel k of
  /// each listed layer's output is multiplied by max(0, 1 + beta * values[layer][k]) in the attended
  /// phase, the values being the feature maps' tuning (or gradient) values for the attended feature
  /// `target` (e.g. "orientation 45"); the unattended phase runs without gain.
  case featureGain(layers: [String], beta: Float, values: [[Float]], target: String)
  /// No attention: one forward pass, recorded as both phases (receptive-field mapping, V1 property
  /// measures); attended and unattended responses are identical by construction.
  case none
  /// A condition of the model's own, by name (object attention's "glimpses" and "cue"); the model's
  /// adapter says what its phases are.
  case model(String)

  /// The conditions every CNN supports, by protocol name.
  public static let layerConditions = ["spatial-gain", "channel-gain", "feature-gain", "none"]

  /// Whether this is one of the model's own conditions (its gating, glimpses, cue) rather than a
  /// layer condition every CNN supports.
  public var isModelCondition: Bool {
    if case .model = self { return true }
    return false
  }

  /// A short name for tables and reports.
  public var name: String {
    switch self {
    case .spatialGain: return "spatial-gain"
    case .channelGain: return "channel-gain"
    case .featureGain: return "feature-gain"
    case .none: return "none"
    case .model(let name): return name
    }
  }

  /// The (first) layer a forward-modifier condition acts on.
  public var modulatedLayer: String? { modulatedLayers.first }

  /// Every layer a forward-modifier condition acts on, in network order.
  public var modulatedLayers: [String] {
    switch self {
    case .spatialGain(let layer, _, _), .channelGain(let layer, _, _): return [layer]
    case .featureGain(let layers, _, _, _): return layers
    case .model, .none: return []
    }
  }

  /// What the two phases are, for conditions every CNN supports (nil for a model's own).
  public var layerPhaseDefinition: String? {
    switch self {
    case .spatialGain(let layer, let beta, let sigma):
      return
        "spatial gain 1 + \(beta) exp(-d^2 / (2 * \(sigma)^2)) on \(layer); attended = gain centred on the swept object, unattended = centred on the distractor"
    case .channelGain(let layer, let beta, let values):
      return
        "channel gain max(0, 1 + \(beta) v_k) on the \(values.count) channels of \(layer); attended = with the gain, unattended = without"
    case .featureGain(let layers, let beta, _, let target):
      return
        "feature gain max(0, 1 + \(beta) v_k) on the feature maps of \(layers.joined(separator: ", ")), v the maps' values for \(target); attended = with the gain, unattended = without"
    case .none: return "no attention: both phases are the same forward pass"
    case .model: return nil
    }
  }
}
