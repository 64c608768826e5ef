import Kernels

/// Fully connected layer y = x W^T + b (torch.nn.Linear): weight [out, in], bias [out].
public final class Linear: Module {
  public let weight: Tensor<Float>
  public let bias: Tensor<Float>?

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
    weight = defaultUniform([outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
    self.bias = bias ? defaultUniform([outFeatures], fanIn: inFeatures, rng: &rng) : nil
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { linear(x, weight: weight, bias: bias) }
}

/// 2-D convolution layer (torch.nn.Conv2d): weight [out, in/groups, kh, kw], bias [out].
public final class Conv2d: Module {
  public let weight: Tensor<Float>
  public let bias: Tensor<Float>?
  public let stride, padding, dilation: Pair
  public let groups: Int

  public init(
    _ inChannels: Int, _ outChannels: Int, kernel: Pair, stride: Pair = 1, padding: Pair = 0,
    dilation: Pair = 1, groups: Int = 1, bias: Bool = true, rng: inout RandomGenerator
  ) {
    precondition(inChannels % groups == 0 && outChannels % groups == 0, "Conv2d: channels not divisible by groups")
    let fanIn = inChannels / groups * kernel.h * kernel.w
    weight = defaultUniform([outChannels, inChannels / groups, kernel.h, kernel.w], fanIn: fanIn, rng: &rng)
    self.bias = bias ? defaultUniform([outChannels], fanIn: fanIn, rng: &rng) : nil
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
  }
}

/// Transposed convolution layer (torch.nn.ConvTranspose2d): weight [in, out/groups, kh, kw].
public final class ConvTranspose2d: Module {
  public let weight: Tensor<Float>
  public let bias: Tensor<Float>?
  public let stride, padding, outputPadding, dilation: Pair
  public let groups: Int

  public init(
    _ inChannels: Int, _ outChannels: Int, kernel: Pair, stride: Pair = 1, padding: Pair = 0,
    outputPadding: Pair = 0, dilation: Pair = 1, groups: Int = 1, bias: Bool = true,
    rng: inout RandomGenerator
  ) {
    precondition(
      inChannels % groups == 0 && outChannels % groups == 0, "ConvTranspose2d: channels not divisible by groups")
    // PyTorch computes fan-in from weight.size(1) * kh * kw = out/groups * kh * kw.
    let fanIn = outChannels / groups * kernel.h * kernel.w
    weight = defaultUniform([inChannels, outChannels / groups, kernel.h, kernel.w], fanIn: fanIn, rng: &rng)
    self.bias = bias ? defaultUniform([outChannels], fanIn: fanIn, rng: &rng) : nil
    self.stride = stride
    self.padding = padding
    self.outputPadding = outputPadding
    self.dilation = dilation
    self.groups = groups
    super.init()
    registerParameter("weight", weight)
    if let b = self.bias { registerParameter("bias", b) }
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    convTranspose2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding, dilation: dilation,
      groups: groups)
  }

  /// Forward with an explicit output size (as nn.ConvTranspose2d(x, output_size=...)).
  public func forward(_ x: Tensor<Float>, outputSize: Pair) -> Tensor<Float> {
    convTranspose2d(
      x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
      outputSize: outputSize)
  }

  /// This layer applied to `interpolate(x, size: size, mode: .nearest)`, computed without building the
  /// upsampled tensor (`upsampleNearestConvTranspose2d`).
  public func forward(nearestUpsampled x: Tensor<Float>, size: Pair, outputSize: Pair) -> Tensor<Float> {
    upsampleNearestConvTranspose2d(
      x, size: size, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups,
      outputSize: outputSize)
  }
}

/// Batch normalisation over channels (torch.nn.BatchNorm1d/2d): affine weight/bias, running
/// statistics and `num_batches_tracked` buffers with PyTorch's names.
public final class BatchNorm: Module {
  public let weight, bias, runningMean, runningVar, batchesTracked: Tensor<Float>
  public let momentum, eps: Float

  public init(_ features: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
    weight = .ones([features])
    bias = .zeros([features])
    runningMean = .zeros([features])
    runningVar = .ones([features])
    batchesTracked = .zeros([])
    self.momentum = momentum
    self.eps = eps
    super.init()
    registerParameter("weight", weight)
    registerParameter("bias", bias)
    registerBuffer("running_mean", runningMean)
    registerBuffer("running_var", runningVar)
    registerBuffer("num_batches_tracked", batchesTracked, integer: true)
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    if isTraining { batchesTracked.assign([batchesTracked.item + 1]) }
    return batchNorm(
      x, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias, training: isTraining,
      momentum: momentum, eps: eps)
  }
}

/// Rectified linear unit.
public final class ReLU: Module {
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x.relu() }
}

/// Leaky ReLU with the given negative slope.
public final class LeakyReLU: Module {
  public let slope: Float
  public init(slope: Float = 0.01) {
    self.slope = slope
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x.leakyRelu(slope: slope) }
}

/// Hyperbolic tangent.
public final class Tanh: Module {
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x.tanh() }
}

/// Logistic sigmoid.
public final class Sigmoid: Module {
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x.sigmoid() }
}

/// Max pooling (indices discarded; use `maxPool2d` for them).
public final class MaxPool2d: Module {
  public let kernel: Pair
  public let stride: Pair?
  public let padding: Pair
  public init(kernel: Pair, stride: Pair? = nil, padding: Pair = 0) {
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    maxPool(x, kernel: kernel, stride: stride, padding: padding)
  }
}

/// Average pooling.
public final class AvgPool2d: Module {
  public let kernel: Pair
  public let stride: Pair?
  public init(kernel: Pair, stride: Pair? = nil) {
    self.kernel = kernel
    self.stride = stride
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { avgPool2d(x, kernel: kernel, stride: stride) }
}

/// Adaptive average pooling to a fixed output size.
public final class AdaptiveAvgPool2d: Module {
  public let outputSize: Pair
  public init(_ outputSize: Pair) {
    self.outputSize = outputSize
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { adaptiveAvgPool2d(x, outputSize: outputSize) }
}

/// Flattens all dimensions after the batch.
public final class Flatten: Module {
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { x.flattened(from: 1) }
}

/// Local response normalisation across channels.
public final class LocalResponseNorm: Module {
  public let size: Int
  public let alpha, beta, k: Float
  public init(size: Int, alpha: Float = 1e-4, beta: Float = 0.75, k: Float = 1) {
    self.size = size
    self.alpha = alpha
    self.beta = beta
    self.k = k
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    localResponseNorm(x, size: size, alpha: alpha, beta: beta, k: k)
  }
}

/// Dropout with its own seeded generator (active in training mode only).
public final class Dropout: Module {
  public let p: Double
  private var rng: RandomGenerator
  public init(p: Double = 0.5, seed: UInt64) {
    self.p = p
    rng = RandomGenerator(seed: seed)
    super.init()
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    dropout(x, p: p, training: isTraining, rng: &rng)
  }
}

/// Runs children in order; their keys are their indices ("0", "1", ...), as nn.Sequential.
public final class Sequential: Module {
  public init(_ layers: [Module]) {
    super.init()
    for (i, l) in layers.enumerated() { registerModule(String(i), l) }
  }
  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    children.reduce(x) { $1.module($0) }
  }
}

/// Gated recurrent unit cell (torch.nn.GRUCell): weight_ih [3H, I], weight_hh [3H, H], biases [3H].
public final class GRUCell: Module {
  public let weightIH, weightHH: Tensor<Float>
  public let biasIH, biasHH: Tensor<Float>
  public let hiddenSize: Int

  public init(inputSize: Int, hiddenSize: Int, rng: inout RandomGenerator) {
    self.hiddenSize = hiddenSize
    weightIH = defaultUniform([3 * hiddenSize, inputSize], fanIn: hiddenSize, rng: &rng)
    weightHH = defaultUniform([3 * hiddenSize, hiddenSize], fanIn: hiddenSize, rng: &rng)
    biasIH = defaultUniform([3 * hiddenSize], fanIn: hiddenSize, rng: &rng)
    biasHH = defaultUniform([3 * hiddenSize], fanIn: hiddenSize, rng: &rng)
    super.init()
    registerParameter("weight_ih", weightIH)
    registerParameter("weight_hh", weightHH)
    registerParameter("bias_ih", biasIH)
    registerParameter("bias_hh", biasHH)
  }

  /// One step: (x [N, I], h [N, H]) -> h' [N, H].
  public func step(_ x: Tensor<Float>, _ h: Tensor<Float>) -> Tensor<Float> {
    gruCell(x, h, weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH)
  }
}

/// Multi-layer GRU over a sequence (torch.nn.GRU, batch_first = false), keys `weight_ih_l0`, ...
public final class GRU: Module {
  public let layers: [GRULayerWeights<Float>]
  public let hiddenSize: Int

  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, rng: inout RandomGenerator) {
    self.hiddenSize = hiddenSize
    var ls: [GRULayerWeights<Float>] = []
    for l in 0..<numLayers {
      let inSize = l == 0 ? inputSize : hiddenSize
      ls.append(
        GRULayerWeights(
          weightIH: defaultUniform([3 * hiddenSize, inSize], fanIn: hiddenSize, rng: &rng),
          weightHH: defaultUniform([3 * hiddenSize, hiddenSize], fanIn: hiddenSize, rng: &rng),
          biasIH: defaultUniform([3 * hiddenSize], fanIn: hiddenSize, rng: &rng),
          biasHH: defaultUniform([3 * hiddenSize], fanIn: hiddenSize, rng: &rng)))
    }
    layers = ls
    super.init()
    for (l, w) in ls.enumerated() {
      registerParameter("weight_ih_l\(l)", w.weightIH)
      registerParameter("weight_hh_l\(l)", w.weightHH)
      registerParameter("bias_ih_l\(l)", w.biasIH!)
      registerParameter("bias_hh_l\(l)", w.biasHH!)
    }
  }

  /// input [T, N, I], h0 [layers, N, H] or nil -> (output [T, N, H], hN [layers, N, H]).
  public func run(_ input: Tensor<Float>, h0: Tensor<Float>? = nil) -> (output: Tensor<Float>, hidden: Tensor<Float>) {
    gru(input, h0: h0, layers: layers)
  }

  public override func forward(_ x: Tensor<Float>) -> Tensor<Float> { run(x).output }
}
