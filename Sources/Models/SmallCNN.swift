import Engine

/// A small LeNet-style digit classifier (the engine's end-to-end smoke model):
/// conv 1->16 k5, ReLU, max-pool 2, conv 16->32 k5, ReLU, max-pool 2, linear 512->128, ReLU,
/// dropout 0.25, linear 128->10. Input [N, 1, 28, 28], output logits [N, 10].
public final class SmallCNN: Module {
  public let conv1, conv2: Conv2d
  public let fc1, fc2: Linear
  public let drop: Dropout

  public init(seed: UInt64) {
    var rng = RandomGenerator(seed: seed)
    conv1 = Conv2d(1, 16, kernel: 5, rng: &rng)
    conv2 = Conv2d(16, 32, kernel: 5, rng: &rng)
    fc1 = Linear(512, 128, rng: &rng)
    fc2 = Linear(128, 10, rng: &rng)
    drop = Dropout(p: 0.25, seed: rng.next())
    super.init()
    registerModule("conv1", conv1)
    registerModule("conv2", conv2)
    registerModule("fc1", fc1)
    registerModule("fc2", fc2)
    registerModule("drop", drop)
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    var h = maxPool(conv1(x).relu(), kernel: 2)
    h = maxPool(conv2(h).relu(), kernel: 2)
    h = drop(fc1(h.flattened()).relu())
    return fc2(h)
  }
}
