import Attribution
import Engine
import Foundation
import Models

/// Excitation Backprop throughput on the workload of scripts/bench/torchray_attribution.py, in maps
/// per second (best of `repeats` runs after a warm-up): torchvision VGG16 with the fixture formula's
/// weights (`FixtureFormula`, the same numbers the peer computes), a batch of 2 images of
/// 224 x 224 (1.5 u(999, i)), classes 3 and 7; MWP at pool4 (`features.23`), c-MWP with the contrast at
/// relu7 (`classifier.4`), both including the forward pass, as TorchRay's calls do. Keys are the peer's.
public func runAttributionBenchmarks(repeats: Int = 3) throws -> [String: Double] {
  let vgg = VGG(.vgg16)
  try vgg.loadStateDict(FixtureFormula.weights(vgg.namedState().map { ($0.name, $0.tensor.shape) }))
  vgg.eval()
  let x = Tensor<Float>(
    shape: [2, 3, 224, 224], scalars: (0..<(2 * 3 * 224 * 224)).map { Float(1.5 * FixtureFormula.uniform(999, $0)) })
  let attributor = try Attributor(model: vgg)
  let mwp = try bestTime(repeats) {
    _ = try attributor.maps(x, classes: [3, 7], method: .mwp, layers: AttributionLayers(layer: "features.23"))
  }
  let contrastive = try bestTime(repeats) {
    _ = try attributor.maps(
      x, classes: [3, 7], method: .contrastiveMWP,
      layers: AttributionLayers(layer: "features.23", contrast: "classifier.4"))
  }
  return ["vgg16_mwp_maps_per_s": 2 / mwp, "vgg16_cmwp_maps_per_s": 2 / contrastive]
}
