import Engine
import Foundation

extension ObjectAttentionConfig {
  /// The configuration as checkpoint metadata.
  public var metadata: [String: String] {
    [
      "ephys.model": "object-attention", "variant": variant.rawValue, "strength": "\(strength)",
      "passes": "\(passes)", "ior_threshold": "\(iorThreshold)", "objects": "\(objects)",
    ]
  }

  /// Reads a configuration from checkpoint metadata, falling back to `defaults` for absent keys
  /// (e.g. a reference PyTorch checkpoint has none).
  public init(metadata: [String: String], defaults: ObjectAttentionConfig) throws {
    var c = defaults
    if let v = metadata["variant"] {
      guard let variant = Variant(rawValue: v) else {
        throw CheckpointError("unknown object-attention variant '\(v)' in metadata")
      }
      c = .preset(variant)
    }
    func number(_ key: String) throws -> Float? {
      guard let s = metadata[key] else { return nil }
      guard let x = Float(s), x.isFinite else { throw CheckpointError("metadata '\(key)' = '\(s)' is not a number") }
      return x
    }
    if let s = try number("strength") { c.strength = s }
    if let p = try number("passes") { c.passes = Int(p) }
    if let t = try number("ior_threshold") { c.iorThreshold = t }
    if let o = try number("objects"), Int(o) != c.objects {
      c =
        c.variant == .mnist
        ? .mnist(strength: c.strength, passes: c.passes, iorThreshold: c.iorThreshold, objects: Int(o)) : c
    }
    self = c
  }
}

extension ObjectAttentionNet {
  /// Loads a network from a safetensors checkpoint written by Ephys (configuration from its
  /// metadata) or a PyTorch .pt state_dict of the reference (configuration from `defaults`).
  /// Errors name the file and any tensor whose shape does not fit.
  public static func load(from path: String, defaults: ObjectAttentionConfig) throws -> ObjectAttentionNet {
    let archive = try readTensorFile(path)
    let config: ObjectAttentionConfig
    do {
      config = try ObjectAttentionConfig(metadata: archive.metadata, defaults: defaults)
    } catch let e as CheckpointError {
      throw e.inFile(path)
    }
    if let kind = archive.metadata["ephys.model"], kind != "object-attention" {
      throw CheckpointError("holds a '\(kind)' model, not object-attention", file: path)
    }
    let net = ObjectAttentionNet(config, seed: 0)
    do { try net.loadStateDict(archive) } catch let e as CheckpointError { throw e.inFile(path) }
    net.eval()
    return net
  }

  /// Saves the weights with the configuration in the metadata (atomically); with `optimizer`, its
  /// state goes into the same file (a `TrainingCheckpoint`, committed by one rename).
  public func saveCheckpoint(to path: String, extra: [String: String] = [:], optimizer: TensorArchive? = nil) throws {
    let metadata = config.metadata.merging(extra) { _, b in b }
    if let optimizer {
      try TrainingCheckpoint.write(weights: stateDict(), optimizer: optimizer, metadata: metadata, to: path)
    } else {
      try save(to: path, metadata: metadata)
    }
  }
}
