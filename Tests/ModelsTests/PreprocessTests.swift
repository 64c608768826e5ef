import Engine
import Foundation
import ImageIO
import ModelInterface
import Models
import Testing

/// Image files prepared as torchvision's evaluation transform does (`ephys extract --images`).
@Suite("Image preprocessing")
struct PreprocessTests {
  @Test("resize shorter side, centre crop and ImageNet normalisation equal torchvision's (fixture)")
  func againstTorchvision() throws {
    let dir = Bundle.module.resourcePath! + "/Fixtures/preprocess/"
    let image = try RasterImage.read(dir + "image.png")
    let expected = try NPY.read(dir + "expected.npy").floats()
    // A 32 x 32 RGB entry whose transform is Resize(36) + CenterCrop(32), as the fixture's.
    let entry = ModelEntry(
      name: "test", summary: "", channels: 3, height: 32, width: 32, variableSize: false, minimumSide: 32,
      normalization: .imagenet, layers: [], make: { ResNet(.resnet18) }, cropFraction: 32.0 / 36.0)
    let ours = entry.preprocess(image)
    #expect(ours.count == expected.count)
    let worst = zip(ours, expected).map { abs($0 - $1) }.max()!
    // Rounded to 8 bits after each pass as PIL does, the values agree (PIL's fixed-point weights could
    // move a value by one 8-bit step, 1/255 over the std, on other images; not on this one).
    print("PREPROCESS worst difference \(worst)")
    #expect(worst < 1e-5)
  }

  @Test("separable resampling equals the filter's definition, shrinking and enlarging")
  func resampleTwin() {
    let (h, w) = (13, 17)
    let planes = (0..<(2 * h * w)).map { Float(($0 * 37) % 101) / 100 }
    for (th, tw) in [(5, 7), (20, 31), (13, 4)] {
      let fast = resampleBilinear(planes, channels: 2, height: h, width: w, toHeight: th, toWidth: tw)
      for c in 0..<2 {
        for y in 0..<th {
          for x in 0..<tw {
            let naive = resampleBilinearPixel(
              planes, channel: c, height: h, width: w, toHeight: th, toWidth: tw, y: y, x: x)
            #expect(abs(fast[(c * th + y) * tw + x] - naive) < 1e-5)
          }
        }
      }
    }
  }
}
