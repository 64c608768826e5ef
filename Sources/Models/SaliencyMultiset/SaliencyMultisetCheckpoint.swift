import Datasets
import Engine

extension SaliencyMultisetNet {
  /// Writes the weights, the configuration (metadata `hsal.*`), `extra` metadata and, when given, the
  /// optimiser state, in one safetensors file, atomically.
  public func saveCheckpoint(to path: String, extra: [String: String] = [:], optimizer: TensorArchive? = nil) throws {
    var metadata = config.metadata.merging(extra) { _, b in b }
    metadata["ephys.model"] = "saliency-multiset"
    if let optimizer {
      try TrainingCheckpoint.write(weights: stateDict(), optimizer: optimizer, metadata: metadata, to: path)
    } else {
      var archive = stateDict()
      archive.metadata = metadata
      try Safetensors.write(archive, to: path)
    }
  }

  /// The network of a checkpoint written by `saveCheckpoint`, its configuration read from the
  /// metadata (evaluation mode); errors name the file and the tensor or key.
  public static func load(from path: String) throws -> SaliencyMultisetNet {
    let archive = try Safetensors.read(path)
    let config: SaliencyMultisetConfig
    do { config = try SaliencyMultisetConfig(metadata: archive.metadata) } catch let e as DatasetError {
      throw DatasetError(e.message, file: path)
    }
    let net = SaliencyMultisetNet(config)
    do { try net.loadStateDict(archive) } catch let e as CheckpointError { throw e.inFile(path) }
    net.eval()
    return net
  }
}
