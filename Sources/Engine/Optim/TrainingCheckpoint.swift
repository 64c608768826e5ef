/// A training checkpoint: the weights and the optimiser state that goes with them in one
/// safetensors file, so one atomic rename commits both and a kill can never leave weights of one
/// epoch beside optimiser state of another. Optimiser tensors are named `optimizer/...` (module
/// parameters never contain a slash), and `Module.loadStateDict` passes over them, so the file also
/// loads as plain weights.
public enum TrainingCheckpoint {
  /// Name prefix of the optimiser's tensors.
  public static let optimizerPrefix = "optimizer/"

  /// Writes `weights` and `optimizer` state (with `metadata`) to `path` atomically.
  public static func write(
    weights: TensorArchive, optimizer: TensorArchive, metadata: [String: String], to path: String
  ) throws {
    var archive = weights
    archive.tensors += optimizer.tensors.map {
      var t = $0
      t.name = optimizerPrefix + t.name
      return t
    }
    archive.metadata = metadata.merging(["ephys.optimizer_state": "included"]) { _, b in b }
    try Safetensors.write(archive, to: path)
  }

  /// The optimiser state stored in a checkpoint (names without the prefix), or nil when it holds none.
  public static func optimizerState(_ archive: TensorArchive) -> TensorArchive? {
    let state = archive.tensors.filter { $0.name.hasPrefix(optimizerPrefix) }.map {
      var t = $0
      t.name = String(t.name.dropFirst(optimizerPrefix.count))
      return t
    }
    return state.isEmpty ? nil : TensorArchive(tensors: state, metadata: archive.metadata)
  }
}
