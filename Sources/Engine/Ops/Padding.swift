import Kernels

/// How `pad` fills the border: a constant, the mirror image without the edge (reflect, PyTorch's
/// "reflect"), or copies of the edge value (ONNX "edge", PyTorch "replicate").
public enum PadMode: Sendable, Equatable {
  case constant(Double)
  case reflect
  case edge
}

/// The source index along one axis of a padded output position `o` (nil: the constant border).
/// `before` may be negative (the input is cropped).
@inlinable
func padSource(_ o: Int, before: Int, size n: Int, mode: PadMode) -> Int? {
  let i = o - before
  if i >= 0 && i < n { return i }
  switch mode {
  case .constant: return nil
  case .edge: return i < 0 ? 0 : n - 1
  case .reflect:
    guard n > 1 else { return 0 }
    let period = 2 * (n - 1)
    var r = i % period
    if r < 0 { r += period }
    return r < n ? r : period - r
  }
}

/// Pads (or, with negative amounts, crops) every axis of `x` by `before[d]` and `after[d]` elements
/// (ONNX Pad, torch.nn.functional.pad). Reflect padding needs pads smaller than the axis. Gradient:
/// each output's gradient is added back to the input element it was copied from (constants get none).
public func pad<T: KernelScalar>(_ x: Tensor<T>, before: [Int], after: [Int], mode: PadMode = .constant(0)) -> Tensor<T>
{
  precondition(before.count == x.rank && after.count == x.rank, "pad: one amount per axis of \(x.shape)")
  let outShape = (0..<x.rank).map { x.shape[$0] + before[$0] + after[$0] }
  precondition(outShape.allSatisfy { $0 >= 0 }, "pad: \(before) / \(after) crops \(x.shape) below zero")
  if mode == .reflect || mode == .edge {
    precondition(!x.shape.contains(0), "pad: reflect and edge padding need non-empty axes")
  }
  if case .reflect = mode {
    precondition(
      (0..<x.rank).allSatisfy { before[$0] < max(x.shape[$0], 1) && after[$0] < max(x.shape[$0], 1) },
      "pad: reflect amounts must be smaller than the axis")
  }
  // Per axis, the source index of every output position (-1: constant).
  let sources: [[Int]] = (0..<x.rank).map { d in
    (0..<outShape[d]).map { padSource($0, before: before[d], size: x.shape[d], mode: mode) ?? -1 }
  }
  let inStrides = contiguousStrides(x.shape)
  let map = rowMajorMap(outShape) { c in
    var src = 0
    for d in 0..<c.count {
      let s = sources[d][c[d]]
      if s < 0 { return -1 }
      src += s * inStrides[d]
    }
    return src
  }
  let fill: T = {
    if case .constant(let v) = mode { return T(v) }
    return 0
  }()
  let values = map.map { $0 >= 0 ? x.scalars[$0] : fill }
  let total = x.count
  return .result(shape: outShape, scalars: values, inputs: [x]) { g in
    var dx = [T](repeating: 0, count: total)
    for (k, src) in map.enumerated() where src >= 0 { dx[src] += g[k] }
    return [dx]
  }
}
