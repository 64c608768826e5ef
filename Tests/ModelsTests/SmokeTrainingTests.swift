import Datasets
import Engine
import Foundation
import Models
import Testing

/// End to end: the engine trains a small CNN on the real 5,000-digit MNIST subset.
@Suite("End-to-end training")
struct SmokeTrainingTests {
  @Test("small CNN reaches >= 97% on held-out digits") func smokeCNN() throws {
    let data = try MNIST.defaultSubset()
    #expect(data.count == 5000)
    let (train, test) = data.split(testFraction: 0.2, seed: 7)
    #expect(train.count == 4000 && test.count == 1000)
    let model = SmallCNN(seed: 1)
    var config = ClassifierTrainingConfig()
    config.epochs = 12
    try trainClassifier(
      model, on: train, config: config,
      progress: { r in
        print(
          String(
            format: "SMOKE epoch %d loss %.4f train acc %.4f (%.1f s)", r.epoch, r.loss, r.trainAccuracy, r.seconds))
      })
    let acc = accuracy(of: model, on: test)
    print(String(format: "SMOKE test accuracy %.4f on %d held-out digits", acc, test.count))
    #expect(acc >= 0.97)
  }
}
