import Engine
import ModelInterface

extension ObjectAttentionNet {
  /// The two variants of the object-based attention network. Recordable layers are the post-ReLU,
  /// pre-pool conv outputs (`conv1` ...); each block is a 4x4 conv then a 2x2 max pool (functional,
  /// so the steps are stated here). Its own conditions: its glimpses with IOR, and a cue. The network
  /// is its own recording adapter (ObjectAttention+Recording.swift).
  public static let registryEntries: [ModelEntry] = ObjectAttentionConfig.Variant.allCases.map { variant in
    let config = ObjectAttentionConfig.preset(variant)
    return ModelEntry(
      name: "object-attention-\(variant.rawValue)",
      summary:
        "recurrent object-based attention network, \(variant.rawValue) variant (glimpses with inhibition of return)",
      channels: config.channels[0], height: config.inputHeight, width: config.inputWidth, variableSize: false,
      minimumSide: min(config.inputHeight, config.inputWidth), normalization: .none,
      layers: config.convLayerNames.map { RecordableLayer($0, "\($0), post-ReLU, pre-pool, last pass of the glimpse") },
      conditions: ["glimpses", "cue"],
      make: { ObjectAttentionNet(config, seed: 0) },
      load: { path in try ObjectAttentionNet.load(from: path, defaults: config) },
      steps: { layer in
        guard let l = config.convLayerNames.firstIndex(of: layer) else { return nil }
        let conv = WindowStep.window(kernel: 4, stride: 1, padding: 0, dilation: 1)
        let pool = WindowStep.window(kernel: 2, stride: 2, padding: 0, dilation: 1)
        return [conv] + (0..<l).flatMap { _ in [pool, conv] }
      },
      recorder: { module, height, width in
        guard let net = module as? ObjectAttentionNet else {
          throw RecordingError("the object-attention entry was given a \(type(of: module))")
        }
        if let height, let width, height != config.inputHeight || width != config.inputWidth {
          throw RecordingError(
            "the object-attention network takes \(config.inputHeight)x\(config.inputWidth) inputs only, not \(height)x\(width)"
          )
        }
        return net
      },
      extract: { request in try extractGlimpses(config, request) })
  }

  /// `ephys extract` for object attention: the glimpse dynamics with the settings `glimpses`, `passes`,
  /// `strength` and `theta` (IOR threshold) over the checkpoint's; per layer [N, glimpses, C, H, W].
  static func extractGlimpses(_ defaults: ObjectAttentionConfig, _ r: ExtractionRequest) throws {
    let known = ["glimpses", "passes", "strength", "theta"]
    if let unknown = r.settings.keys.sorted().first(where: { !known.contains($0) }) {
      throw ExtractionError("object attention has no setting '\(unknown)' (\(known.joined(separator: ", ")))")
    }
    let loaded =
      r.weights == "random" ? ObjectAttentionNet(defaults, seed: 0) : try load(from: r.weights, defaults: defaults)
    var config = loaded.config
    // Glimpses run; the input size stays the checkpoint's.
    if let g = r.settings["glimpses"] { config.objects = Int(g) }
    if let p = r.settings["passes"] { config.passes = Int(p) }
    if let t = r.settings["theta"] { config.iorThreshold = Float(t) }
    if let s = r.settings["strength"] { config.strength = Float(s) }
    guard config.objects >= 1, config.passes >= 2 else {
      throw ExtractionError("glimpses must be at least 1 and passes at least 2")
    }
    let net = ObjectAttentionNet(config, seed: 0)
    try net.loadStateDict(loaded.stateDict())
    try net.extract(
      r.input, layers: r.layers, into: NPZStreamWriter(path: r.out), batchSize: r.batchSize, progress: r.progress)
  }
}
