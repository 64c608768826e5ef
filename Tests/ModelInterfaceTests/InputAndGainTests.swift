import Engine
import Foundation
import ModelInterface
import Stimuli
import Testing

@Suite("Model input and layer gains")
struct InputAndGainTests {
  func stimulus(_ image: [Float], colour: [Float]? = nil) -> Stimulus {
    Stimulus(
      index: 0, parameters: [:], image: image, object: image, distractor: [Float](repeating: 0, count: image.count),
      colour: colour)
  }

  @Test("luminance fills every channel; the identity normalisation keeps values bit-exact")
  func luminance() {
    let image: [Float] = [0.1, 0.2, 0.3, 0.4]
    let x = inputBatch(
      [stimulus(image)], geometry: InputGeometry(channels: 3, height: 2, width: 2, normalization: .none))
    #expect(x.shape == [1, 3, 2, 2])
    #expect(x.scalars == image + image + image)
  }

  @Test("ImageNet normalisation per channel, colour planes used for RGB models")
  func imagenet() {
    let image: [Float] = [0.5, 0.5, 0.5, 0.5]
    let colour: [Float] = [1, 1, 1, 1, 0, 0, 0, 0, 0.5, 0.5, 0.5, 0.5]
    let x = inputBatch(
      [stimulus(image, colour: colour)],
      geometry: InputGeometry(channels: 3, height: 2, width: 2, normalization: .imagenet))
    let n = InputNormalization.imagenet
    for c in 0..<3 {
      let expected = (colour[c * 4] - n.mean[c]) / n.std[c]
      #expect(abs(x.scalars[c * 4] - expected) < 1e-6)
    }
  }

  @Test("spatial gain peaks at the attended centroid and is 1 + beta there")
  func spatialGain() {
    let layer = LayerGeometry(name: "l", channels: 2, height: 5, width: 5) { y, x in (y...y, x...x) }
    var image = [Float](repeating: 0, count: 25)
    image[2 * 5 + 3] = 1
    let gain = layerGain(
      .spatialGain(layer: "l", beta: 0.5, sigma: 1), phase: 0, stimuli: [stimulus(image)], layer: layer,
      canvasWidth: 5)!
    #expect(gain.shape == [1, 1, 5, 5])
    #expect(gain.scalars[2 * 5 + 3] == 1.5)
    #expect(gain.scalars.max() == 1.5)
    #expect(abs(gain.scalars[2 * 5 + 2] - Float(1 + 0.5 * exp(-0.5))) < 1e-6)
    // Unattended phase: centred on the (empty) distractor, so no gain anywhere.
    let none = layerGain(
      .spatialGain(layer: "l", beta: 0.5, sigma: 1), phase: 1, stimuli: [stimulus(image)], layer: layer,
      canvasWidth: 5)!
    #expect(none.scalars.allSatisfy { $0 == 1 })
  }

  @Test("channel gain is max(0, 1 + beta v) in the attended phase only")
  func channelGain() {
    let layer = LayerGeometry(name: "l", channels: 3, height: 1, width: 1) { _, _ in (0...0, 0...0) }
    let condition = AttentionCondition.channelGain(layer: "l", beta: 2, values: [1, -0.25, -2])
    let g = layerGain(condition, phase: 0, stimuli: [stimulus([0])], layer: layer, canvasWidth: 1)!
    #expect(g.shape == [1, 3, 1, 1])
    #expect(g.scalars == [3, 0.5, 0])
    #expect(layerGain(condition, phase: 1, stimuli: [stimulus([0])], layer: layer, canvasWidth: 1) == nil)
  }
}
