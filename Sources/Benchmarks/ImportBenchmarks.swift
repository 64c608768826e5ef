import Engine
import Foundation
import Models

/// Inference throughput of an imported network beside the zoo's native build of the same architecture
/// (`ephys bench --onnx FILE --native resnet18`), images per second: batch 8 at the graph's input size
/// (224 x 224 where symbolic), no autograd, random inputs, evaluation mode. The two run alternately,
/// `repeats` times each after a warm-up, and each keeps its best, so machine noise hits both alike.
/// The native network has random weights: the work does not depend on the values.
public func runImportBenchmark(file: String, native: String, repeats: Int = 5) throws -> (
  imported: Double, native: Double
) {
  let entry = try ONNXModel.entry(file)
  guard let nativeEntry = ModelRegistry.entry(native) else {
    throw CheckpointError("no zoo model called '\(native)' to compare with")
  }
  let imported = try ONNXModel.network(file)
  let reference = try nativeEntry.network(weights: "random")
  var rng = RandomGenerator(seed: 0)
  let x = Tensor<Float>.uniform([8, entry.channels, entry.height, entry.width], rng: &rng)
  _ = try withNoGrad { try imported.run(x) }
  _ = withNoGrad { reference(x) }
  var best = (imported: Double.infinity, native: Double.infinity)
  for _ in 0..<max(1, repeats) {
    var start = Date()
    _ = try withNoGrad { try imported.run(x) }
    best.imported = min(best.imported, Date().timeIntervalSince(start))
    start = Date()
    _ = withNoGrad { reference(x) }
    best.native = min(best.native, Date().timeIntervalSince(start))
  }
  return (8 / best.imported, 8 / best.native)
}
