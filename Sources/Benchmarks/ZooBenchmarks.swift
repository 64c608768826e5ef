import Engine
import Foundation
import Models

/// Throughput of zoo networks on the workloads of ../shared/bench/pytorch_zoo.py, in images per second
/// (best of `repeats` runs after a warm-up): VGG16 inference (batch 8, 224 x 224, no autograd) and a
/// ResNet-18 training step (batch 16, 112 x 112, cross-entropy, backward, SGD with momentum 0.9, train
/// mode so batch norm uses and updates batch statistics). Keys are the peer's.
public func runZooBenchmarks(repeats: Int = 3) -> [String: Double] {
  var rng = RandomGenerator(seed: 0)
  let vgg = VGG(.vgg16)
  vgg.eval()
  let xv = Tensor<Float>.uniform([8, 3, 224, 224], rng: &rng)
  let infer = bestTime(repeats) { _ = withNoGrad { vgg(xv) } }

  let resnet = ResNet(.resnet18)
  resnet.train()
  let optimizer = SGD(resnet.parameters(), lr: 0.01, momentum: 0.9)
  let xr = Tensor<Float>.uniform([16, 3, 112, 112], rng: &rng)
  let labels = IntTensor((0..<16).map { _ in Int(rng.next() % 1000) })
  let step = bestTime(repeats) {
    optimizer.zeroGrad()
    crossEntropy(resnet(xr), labels).backward()
    optimizer.step()
  }
  return ["vgg16_infer_images_per_s": 8 / infer, "resnet18_train_images_per_s": 16 / step]
}
