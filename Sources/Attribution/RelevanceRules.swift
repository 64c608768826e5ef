import Engine
import Foundation
import Kernels

/// The backward rules of the top-down attribution methods, as `BackwardOverrides` tables for the
/// engine: every rule receives the op's forward inputs and output and the signal arriving from above,
/// and returns the signal for the op's input. Deconvnet and guided backprop change only ReLU;
/// Excitation Backprop and LRP change conv, linear, average pooling, batch norm and the residual sum.
public enum RelevanceRules {
  /// Deconvnet (Zeiler & Fergus 2014): a ReLU passes back max(g, 0) whatever its input was.
  public static let deconvnet: BackwardOverrides = {
    var o = BackwardOverrides()
    o.float[.relu] = { c in [c.gradient.map { Swift.max($0, 0) }] }
    o.double[.relu] = { c in [c.gradient.map { Swift.max($0, 0) }] }
    return o
  }()

  /// Excitation Backprop (Zhang et al. 2016), as TorchRay and the authors' Caffe code apply it:
  /// conv / linear p_in = x * layer^T(p_out / layer(x, W+)) with W+ = max(W, 0), no bias, and 0 where
  /// the normaliser is 0 (Caffe; TorchRay adds 1e-20); average and adaptive-average pooling
  /// p_in = x * pool^T(p_out / pool(x)); max pooling and ReLU keep their gradient (winner-take-all;
  /// p is 0 where the activation is 0); batch norm passes p through; a residual sum splits p in
  /// proportion to its summands, 0 where the sum is 0 (TorchRay gives NaN there). While `dual.on`,
  /// the weight `dual.weight` (the classifier's) is used negated: the dual unit of contrastive MWP.
  /// With `cache`, each layer's max(W, 0) is computed once for all the maps the cache lives for.
  public static func excitationBackprop(dual: DualClassifier? = nil, cache: PositiveWeights? = nil)
    -> BackwardOverrides
  {
    var o = proportionalRouting()
    o.float[.conv2d] = { c in positiveWeightRule(c, dual: dual, cache: cache) }
    o.double[.conv2d] = { c in positiveWeightRule(c, dual: dual, cache: cache) }
    o.float[.linear] = { c in positiveWeightRule(c, dual: dual, cache: cache) }
    o.double[.linear] = { c in positiveWeightRule(c, dual: dual, cache: cache) }
    return o
  }

  /// LRP-epsilon (Bach et al. 2015): conv / linear R_in = x * layer^T(R_out / (z + eps sign(z))) with
  /// z the layer's own output (weights and bias), sign(0) = 1; pooling, batch norm and the residual
  /// sum as in Excitation Backprop; ReLU passes R through.
  public static func lrpEpsilon(_ epsilon: Double = 1e-6) -> BackwardOverrides {
    var o = layerwiseRelevanceCommon()
    o.float[.conv2d] = { c in epsilonRule(c, Float(epsilon)) }
    o.double[.conv2d] = { c in epsilonRule(c, epsilon) }
    o.float[.linear] = { c in epsilonRule(c, Float(epsilon)) }
    o.double[.linear] = { c in epsilonRule(c, epsilon) }
    return o
  }

  /// LRP alpha1-beta0 (the z+ rule extended to signed inputs): only positive contributions
  /// x_i w_ij > 0 carry relevance, R_i = sum_j (x_i w_ij)+ / sum_i' (x_i' w_i'j)+ R_j, bias ignored;
  /// computed as x+ * layer^T(R / Z, W+) + x- * layer^T(R / Z, W-), Z = layer(x+, W+) + layer(x-, W-),
  /// 0 where Z = 0. On non-negative inputs this is Excitation Backprop's rule.
  public static let lrpZPlus: BackwardOverrides = {
    var o = layerwiseRelevanceCommon()
    o.float[.conv2d] = { c in alphaOneBetaZeroRule(c) }
    o.double[.conv2d] = { c in alphaOneBetaZeroRule(c) }
    o.float[.linear] = { c in alphaOneBetaZeroRule(c) }
    o.double[.linear] = { c in alphaOneBetaZeroRule(c) }
    return o
  }()

  /// What Excitation Backprop and LRP share: average pooling and the residual sum split the signal
  /// in proportion to their inputs, batch norm passes it through.
  static func proportionalRouting() -> BackwardOverrides {
    var o = BackwardOverrides()
    o.float[.avgPool] = { c in proportionalPool(c) }
    o.double[.avgPool] = { c in proportionalPool(c) }
    o.float[.batchNorm] = { c in passThrough(c) }
    o.double[.batchNorm] = { c in passThrough(c) }
    o.float[.add] = { c in proportionalSum(c) }
    o.double[.add] = { c in proportionalSum(c) }
    return o
  }

  /// LRP's shared rules: `proportionalRouting`, and ReLU passes relevance through.
  static func layerwiseRelevanceCommon() -> BackwardOverrides {
    var o = proportionalRouting()
    o.float[.relu] = { c in [c.gradient] }
    o.double[.relu] = { c in [c.gradient] }
    return o
  }

  // MARK: - The rules

  /// g / n elementwise, 0 where n == 0.
  static func safeRatio<S: KernelScalar>(_ g: [S], _ n: [S]) -> [S] {
    var out = [S](repeating: 0, count: g.count)
    for i in 0..<g.count where n[i] != 0 { out[i] = g[i] / n[i] }
    return out
  }

  /// d(op(inputs))/d(inputs[0]) applied to `signal`: the op re-run on `inputs` (a fresh copy of
  /// the first one, so only it gets a gradient), outside any override, with gradients on.
  static func transposed<S: KernelScalar>(
    _ c: BackwardContext<S>, inputs: [Tensor<S>], signal: ([S]) -> [S]
  ) -> [S] {
    BackwardOverrides.$current.withValue(nil) {
      GradMode.$isEnabled.withValue(true) {
        let x = Tensor(shape: inputs[0].shape, scalars: inputs[0].scalars, requiresGrad: true)
        let y = c.reapply!([x] + inputs.dropFirst())
        let seed = Tensor(shape: y.shape, scalars: signal(y.scalars))
        return y.gradients(wrt: [x], seed: seed)[0].scalars
      }
    }
  }

  /// Nil gradients for every input but the first (weights and biases get none).
  static func onlyInput<S: KernelScalar>(_ c: BackwardContext<S>, _ dx: [S]?) -> [[S]?] {
    [dx] + [[S]?](repeating: nil, count: c.inputs.count - 1)
  }

  static func positiveWeightRule<S: KernelScalar>(
    _ c: BackwardContext<S>, dual: DualClassifier?, cache: PositiveWeights?
  ) -> [[S]?] {
    let x = c.inputs[0]
    guard x.requiresGrad else { return onlyInput(c, nil) }
    let w = c.inputs[1]
    let negate = dual?.isNegating(w) ?? false
    let make = { Tensor(shape: w.shape, scalars: w.scalars.map { negate ? Swift.max(-$0, 0) : Swift.max($0, 0) }) }
    let wPlus = cache?.tensor(for: w, negated: negate, make) ?? make()
    let t = transposed(c, inputs: [x, wPlus]) { n in safeRatio(c.gradient, n) }
    return onlyInput(c, zip(x.scalars, t).map(*))
  }

  static func epsilonRule<S: KernelScalar>(_ c: BackwardContext<S>, _ epsilon: S) -> [[S]?] {
    let x = c.inputs[0]
    guard x.requiresGrad else { return onlyInput(c, nil) }
    let z = c.output.map { $0 + ($0 >= 0 ? epsilon : -epsilon) }
    let t = transposed(c, inputs: Array(c.inputs)) { _ in safeRatio(c.gradient, z) }
    return onlyInput(c, zip(x.scalars, t).map(*))
  }

  static func alphaOneBetaZeroRule<S: KernelScalar>(_ c: BackwardContext<S>) -> [[S]?] {
    let x = c.inputs[0]
    guard x.requiresGrad else { return onlyInput(c, nil) }
    let w = c.inputs[1]
    let xPlus = Tensor(shape: x.shape, scalars: x.scalars.map { Swift.max($0, 0) })
    let xMinus = Tensor(shape: x.shape, scalars: x.scalars.map { Swift.min($0, 0) })
    let wPlus = Tensor(shape: w.shape, scalars: w.scalars.map { Swift.max($0, 0) })
    let wMinus = Tensor(shape: w.shape, scalars: w.scalars.map { Swift.min($0, 0) })
    let z = BackwardOverrides.$current.withValue(nil) {
      withNoGrad { zip(c.reapply!([xPlus, wPlus]).scalars, c.reapply!([xMinus, wMinus]).scalars).map(+) }
    }
    let ratio = safeRatio(c.gradient, z)
    let tPlus = transposed(c, inputs: [xPlus, wPlus]) { _ in ratio }
    let tMinus = transposed(c, inputs: [xMinus, wMinus]) { _ in ratio }
    var dx = [S](repeating: 0, count: x.count)
    for i in 0..<x.count { dx[i] = xPlus.scalars[i] * tPlus[i] + xMinus.scalars[i] * tMinus[i] }
    return onlyInput(c, dx)
  }

  static func proportionalPool<S: KernelScalar>(_ c: BackwardContext<S>) -> [[S]?] {
    guard let t = c.standard(safeRatio(c.gradient, c.output))[0] else { return [nil] }
    return [zip(c.inputs[0].scalars, t).map(*)]
  }

  static func passThrough<S: KernelScalar>(_ c: BackwardContext<S>) -> [[S]?] {
    onlyInput(c, c.gradient)
  }

  static func proportionalSum<S: KernelScalar>(_ c: BackwardContext<S>) -> [[S]?] {
    let (a, b) = (c.inputs[0], c.inputs[1])
    guard a.shape == b.shape else { return c.standard(c.gradient) }
    let ratio = safeRatio(c.gradient, c.output)
    return [
      a.requiresGrad ? zip(a.scalars, ratio).map(*) : nil,
      b.requiresGrad ? zip(b.scalars, ratio).map(*) : nil,
    ]
  }
}

/// The switch behind contrastive MWP's dual unit: while `on`, Excitation Backprop uses the
/// classifier's weight (`weight`) negated, as TorchRay flips the last layer's weights for the dual
/// pass. One per attribution call; the lock makes it safe to read from the backward rules.
public final class DualClassifier: @unchecked Sendable {
  private let lock = NSLock()
  private let weight: ObjectIdentifier
  private var on = false

  /// A switch for the classifier layer whose weight tensor is `weight`.
  public init(weight: Tensor<Float>) { self.weight = ObjectIdentifier(weight) }

  /// Runs `body` with the classifier negated.
  public func negated<R>(_ body: () throws -> R) rethrows -> R {
    lock.withLock { on = true }
    defer { lock.withLock { on = false } }
    return try body()
  }

  func isNegating<S: KernelScalar>(_ w: Tensor<S>) -> Bool {
    lock.withLock { on && ObjectIdentifier(w) == weight }
  }
}

/// max(W, 0) (or max(-W, 0) for the dual unit) per weight tensor, computed once: the fully
/// connected layers of VGG16 hold 120 M weights, and clamping them on every map costs as much as
/// the arithmetic. The weights must not change while the cache is in use (an `Attributor` owns one).
public final class PositiveWeights: @unchecked Sendable {
  private let lock = NSLock()
  private struct Key: Hashable {
    var weight: ObjectIdentifier
    var negated: Bool
    var scalar: ObjectIdentifier
  }
  private var stored: [Key: AnyObject] = [:]

  public init() {}

  func tensor<S: KernelScalar>(for w: Tensor<S>, negated: Bool, _ make: () -> Tensor<S>) -> Tensor<S> {
    let key = Key(weight: ObjectIdentifier(w), negated: negated, scalar: ObjectIdentifier(S.self))
    if let t = lock.withLock({ stored[key] }) as? Tensor<S>, t.shape == w.shape { return t }
    let t = make()
    lock.withLock { stored[key] = t }
    return t
  }
}
