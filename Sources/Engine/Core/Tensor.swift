import Kernels

/// A dense, contiguous, row-major (NCHW for images) array of `Scalar` with reverse-mode autograd.
///
/// Tensors are reference types like PyTorch's: an op's result remembers its inputs and a
/// pullback while grad mode is on and an input requires a gradient. Values are never modified in
/// place by ops, so a tensor a hook keeps can never be overwritten later; only optimisers update
/// parameters in place (`withMutableScalars`), and Swift's copy-on-write protects earlier copies.
public final class Tensor<Scalar: KernelScalar> {
  /// Extent of each dimension; `[]` is a scalar (rank 0, one element).
  public let shape: [Int]
  /// The elements in row-major order.
  public private(set) var scalars: [Scalar]
  /// Whether gradients flow to this tensor (leaves) or through it (results of ops).
  public var requiresGrad: Bool
  /// dL/d(this), filled on leaves by `backward()`; same shape as the tensor.
  public var grad: Tensor<Scalar>?
  /// How this tensor was computed, when gradients flow through it.
  @usableFromInline var node: GradNode<Scalar>?

  /// Wraps `scalars` (row-major) as a tensor of `shape`.
  public init(shape: [Int], scalars: [Scalar], requiresGrad: Bool = false) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    precondition(
      shape.reduce(1, *) == scalars.count,
      "shape \(shape) needs \(shape.reduce(1, *)) elements, got \(scalars.count)")
    self.shape = shape
    self.scalars = scalars
    self.requiresGrad = requiresGrad
  }

  /// A rank-0 tensor holding `value`.
  public convenience init(_ value: Scalar) { self.init(shape: [], scalars: [value]) }

  /// A tensor of `shape` filled with `value`.
  public convenience init(repeating value: Scalar, shape: [Int]) {
    self.init(shape: shape, scalars: [Scalar](repeating: value, count: shape.reduce(1, *)))
  }

  /// Zeros of `shape`.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
  /// Ones of `shape`.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// Number of elements.
  public var count: Int { scalars.count }
  /// Number of dimensions.
  public var rank: Int { shape.count }
  /// The single value of a one-element tensor.
  public var item: Scalar {
    precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
    return scalars[0]
  }

  /// A tensor sharing these values but cut from the autograd graph.
  public func detached() -> Tensor { Tensor(shape: shape, scalars: scalars) }

  /// Items `range` along the first dimension (a batch's slice), as a new tensor outside the graph.
  public func rows(_ range: Range<Int>) -> Tensor {
    let per = count / Swift.max(1, shape[0])
    return Tensor(
      shape: [range.count] + shape.dropFirst(),
      scalars: Array(scalars[(range.lowerBound * per)..<(range.upperBound * per)]))
  }

  /// A copy that owns its values (recorders use this; values are copied eagerly).
  public func copy() -> Tensor {
    let values = scalars.withUnsafeBufferPointer { Array($0) }
    return Tensor(shape: shape, scalars: values)
  }

  /// Converts to another scalar type (e.g. Float -> Double for gradient checks); no gradient.
  public func cast<U: KernelScalar>(to _: U.Type) -> Tensor<U> {
    Tensor<U>(shape: shape, scalars: scalars.map { U($0) })
  }

  /// Replaces the values in place (optimisers, checkpoint loading); the shape must not change.
  public func assign(_ values: [Scalar]) {
    precondition(values.count == scalars.count, "assign: \(values.count) values for shape \(shape)")
    scalars = values
  }

  /// Gives mutable access to the values in place (optimisers); the count must not change.
  public func withMutableScalars<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
    try scalars.withUnsafeMutableBufferPointer { try body($0) }
  }
}

extension Tensor: CustomStringConvertible {
  /// Shape and the first few values.
  public var description: String {
    let head = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor\(shape)[\(head)\(count > 8 ? ", ..." : "")]"
  }
}

/// Builds an array of `count` elements by letting `body` write every element of the buffer.
@inlinable
func makeArray<T>(_ count: Int, _ body: (UnsafeMutablePointer<T>) -> Void) -> [T] {
  [T](unsafeUninitializedCapacity: count) { buf, initialized in
    if count > 0 { body(buf.baseAddress!) }
    initialized = count
  }
}

/// Builds a zero-filled array of `count` elements and lets `body` accumulate into it.
@inlinable
func makeZeroArray<T: KernelScalar>(_ count: Int, _ body: (UnsafeMutablePointer<T>) -> Void) -> [T] {
  var a = [T](repeating: 0, count: count)
  if count > 0 { a.withUnsafeMutableBufferPointer { body($0.baseAddress!) } }
  return a
}
