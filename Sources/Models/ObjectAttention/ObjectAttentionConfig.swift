import Engine

/// Hyper-parameters of the object-based attention network (recurrent top-down gating with
/// inhibition of return; ../shared/reference/object-attention.md).
public struct ObjectAttentionConfig: Sendable, Equatable {
  /// The two published variants.
  public enum Variant: String, Sendable, CaseIterable {
    /// Two-digit MNIST (paper Table 1): 1 x 28 x 42 input, conv 1->20->50, nearest upsampling.
    case mnist
    /// COCO (paper Table 2): 3 x 100 x 100 input, conv 3->30->60->100->20, bicubic upsampling,
    /// one-channel input mask repeated over RGB, 12 supercategories.
    case coco
  }

  public var variant: Variant
  /// Channels from the input through every conv block, e.g. [1, 20, 50].
  public var channels: [Int]
  /// Input height and width in pixels.
  public var inputHeight, inputWidth: Int
  /// Number of classes.
  public var classes: Int
  /// Upsampling used in the feedback path.
  public var upsampling: UpsampleMode
  /// Gating strength s: the gain is 1 - s * mask, in (1 - s, 1 + s).
  public var strength: Float
  /// Passes T per glimpse.
  public var passes: Int
  /// IOR threshold theta: after pass T-1, mask values below theta become inhibited for later glimpses.
  public var iorThreshold: Float
  /// Objects (= glimpses) per image.
  public var objects: Int

  /// The MNIST variant with the paper's settings (s = 0.2, T = 5, theta = 0.5, 2 objects).
  public static func mnist(strength: Float = 0.2, passes: Int = 5, iorThreshold: Float = 0.5, objects: Int = 2) -> Self
  {
    Self(
      variant: .mnist, channels: [1, 20, 50], inputHeight: 28, inputWidth: 28 + 14 * (objects - 1), classes: 10,
      upsampling: .nearest, strength: strength, passes: passes, iorThreshold: iorThreshold, objects: objects)
  }

  /// The COCO variant with the paper's settings (s = 0.3, T = 5, theta = 0.5, 2 objects).
  public static func coco(strength: Float = 0.3, passes: Int = 5, iorThreshold: Float = 0.5, objects: Int = 2) -> Self {
    Self(
      variant: .coco, channels: [3, 30, 60, 100, 20], inputHeight: 100, inputWidth: 100, classes: 12,
      upsampling: .bicubic, strength: strength, passes: passes, iorThreshold: iorThreshold, objects: objects)
  }

  /// The preset of `variant` with the paper's defaults.
  public static func preset(_ variant: Variant) -> Self { variant == .mnist ? .mnist() : .coco() }

  /// Conv blocks (each conv k = 4 then max-pool 2).
  public var blocks: Int { channels.count - 1 }

  /// Spatial size of each block's input (index 0 = the image) and pre-pool conv output.
  public var blockInputSizes: [Pair] {
    var sizes = [Pair(inputHeight, inputWidth)]
    for _ in 0..<blocks {
      let c = convSize(sizes.last!)
      sizes.append(Pair(c.h / 2, c.w / 2))
    }
    return sizes
  }

  /// Output size of a k = 4 conv on `input`.
  public func convSize(_ input: Pair) -> Pair { Pair(input.h - 3, input.w - 3) }

  /// Flattened size of the last pooled map (the linear layers' width).
  public var flatSize: Int {
    let s = blockInputSizes.last!
    return channels.last! * s.h * s.w
  }

  /// Names of the recordable conv layers, "conv1" ... (post-ReLU, pre-pool).
  public var convLayerNames: [String] { (1...blocks).map { "conv\($0)" } }
}

extension ObjectAttentionConfig {
  /// Checks an input array's dtype and shape against this model: float32 [N, C, H, W], or [N, H, W] for
  /// one channel. The error names the file, what was expected and what was found.
  public func inputBatch(_ a: StoredTensor, file: String) throws -> Tensor<Float> {
    let c = channels[0]
    let h = inputHeight
    let w = inputWidth
    let expected = "float32 array [N, \(c), \(h), \(w)]" + (c == 1 ? " or [N, \(h), \(w)]" : "")
    guard a.dtype == .f32 else {
      throw CheckpointError("expected a \(expected), found \(a.dtype.rawValue) \(a.shape)", file: file)
    }
    if c == 1 && a.shape.count == 3 && a.shape[0] > 0 && a.shape[1] == h && a.shape[2] == w {
      return Tensor(shape: [a.shape[0], 1, h, w], scalars: try a.floats())
    }
    guard a.shape.count == 4, a.shape[0] > 0, a.shape[1] == c, a.shape[2] == h, a.shape[3] == w else {
      throw CheckpointError("expected a \(expected), found float32 \(a.shape)", file: file)
    }
    return Tensor(shape: a.shape, scalars: try a.floats())
  }
}
