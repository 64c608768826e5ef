import Datasets
import Engine
import Foundation
import ModelInterface
import Models
import Testing

/// `trainClassifier` works for registry networks at other input sizes, data parallel.
@Suite("Training zoo networks")
struct ZooTrainingTests {
  @Test("ResNet-18 (10 classes) learns digits at 32x32 RGB with ImageNet normalisation, data parallel")
  func resnetOnDigits() throws {
    let data = try MNIST.defaultSubset().subset(Array(0..<96))
    let model = ResNet(.resnet18, classes: 10, seed: 1)
    var config = ClassifierTrainingConfig()
    config.epochs = 4
    config.batchSize = 32
    config.maxShift = 0
    config.schedule = .constant
    let input = InputGeometry(channels: 3, height: 32, width: 32, normalization: .imagenet)
    var losses: [Double] = []
    try trainClassifier(
      model, replica: { ResNet(.resnet18, classes: 10, seed: 0) }, on: data, input: input, config: config,
      progress: { losses.append($0.loss) })
    print("ZOO-TRAIN resnet18 32x32 losses", losses.map { String(format: "%.3f", $0) }.joined(separator: " "))
    #expect(losses.count == 4)
    #expect(losses.last! < 0.6 * losses.first!)
    #expect(accuracy(of: model, on: data, input: input) > 0.5)
  }
}
