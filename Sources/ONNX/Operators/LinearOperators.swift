import Engine

/// Softmax and LogSoftmax: before opset 13 over the input flattened to 2-D at `axis` (default 1), from
/// 13 along the one `axis` (default -1).
private func softmaxKernel(log: Bool) -> OperatorKernel {
  { call in
    let node = call.node
    let x = try call.float(0)
    guard x.rank >= 1 else { throw node.error("input must have at least one axis") }
    let f: (Tensor<Float>, Int) -> Tensor<Float> = { t, d in log ? t.logSoftmax(dim: d) : t.softmax(dim: d) }
    if call.opset >= 13 {
      let axis = try Shapes.axis(try node.int("axis", -1), rank: x.rank, node)
      return [.float(f(x, axis))]
    }
    let axis = try Shapes.axis(try node.int("axis", 1), rank: x.rank, node, inclusive: true)
    let rows = x.shape[..<axis].reduce(1, *)
    let columns = x.shape[axis...].reduce(1, *)
    if axis == x.rank - 1 { return [.float(f(x, axis))] }
    return [.float(f(x.reshaped([rows, columns]), 1).reshaped(x.shape))]
  }
}

/// ReduceMean and ReduceSum over `axes` (attribute before opset 18 for ReduceMean, an input from opset
/// 13 for ReduceSum; all axes when absent), keeping the reduced axes unless keepdims = 0.
private func reduction(mean: Bool) -> OperatorKernel {
  { call in
    let node = call.node
    let x = try call.float(0)
    let keep = try node.int("keepdims", 1) != 0
    var axes: [Int]
    if let listed = try node.ints("axes") {
      axes = listed
    } else if let given = call.optional(1) {
      guard let v = given.integers else { throw node.error("axes must be integers") }
      axes = v
    } else {
      axes = try node.int("noop_with_empty_axes", 0) != 0 ? [] : Array(0..<x.rank)
    }
    axes = try axes.map { try Shapes.axis($0, rank: x.rank, node) }
    guard Set(axes).count == axes.count else { throw node.error("axes \(axes) repeat an axis") }
    guard !axes.isEmpty else { return [.float(x)] }
    if mean {
      guard axes.allSatisfy({ x.shape[$0] > 0 }) else { throw node.error("mean over an empty axis of \(x.shape)") }
      return [.float(x.mean(dims: axes.sorted(), keepDim: keep))]
    }
    return [.float(x.sum(dims: axes.sorted(), keepDim: keep))]
  }
}

let linearOperators: [String: OperatorKernel] = [
  "Gemm": { call in
    let node = call.node
    let a = try call.float(0)
    let b = try call.float(1)
    guard a.rank == 2, b.rank == 2 else { throw node.error("A \(a.shape) and B \(b.shape) must be matrices") }
    let transA = try node.int("transA", 0) != 0
    let transB = try node.int("transB", 0) != 0
    let alpha = try node.float("alpha", 1)
    let beta = try node.float("beta", 1)
    let (m, k) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
    let (k2, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
    guard k == k2 else {
      throw node.error("inner sizes differ: A \(a.shape), B \(b.shape), transA \(transA), transB \(transB)")
    }
    var c: Tensor<Float>?
    if let v = call.optional(2) {
      guard case .float(let t) = v else { throw node.error("C must be float") }
      guard try Shapes.broadcast(t.shape, [m, n], node) == [m, n] else {
        throw node.error("C \(t.shape) does not broadcast to [\(m), \(n)]")
      }
      c = t
    }
    _ = try Shapes.count([m, n], node)
    // PyTorch's Linear exports as Gemm(x, W, b, transB = 1): the engine's linear, as the zoo runs it.
    if !transA && transB && alpha == 1 && (c == nil || beta == 1), c == nil || c!.shape == [n] || c!.shape == [1, n] {
      return [.float(linear(a, weight: b, bias: c?.reshaped([n])))]
    }
    var y = (transA ? a.transposed() : a).matmul(transB ? b.transposed() : b)
    if alpha != 1 { y = y * alpha }
    if let c { y = y + (beta == 1 ? c : c * beta) }
    return [.float(y)]
  },

  "MatMul": { call in
    let node = call.node
    var a = try call.float(0)
    var b = try call.float(1)
    guard a.rank >= 1, b.rank >= 1 else { throw node.error("inputs must have at least one axis") }
    let vectorA = a.rank == 1
    let vectorB = b.rank == 1
    if vectorA { a = a.reshaped([1, a.shape[0]]) }
    if vectorB { b = b.reshaped([b.shape[0], 1]) }
    let k = a.shape[a.rank - 1]
    guard k == b.shape[b.rank - 2] else { throw node.error("inner sizes differ: \(a.shape) x \(b.shape)") }
    let m = a.shape[a.rank - 2]
    let n = b.shape[b.rank - 1]
    var y: Tensor<Float>
    if b.rank == 2 {
      _ = try Shapes.count(Array(a.shape.dropLast()) + [n], node)
      y = a.matmul(b)
    } else {
      let batchA = Array(a.shape.dropLast(2))
      let batchB = Array(b.shape.dropLast(2))
      let batch = try Shapes.broadcast(batchA, batchB, node)
      let count = batch.reduce(1, *)
      _ = try Shapes.count(batch + [m, n], node)
      let a3 = a.expanded(to: batch + [m, k]).reshaped([count, m, k])
      let b3 = b.expanded(to: batch + [k, n]).reshaped([count, k, n])
      y = a3.matmul(b3).reshaped(batch + [m, n])
    }
    if vectorA { y = y.squeezed(y.rank - 2) }
    if vectorB { y = y.squeezed(y.rank - 1) }
    return [.float(y)]
  },

  "Softmax": softmaxKernel(log: false),
  "LogSoftmax": softmaxKernel(log: true),

  "ReduceMean": reduction(mean: true),
  "ReduceSum": reduction(mean: false),
]
