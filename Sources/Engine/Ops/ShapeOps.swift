import Kernels

/// Normalises a possibly negative dimension index against `rank`.
@inlinable
func normalizeDim(_ dim: Int, rank: Int) -> Int {
  let d = dim < 0 ? dim + rank : dim
  precondition(d >= 0 && d < Swift.max(rank, 1), "dimension \(dim) out of range for rank \(rank)")
  return d
}

/// (outer, n, inner) view of `shape` around axis `dim`.
@inlinable
func axisSplit(_ shape: [Int], _ dim: Int) -> (outer: Int, n: Int, inner: Int) {
  (shape[..<dim].reduce(1, *), shape[dim], shape[(dim + 1)...].reduce(1, *))
}

extension Tensor {
  /// The same values with a new shape (one dimension may be -1 and is inferred).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var s = newShape
    if let i = s.firstIndex(of: -1) {
      let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
      s[i] = count / known
    }
    precondition(s.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
    return .result(shape: s, scalars: scalars, inputs: [self]) { g in [g] }
  }

  /// Merges dimensions startDim...endDim into one (PyTorch's flatten; default keeps the batch).
  public func flattened(from startDim: Int = 1, to endDim: Int = -1) -> Tensor {
    let s = normalizeDim(startDim, rank: rank)
    let e = normalizeDim(endDim, rank: rank)
    if rank == 0 { return reshaped([1]) }
    let merged = shape[s...e].reduce(1, *)
    return reshaped(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
  }

  /// Inserts a dimension of size 1 at `dim`.
  public func unsqueezed(_ dim: Int) -> Tensor {
    let d = dim < 0 ? dim + rank + 1 : dim
    var s = shape
    s.insert(1, at: d)
    return reshaped(s)
  }

  /// Removes dimension `dim`, which must have size 1.
  public func squeezed(_ dim: Int) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    precondition(shape[d] == 1, "squeeze of dimension \(dim) with size \(shape[d])")
    var s = shape
    s.remove(at: d)
    return reshaped(s)
  }

  /// Reorders dimensions: result dimension i is input dimension `order[i]`.
  public func permuted(_ order: [Int]) -> Tensor {
    precondition(order.count == rank && Set(order) == Set(0..<rank), "bad permutation \(order) for rank \(rank)")
    let newShape = order.map { shape[$0] }
    let own = contiguousStrides(shape)
    let readStrides = order.map { own[$0] }
    let v: [Scalar] = makeArray(count) { dst in
      scalars.withUnsafeBufferPointer {
        gatherStrided($0.baseAddress!, shape: newShape, strides: readStrides, into: dst)
      }
    }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, o) in order.enumerated() { inverse[o] = i }
    let backShape = shape
    return .result(shape: newShape, scalars: v, inputs: [self]) { g in
      let gs = contiguousStrides(newShape)
      let rs = inverse.map { gs[$0] }
      return [
        makeArray(g.count) { dst in
          g.withUnsafeBufferPointer { gatherStrided($0.baseAddress!, shape: backShape, strides: rs, into: dst) }
        }
      ]
    }
  }

  /// Swaps two dimensions.
  public func transposed(_ d0: Int = 0, _ d1: Int = 1) -> Tensor {
    var order = Array(0..<rank)
    order.swapAt(normalizeDim(d0, rank: rank), normalizeDim(d1, rank: rank))
    return permuted(order)
  }

  /// Elements start, start+step, ... below end along `dim` (PyTorch's x[..., start:end:step, ...]).
  public func slice(dim: Int, start: Int, end: Int? = nil, step: Int = 1) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    let n = shape[d]
    let e = Swift.min(end ?? n, n)
    precondition(step > 0 && start >= 0 && start <= e, "bad slice \(start):\(e):\(step) of size \(n)")
    let idx = Array(stride(from: start, to: e, by: step))
    return indexSelect(dim: d, IntTensor(idx))
  }

  /// Picks entries `indices` (1-D) along `dim`; repeated indices accumulate gradient.
  public func indexSelect(dim: Int, _ indices: IntTensor) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    let (outer, n, inner) = axisSplit(shape, d)
    let idx = indices.values
    precondition(idx.allSatisfy { $0 >= 0 && $0 < n }, "index out of range for dimension of size \(n)")
    var newShape = shape
    newShape[d] = idx.count
    let m = idx.count
    let v: [Scalar] = makeArray(outer * m * inner) { dst in
      scalars.withUnsafeBufferPointer { src in
        for o in 0..<outer {
          for (j, k) in idx.enumerated() {
            (dst + (o * m + j) * inner).update(from: src.baseAddress! + (o * n + k) * inner, count: inner)
          }
        }
      }
    }
    let total = count
    return .result(shape: newShape, scalars: v, inputs: [self]) { g in
      [
        makeZeroArray(total) { dst in
          g.withUnsafeBufferPointer { src in
            for o in 0..<outer {
              for (j, k) in idx.enumerated() {
                Elementwise.addInPlace(dst + (o * n + k) * inner, src.baseAddress! + (o * m + j) * inner, inner)
              }
            }
          }
        }
      ]
    }
  }

  /// PyTorch's gather: out[i][j][k] = self[i][index[i][j][k]][k] for dim = 1 (index has the same
  /// rank, its sizes no larger than self's outside `dim`).
  public func gather(dim: Int, _ index: IntTensor) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    precondition(index.shape.count == rank, "gather index rank \(index.shape.count) != \(rank)")
    for i in 0..<rank where i != d {
      precondition(index.shape[i] <= shape[i], "gather index shape \(index.shape) too large for \(shape)")
    }
    let n = shape[d]
    let srcStrides = contiguousStrides(shape)
    var srcOffsets = [Int](repeating: 0, count: index.count)
    var counter = [Int](repeating: 0, count: rank)
    for flat in 0..<index.count {
      var off = 0
      for i in 0..<rank {
        let c = i == d ? index.values[flat] : counter[i]
        if i == d { precondition(c >= 0 && c < n, "gather index \(c) out of range \(n)") }
        off += c * srcStrides[i]
      }
      srcOffsets[flat] = off
      var i = rank - 1
      while i >= 0 {
        counter[i] += 1
        if counter[i] < index.shape[i] { break }
        counter[i] = 0
        i -= 1
      }
    }
    let v = srcOffsets.map { scalars[$0] }
    let total = count
    return .result(shape: index.shape, scalars: v, inputs: [self]) { g in
      var dx = [Scalar](repeating: 0, count: total)
      for (j, off) in srcOffsets.enumerated() { dx[off] += g[j] }
      return [dx]
    }
  }
}

/// Joins tensors along an existing dimension; all other sizes must match.
public func concat<T: KernelScalar>(_ tensors: [Tensor<T>], dim: Int) -> Tensor<T> {
  precondition(!tensors.isEmpty, "concat of no tensors")
  let rank = tensors[0].rank
  let d = normalizeDim(dim, rank: rank)
  for t in tensors {
    precondition(t.rank == rank, "concat: rank mismatch")
    for i in 0..<rank where i != d {
      precondition(
        t.shape[i] == tensors[0].shape[i], "concat: shapes \(tensors[0].shape) and \(t.shape) differ outside dim \(d)")
    }
  }
  var shape = tensors[0].shape
  shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
  let outer = shape[..<d].reduce(1, *)
  let inner = shape[(d + 1)...].reduce(1, *)
  let rowOut = shape[d] * inner
  let sizes = tensors.map { $0.shape[d] * inner }
  let v: [T] = makeArray(shape.reduce(1, *)) { dst in
    var off = 0
    for (t, rowIn) in zip(tensors, sizes) {
      t.scalars.withUnsafeBufferPointer { src in
        for o in 0..<outer {
          (dst + o * rowOut + off).update(from: src.baseAddress! + o * rowIn, count: rowIn)
        }
      }
      off += rowIn
    }
  }
  return .result(shape: shape, scalars: v, inputs: tensors) { g in
    var grads: [[T]?] = []
    var off = 0
    g.withUnsafeBufferPointer { src in
      for (t, rowIn) in zip(tensors, sizes) {
        if t.requiresGrad {
          grads.append(
            makeArray(outer * rowIn) { dst in
              for o in 0..<outer { (dst + o * rowIn).update(from: src.baseAddress! + o * rowOut + off, count: rowIn) }
            })
        } else {
          grads.append(nil)
        }
        off += rowIn
      }
    }
    return grads
  }
}

/// Stacks equally shaped tensors along a new dimension `dim`.
public func stack<T: KernelScalar>(_ tensors: [Tensor<T>], dim: Int = 0) -> Tensor<T> {
  precondition(!tensors.isEmpty, "stack of no tensors")
  let d = dim < 0 ? dim + tensors[0].rank + 1 : dim
  for t in tensors {
    precondition(t.shape == tensors[0].shape, "stack: shapes \(tensors[0].shape) and \(t.shape) differ")
  }
  return concat(tensors.map { $0.unsqueezed(d) }, dim: d)
}
