import Datasets
import Engine
import Foundation
import ModelInterface

extension FeatureGainCNN {
  /// Trains this network (the backbone) as a 10-way digit classifier on `data` presented by
  /// `DigitCanvas.training` (Adam, cosine-annealed, data parallel with replicas from `config.seed`;
  /// see `trainClassifier`); leaves it in evaluation mode.
  public func trainBackbone(
    on data: MNIST, config: ClassifierTrainingConfig, batchProgress: (Int, Int) -> Void = { _, _ in },
    progress: (EpochReport) throws -> Void = { _ in }
  ) throws {
    let model = self
    try trainClassifier(
      model, replica: { FeatureGainCNN(seed: config.seed) }, on: data, input: Self.registryEntry.input,
      config: config,
      present: { digit, rng in DigitCanvas.training(digit, rng: &rng) }, batchProgress: batchProgress,
      progress: progress)
  }
}
