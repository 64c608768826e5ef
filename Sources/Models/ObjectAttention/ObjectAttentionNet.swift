import Engine

/// Everything one pass of the network computes, kept so recorders and the dynamics can read it.
public struct AttentionPass {
  /// Logits [N, classes].
  public var logits: Tensor<Float>
  /// The gated input x * (1 - s * mask1) ("latent in", the attended image).
  public var gatedInput: Tensor<Float>
  /// Post-ReLU, pre-pool conv outputs, conv1 first.
  public var convOutputs: [Tensor<Float>]
  /// Pooled outputs after each block.
  public var pooled: [Tensor<Float>]
  /// New top-down masks for the next pass (index 0 = input mask [N, 1, H, W]), before IOR.
  public var masks: [Tensor<Float>]
}

/// The recurrent object-based attention network: a feedforward conv stack whose inputs are gated
/// by masks that a feedback (transposed-conv) path computes from the previous pass. Parameter names
/// follow the reference PyTorch implementation (`conv1`, `linear_out`, `linear_out_t`, `conv1_t`, ...),
/// so its state_dicts load directly.
public final class ObjectAttentionNet: Module {
  public let config: ObjectAttentionConfig
  /// Feedforward convs conv1 ... convL.
  public let convs: [Conv2d]
  /// Post-ReLU probes conv1_relu ... (hook these to record post-ReLU activity; no parameters).
  public let reluProbes: [ReLU]
  public let linearOut: Linear
  public let linearOutT: Linear
  /// Feedback transposed convs conv1_t ... convL_t.
  public let convTs: [ConvTranspose2d]

  public init(_ config: ObjectAttentionConfig, seed: UInt64) {
    self.config = config
    var rng = RandomGenerator(seed: seed)
    let ch = config.channels
    convs = (0..<config.blocks).map { Conv2d(ch[$0], ch[$0 + 1], kernel: 4, rng: &rng) }
    reluProbes = (0..<config.blocks).map { _ in ReLU() }
    linearOut = Linear(config.flatSize, config.classes, rng: &rng)
    linearOutT = Linear(config.classes, config.flatSize, rng: &rng)
    // conv_l_t maps [up(top-down), up(pooled_l)] (2 * C_l channels) to the mask of block l's input:
    // C_{l-1} channels, except the image mask, which has one channel (repeated over RGB).
    convTs = (0..<config.blocks).map { l in
      ConvTranspose2d(2 * ch[l + 1], l == 0 ? 1 : ch[l], kernel: 4, rng: &rng)
    }
    super.init()
    for (i, c) in convs.enumerated() { registerModule("conv\(i + 1)", c) }
    for (i, r) in reluProbes.enumerated() { registerModule("conv\(i + 1)_relu", r) }
    registerModule("linear_out", linearOut)
    registerModule("linear_out_t", linearOutT)
    for (i, c) in convTs.enumerated().reversed() { registerModule("conv\(i + 1)_t", c) }
  }

  /// Zero masks for a batch of `n` (the state at the start of every glimpse).
  public func zeroMasks(batch n: Int) -> [Tensor<Float>] {
    let sizes = config.blockInputSizes
    return (0..<config.blocks).map { l in
      Tensor<Float>.zeros([n, l == 0 ? 1 : config.channels[l], sizes[l].h, sizes[l].w])
    }
  }

  /// One feedforward + feedback pass on x [N, C, H, W] gated by `masks` (from the previous pass).
  public func pass(_ x: Tensor<Float>, masks: [Tensor<Float>]) -> AttentionPass {
    let s = config.strength
    precondition(
      x.rank == 4 && x.shape[1] == config.channels[0] && x.shape[2] == config.inputHeight
        && x.shape[3] == config.inputWidth,
      "object-attention input must be [N, \(config.channels[0]), \(config.inputHeight), \(config.inputWidth)], got \(x.shape)"
    )
    let gated = x * (1 - s * masks[0])
    var h = gated
    var convOutputs: [Tensor<Float>] = []
    var pooled: [Tensor<Float>] = []
    for l in 0..<config.blocks {
      if l > 0 { h = h * (1 - s * masks[l]) }
      let a = reluProbes[l](convs[l](h))
      convOutputs.append(a)
      h = maxPool(a, kernel: 2)
      pooled.append(h)
    }
    let logits = linearOut(h.flattened())
    var top = linearOutT(logits).tanh().reshaped(pooled.last!.shape)
    let sizes = config.blockInputSizes
    var newMasks = [Tensor<Float>](repeating: logits, count: config.blocks)
    for l in stride(from: config.blocks - 1, through: 0, by: -1) {
      let size = config.convSize(sizes[l])
      if config.upsampling == .nearest {
        // Same values as the general branch; the transposed conv runs at the pooled resolution.
        let low = concat([top, pooled[l]], dim: 1)
        top = convTs[l].forward(nearestUpsampled: low, size: size, outputSize: sizes[l]).tanh()
      } else {
        let up = concat(
          [
            interpolate(top, size: size, mode: config.upsampling),
            interpolate(pooled[l], size: size, mode: config.upsampling),
          ],
          dim: 1)
        top = convTs[l].forward(up, outputSize: sizes[l]).tanh()
      }
      newMasks[l] = top
    }
    return AttentionPass(logits: logits, gatedInput: gated, convOutputs: convOutputs, pooled: pooled, masks: newMasks)
  }
}
