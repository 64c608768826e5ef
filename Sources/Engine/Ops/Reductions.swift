import Kernels

extension Tensor {
  /// Sum of all elements (rank 0). Gradient: g broadcast.
  public func sum() -> Tensor {
    let s = scalars.withUnsafeBufferPointer { Elementwise.sum($0.baseAddress!, count) }
    let n = count
    return .result(shape: [], scalars: [s], inputs: [self]) { g in [[Scalar](repeating: g[0], count: n)] }
  }

  /// Mean of all elements (rank 0).
  public func mean() -> Tensor { sum() / Scalar(Swift.max(count, 1)) }

  /// Sum along `dim` (kept as size 1 when `keepDim`).
  public func sum(dim: Int, keepDim: Bool = false) -> Tensor { reduceSum(dim: dim, keepDim: keepDim, scale: 1) }

  /// Mean along `dim`.
  public func mean(dim: Int, keepDim: Bool = false) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    return reduceSum(dim: d, keepDim: keepDim, scale: 1 / Scalar(shape[d]))
  }

  /// Sum along several dimensions.
  public func sum(dims: [Int], keepDim: Bool = false) -> Tensor {
    let ds = Set(dims.map { normalizeDim($0, rank: rank) }).sorted(by: >)
    var t = self
    for d in ds { t = t.sum(dim: d, keepDim: keepDim) }
    return t
  }

  /// Mean along several dimensions.
  public func mean(dims: [Int], keepDim: Bool = false) -> Tensor {
    let ds = Set(dims.map { normalizeDim($0, rank: rank) })
    let n = ds.reduce(1) { $0 * shape[$1] }
    return sum(dims: Array(ds), keepDim: keepDim) / Scalar(n)
  }

  func reduceSum(dim: Int, keepDim: Bool, scale: Scalar) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    let (outer, n, inner) = axisSplit(shape, d)
    var newShape = shape
    if keepDim { newShape[d] = 1 } else { newShape.remove(at: d) }
    var v: [Scalar] = makeArray(outer * inner) { out in
      scalars.withUnsafeBufferPointer { AxisKernels.sum($0.baseAddress!, outer: outer, n: n, inner: inner, out) }
    }
    if scale != 1 { for i in v.indices { v[i] *= scale } }
    return .result(shape: newShape, scalars: v, inputs: [self]) { g in
      [
        makeArray(outer * n * inner) { dx in
          g.withUnsafeBufferPointer {
            AxisKernels.expand($0.baseAddress!, outer: outer, n: n, inner: inner, scale: scale, dx)
          }
        }
      ]
    }
  }

  /// Maximum along `dim` and the index of the first maximum. Gradient goes to that index.
  public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: IntTensor) {
    let d = normalizeDim(dim, rank: rank)
    let (outer, n, inner) = axisSplit(shape, d)
    precondition(n > 0, "max over an empty dimension")
    var newShape = shape
    if keepDim { newShape[d] = 1 } else { newShape.remove(at: d) }
    var idx = [Int](repeating: 0, count: outer * inner)
    let v: [Scalar] = makeArray(outer * inner) { out in
      scalars.withUnsafeBufferPointer { src in
        idx.withUnsafeMutableBufferPointer {
          AxisKernels.max(src.baseAddress!, outer: outer, n: n, inner: inner, out, $0.baseAddress!)
        }
      }
    }
    let chosen = idx
    let values = Tensor.result(shape: newShape, scalars: v, inputs: [self]) { g in
      var dx = [Scalar](repeating: 0, count: outer * n * inner)
      for o in 0..<outer { for i in 0..<inner { dx[(o * n + chosen[o * inner + i]) * inner + i] += g[o * inner + i] } }
      return [dx]
    }
    return (values, IntTensor(shape: newShape, values: chosen))
  }

  /// Maximum of all elements (rank 0); the gradient is shared equally among tied maxima (PyTorch).
  public func max() -> Tensor {
    precondition(count > 0, "max of an empty tensor")
    var m = scalars[0]
    for x in scalars where x > m || x.isNaN {
      m = x
      if x.isNaN { break }
    }
    let best = m
    return .result(shape: [], scalars: [best], inputs: [self]) { [scalars] g in
      let ties = scalars.reduce(0) { $0 + ($1 == best ? 1 : 0) }
      return [scalars.map { $0 == best ? g[0] / Scalar(ties) : 0 }]
    }
  }

  /// Index of the maximum along `dim` (first one on ties).
  public func argmax(dim: Int, keepDim: Bool = false) -> IntTensor {
    withNoGrad { max(dim: dim, keepDim: keepDim).indices }
  }
}
