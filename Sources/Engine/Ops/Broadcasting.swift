import Kernels

/// The NumPy/PyTorch broadcast of two shapes (aligned on the right, size 1 stretches).
public func broadcastShapes(_ a: [Int], _ b: [Int]) -> [Int] {
  let rank = max(a.count, b.count)
  var out = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
    out[i] = da == 1 ? db : da
  }
  return out
}

extension Tensor {
  /// Reduces a gradient of broadcast shape `from` onto this tensor's shape (sums stretched axes).
  @inlinable
  func unbroadcast(_ g: [Scalar], from shape: [Int]) -> [Scalar] {
    if shape == self.shape { return g }
    let strides = broadcastStrides(self.shape, to: shape)
    return makeZeroArray(count) { dst in
      g.withUnsafeBufferPointer { sumBroadcast($0.baseAddress!, shape: shape, strides: strides, into: dst) }
    }
  }

  /// Values broadcast to `shape` as a new contiguous array.
  @inlinable
  func broadcastValues(to shape: [Int]) -> [Scalar] {
    if shape == self.shape { return scalars }
    let strides = broadcastStrides(self.shape, to: shape)
    return makeArray(shape.reduce(1, *)) { dst in
      scalars.withUnsafeBufferPointer { gatherStrided($0.baseAddress!, shape: shape, strides: strides, into: dst) }
    }
  }

  /// This tensor broadcast to `shape` (differentiable: the gradient sums back).
  public func expanded(to shape: [Int]) -> Tensor {
    precondition(broadcastShapes(self.shape, shape) == shape, "cannot expand \(self.shape) to \(shape)")
    let values = broadcastValues(to: shape)
    return .result(shape: shape, scalars: values, inputs: [self]) { [self] g in
      [self.unbroadcast(g, from: shape)]
    }
  }
}

/// Applies a broadcasting binary kernel to two tensors' values.
@inlinable
func applyBinary<T: KernelScalar, Op: BinaryKernelOp>(
  _ op: Op.Type, _ a: [T], _ aShape: [Int], _ b: [T], _ bShape: [Int], _ shape: [Int]
) -> [T] {
  let sa = broadcastStrides(aShape, to: shape)
  let sb = broadcastStrides(bShape, to: shape)
  return makeArray(shape.reduce(1, *)) { out in
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        broadcastBinary(op, a: pa.baseAddress!, aStrides: sa, b: pb.baseAddress!, bStrides: sb, shape: shape, out: out)
      }
    }
  }
}

/// For every element of `shape` in row-major order, `index(coordinate)`: the source index of a layout
/// op's output element (padding, permutation, broadcast of values that are not tensors).
public func rowMajorMap(_ shape: [Int], _ index: ([Int]) -> Int) -> [Int] {
  let n = shape.reduce(1, *)
  var out = [Int](repeating: 0, count: n)
  var coordinate = [Int](repeating: 0, count: shape.count)
  for k in 0..<n {
    out[k] = index(coordinate)
    var d = shape.count - 1
    while d >= 0 {
      coordinate[d] += 1
      if coordinate[d] < shape[d] { break }
      coordinate[d] = 0
      d -= 1
    }
  }
  return out
}
