import Kernels

/// A recorded op: its inputs and the pullback that maps dL/d(output) to dL/d(each input)
/// (nil for inputs that need no gradient). Pullbacks work on raw value arrays.
@usableFromInline
final class GradNode<Scalar: KernelScalar> {
  @usableFromInline let inputs: [Tensor<Scalar>]
  @usableFromInline let pullback: ([Scalar]) -> [[Scalar]?]

  @usableFromInline
  init(inputs: [Tensor<Scalar>], pullback: @escaping ([Scalar]) -> [[Scalar]?]) {
    self.inputs = inputs
    self.pullback = pullback
  }
}

extension Tensor {
  /// Whether an op on `inputs` must record itself on the tape.
  @inlinable
  static func recording(_ inputs: [Tensor]) -> Bool {
    GradMode.isEnabled && inputs.contains { $0.requiresGrad }
  }

  /// Defines an op outside the Engine (Models, Attribution, user code): `scalars` of `shape` are the
  /// forward values the caller computed from `inputs`, and `pullback` maps dL/d(output) (flat, the
  /// output's layout) to dL/d(each input) (flat, each input's layout; nil for an input that gets no
  /// gradient). Recorded on the tape when grad mode is on and an input requires a gradient, so
  /// `backward()` and `gradients(of:wrt:)` go through it like any built-in op.
  public static func customOp(
    shape: [Int], scalars: [Scalar], inputs: [Tensor], pullback: @escaping ([Scalar]) -> [[Scalar]?]
  ) -> Tensor {
    precondition(shape.reduce(1, *) == scalars.count, "customOp: \(scalars.count) values for shape \(shape)")
    return result(shape: shape, scalars: scalars, inputs: inputs) { g in
      let grads = pullback(g)
      precondition(
        grads.count == inputs.count, "customOp: pullback gave \(grads.count) gradients for \(inputs.count) inputs")
      for (k, d) in grads.enumerated() {
        precondition(
          d == nil || d!.count == inputs[k].count,
          "customOp: gradient \(k) has \(d?.count ?? 0) values for an input of \(inputs[k].count)")
      }
      return grads
    }
  }

  /// The result of an op: attaches `pullback` when grad mode is on and an input requires a gradient.
  @inlinable
  static func result(
    shape: [Int], scalars: [Scalar], inputs: [Tensor],
    pullback: @escaping ([Scalar]) -> [[Scalar]?]
  ) -> Tensor {
    let t = Tensor(shape: shape, scalars: scalars)
    if recording(inputs) {
      t.requiresGrad = true
      t.node = GradNode(inputs: inputs, pullback: pullback)
    }
    return t
  }

  /// Back-propagates from this tensor: dL/d(self) is `gradient` (ones for a one-element tensor when
  /// nil), and every leaf that requires a gradient gets its `grad` increased by dL/d(leaf).
  public func backward(_ gradient: Tensor? = nil) {
    propagate(seed: seedGradient(gradient)) { t, g in
      guard t.node == nil else { return }  // leaves accumulate into .grad
      if let existing = t.grad {
        var sum = existing.scalars
        sum.withUnsafeMutableBufferPointer { d in
          g.withUnsafeBufferPointer { Elementwise.addInPlace(d.baseAddress!, $0.baseAddress!, g.count) }
        }
        t.grad = Tensor(shape: t.shape, scalars: sum)
      } else {
        t.grad = Tensor(shape: t.shape, scalars: g)
      }
    }
  }

  /// dL/d(each of `inputs`), where dL/d(self) is `gradient` (ones for a one-element tensor when nil),
  /// like `torch.autograd.grad(self, inputs, gradient)`: the inputs may be leaves or intermediate
  /// results on the graph (a layer's output), `.grad` is left untouched, and an input that `self`
  /// does not depend on gets zeros.
  public func gradients(wrt inputs: [Tensor], seed gradient: Tensor? = nil) -> [Tensor] {
    precondition(requiresGrad, "gradients(wrt:) of a tensor that does not require grad")
    let wanted = Set(inputs.map(ObjectIdentifier.init))
    var found: [ObjectIdentifier: [Scalar]] = [:]
    propagate(seed: seedGradient(gradient), towards: wanted) { t, g in
      if wanted.contains(ObjectIdentifier(t)) { found[ObjectIdentifier(t)] = g }
    }
    return inputs.map { t in
      Tensor(shape: t.shape, scalars: found[ObjectIdentifier(t)] ?? [Scalar](repeating: 0, count: t.count))
    }
  }

  /// dL/d(self) as values: `gradient`'s, or 1 for a one-element tensor.
  func seedGradient(_ gradient: Tensor?) -> [Scalar] {
    precondition(requiresGrad, "backward() on a tensor that does not require grad")
    if let gradient {
      precondition(gradient.shape == shape, "gradient shape \(gradient.shape) != \(shape)")
      return gradient.scalars
    }
    precondition(count == 1, "backward() without a gradient needs a one-element tensor")
    return [1]
  }

  /// Walks the graph behind this tensor in reverse topological order, starting from dL/d(self) =
  /// `seed`, and calls `visit(tensor, dL/d(tensor))` once for every tensor that requires a gradient,
  /// with its complete gradient, before passing it on through the tensor's pullback.
  /// With `targets`, only the part of the graph that leads to one of them is walked (as
  /// `torch.autograd.grad` does): nothing below an intermediate target is computed unless another
  /// target lies there.
  func propagate(seed: [Scalar], towards targets: Set<ObjectIdentifier>? = nil, visit: (Tensor, [Scalar]) -> Void) {
    // Topological order of the nodes reachable from self (iterative DFS, post-order).
    var order: [Tensor] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(Tensor, Bool)] = [(self, false)]
    while let (t, expanded) = stack.popLast() {
      if expanded {
        order.append(t)
        continue
      }
      if !visited.insert(ObjectIdentifier(t)).inserted { continue }
      stack.append((t, true))
      if let node = t.node {
        for input in node.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
          stack.append((input, false))
        }
      }
    }
    // leads[t]: some target is t or lies below t (order has every tensor after its inputs).
    var leads: Set<ObjectIdentifier>? = nil
    if let targets {
      var s = Set<ObjectIdentifier>()
      for t in order {
        let id = ObjectIdentifier(t)
        if targets.contains(id) || (t.node?.inputs.contains { s.contains(ObjectIdentifier($0)) } ?? false) {
          s.insert(id)
        }
      }
      leads = s
    }
    var grads: [ObjectIdentifier: [Scalar]] = [ObjectIdentifier(self): seed]
    for t in order.reversed() {
      guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
      visit(t, g)
      guard let node = t.node else { continue }
      if let leads, !node.inputs.contains(where: { leads.contains(ObjectIdentifier($0)) }) { continue }
      let inputGrads = node.pullback(g)
      for (input, ig) in zip(node.inputs, inputGrads) {
        guard let ig, input.requiresGrad else { continue }
        if let leads, !leads.contains(ObjectIdentifier(input)) { continue }
        precondition(ig.count == input.count, "internal: gradient size mismatch")
        let key = ObjectIdentifier(input)
        if var acc = grads[key] {
          acc.withUnsafeMutableBufferPointer { d in
            ig.withUnsafeBufferPointer { Elementwise.addInPlace(d.baseAddress!, $0.baseAddress!, ig.count) }
          }
          grads[key] = acc
        } else {
          grads[key] = ig
        }
      }
    }
  }
}

/// dL/d(each of `inputs`) for L = `output` (one element) or with dL/d(output) = `seed`, like
/// `torch.autograd.grad`; inputs may be intermediate results such as a layer's output.
public func gradients<Scalar: KernelScalar>(
  of output: Tensor<Scalar>, wrt inputs: [Tensor<Scalar>], seed: Tensor<Scalar>? = nil
) -> [Tensor<Scalar>] {
  output.gradients(wrt: inputs, seed: seed)
}
