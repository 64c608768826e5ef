import Kernels

/// Op kinds whose backward rule a caller can replace inside a block: what guided backprop,
/// deconvnet, LRP and Excitation Backprop change. `maxPool` covers max pooling with and without
/// indices; `avgPool` covers average and adaptive-average pooling; `add` is the residual sum;
/// `batchNorm` is batch normalisation (Excitation Backprop and LRP pass their signal through it).
public enum OverridableOp: String, Sendable, CaseIterable {
  case relu, conv2d, linear, add, maxPool, avgPool, batchNorm
}

/// What a replacement backward rule is given: the op, its inputs (values as in the forward pass),
/// its output values and shape, dL/d(output), and the op's own backward rule (`standard`), which a
/// replacement may call on a transformed signal (Excitation Backprop routes a max pool's signal to
/// the winner exactly as the gradient does; an average pool's in proportion to its inputs is
/// x * standard(g / output)). For conv2d and linear, `reapply` runs the same op (same stride,
/// padding, dilation and groups) on other inputs, recorded on the tape so that its pullback can be
/// taken: Excitation Backprop and LRP re-run a layer with max(W, 0) and no bias. It returns
/// dL/d(each input), nil for inputs that get none.
public struct BackwardContext<Scalar: KernelScalar> {
  public let op: OverridableOp
  public let inputs: [Tensor<Scalar>]
  public let output: [Scalar]
  public let outputShape: [Int]
  public let gradient: [Scalar]
  public let standard: ([Scalar]) -> [[Scalar]?]
  public let reapply: (([Tensor<Scalar>]) -> Tensor<Scalar>)?
}

/// Replacement backward rules by op kind, for Float and Double graphs. In force inside
/// `withBackwardOverrides` (task-local, like grad mode): ops recorded there keep the replacement
/// rule whenever the graph is later differentiated; ops recorded outside keep their own rule.
public struct BackwardOverrides: Sendable {
  public var float: [OverridableOp: @Sendable (BackwardContext<Float>) -> [[Float]?]] = [:]
  public var double: [OverridableOp: @Sendable (BackwardContext<Double>) -> [[Double]?]] = [:]

  public init() {}

  /// The rules in force for the current task.
  @TaskLocal public static var current: BackwardOverrides?

  /// The replacement rule for `op` on `Scalar` graphs in force now, if any.
  static func rule<Scalar: KernelScalar>(_ op: OverridableOp, _: Scalar.Type) -> (
    (BackwardContext<Scalar>) -> [[Scalar]?]
  )? {
    guard let current else { return nil }
    // The Scalar checks make the casts between identical function types.
    typealias Rule = (BackwardContext<Scalar>) -> [[Scalar]?]
    if Scalar.self == Float.self, let r = current.float[op] { return unsafeBitCast(r, to: Rule.self) }
    if Scalar.self == Double.self, let r = current.double[op] { return unsafeBitCast(r, to: Rule.self) }
    return nil
  }

  /// Guided backprop (Springenberg et al. 2015): a ReLU passes back only positive gradients, and
  /// only where its input was positive: dx = [x > 0] max(dy, 0). Same as PyTorch's usual
  /// implementation, a backward hook on each ReLU returning clamp(grad_in, min=0).
  public static let guidedBackprop: BackwardOverrides = {
    var o = BackwardOverrides()
    o.float[.relu] = { c in [guidedRelu(c)] }
    o.double[.relu] = { c in [guidedRelu(c)] }
    return o
  }()

  static func guidedRelu<S: KernelScalar>(_ c: BackwardContext<S>) -> [S] {
    zip(c.inputs[0].scalars, c.gradient).map { x, g in x > 0 && g > 0 ? g : 0 }
  }
}

/// Runs `body` with `overrides` replacing the backward rules of the ops it records.
public func withBackwardOverrides<R>(_ overrides: BackwardOverrides, _ body: () throws -> R) rethrows -> R {
  try BackwardOverrides.$current.withValue(overrides) { try body() }
}

extension Tensor {
  /// `result(shape:scalars:inputs:pullback:)` for an overridable op: with a replacement rule in force,
  /// the recorded pullback is the replacement.
  @usableFromInline
  static func result(
    shape: [Int], scalars: [Scalar], inputs: [Tensor], op: OverridableOp,
    reapply: (([Tensor]) -> Tensor)? = nil, pullback: @escaping ([Scalar]) -> [[Scalar]?]
  ) -> Tensor {
    guard recording(inputs), let rule = BackwardOverrides.rule(op, Scalar.self) else {
      return result(shape: shape, scalars: scalars, inputs: inputs, pullback: pullback)
    }
    return result(shape: shape, scalars: scalars, inputs: inputs) { g in
      rule(
        BackwardContext(
          op: op, inputs: inputs, output: scalars, outputShape: shape, gradient: g, standard: pullback,
          reapply: reapply))
    }
  }
}
