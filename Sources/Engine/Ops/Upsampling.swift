import Kernels

/// Resizes [N, C, H, W] to `size` (or by `scaleFactor`) with PyTorch's F.interpolate semantics for
/// nearest, bilinear and bicubic (align_corners only matters for the last two).
public func interpolate<T: KernelScalar>(
  _ x: Tensor<T>, size: Pair? = nil, scaleFactor: Double? = nil, mode: UpsampleMode = .nearest,
  alignCorners: Bool = false
) -> Tensor<T> {
  precondition(x.rank == 4, "interpolate input must be [N, C, H, W], got \(x.shape)")
  precondition((size == nil) != (scaleFactor == nil), "interpolate needs exactly one of size and scaleFactor")
  let (h, w) = (x.shape[2], x.shape[3])
  let out: Pair =
    size ?? Pair(Int((Double(h) * scaleFactor!).rounded(.down)), Int((Double(w) * scaleFactor!).rounded(.down)))
  precondition(out.h > 0 && out.w > 0 && h > 0 && w > 0, "interpolate: empty input or output size")
  let align = mode == .nearest ? false : alignCorners
  let rows: [UpsampleTaps<T>] = upsampleTaps(
    mode: mode, input: h, output: out.h, alignCorners: align, scaleFactor: scaleFactor)
  let cols: [UpsampleTaps<T>] = upsampleTaps(
    mode: mode, input: w, output: out.w, alignCorners: align, scaleFactor: scaleFactor)
  let planes = x.shape[0] * x.shape[1]
  let outShape = [x.shape[0], x.shape[1], out.h, out.w]
  if mode == .nearest {
    let r = rows.map { $0.index.0 }
    let c = cols.map { $0.index.0 }
    let v: [T] = makeArray(outShape.reduce(1, *)) { dst in
      x.scalars.withUnsafeBufferPointer {
        nearestForward($0.baseAddress!, planes: planes, inH: h, inW: w, rows: r, cols: c, output: dst)
      }
    }
    let total = x.count
    return .result(shape: outShape, scalars: v, inputs: [x]) { g in
      [
        makeZeroArray(total) { dx in
          g.withUnsafeBufferPointer {
            nearestBackward(
              gradOutput: $0.baseAddress!, planes: planes, inH: h, inW: w, rows: r, cols: c, gradInput: dx)
          }
        }
      ]
    }
  }
  let v: [T] = makeArray(outShape.reduce(1, *)) { dst in
    x.scalars.withUnsafeBufferPointer {
      upsample2dForward(
        $0.baseAddress!, planes: planes, inH: h, inW: w, outH: out.h, outW: out.w, rows: rows, cols: cols, output: dst)
    }
  }
  let total = x.count
  return .result(shape: outShape, scalars: v, inputs: [x]) { g in
    [
      makeZeroArray(total) { dx in
        g.withUnsafeBufferPointer {
          upsample2dBackward(
            gradOutput: $0.baseAddress!, planes: planes, inH: h, inW: w, outH: out.h, outW: out.w, rows: rows,
            cols: cols, gradInput: dx)
        }
      }
    ]
  }
}

/// One output position's taps along an axis: input indices and their weights.
public typealias ResampleTaps<T> = [(index: Int, weight: T)]

/// Separable resampling of [N, C, H, W] with explicit taps per output row and column (any coordinate
/// mapping and kernel, e.g. ONNX Resize's modes): y[n, c, i, j] = sum_a sum_b rows[i][a].weight *
/// cols[j][b].weight * x[n, c, rows[i][a].index, cols[j][b].index]. Indices must lie in the input.
/// Gradient: each output's gradient spread back over its taps with the same weights.
public func separableResample<T: KernelScalar>(
  _ x: Tensor<T>, rows: [ResampleTaps<T>], cols: [ResampleTaps<T>]
) -> Tensor<T> {
  precondition(x.rank == 4, "separableResample input must be [N, C, H, W], got \(x.shape)")
  let (h, w) = (x.shape[2], x.shape[3])
  precondition(
    rows.allSatisfy { $0.allSatisfy { $0.index >= 0 && $0.index < h } }
      && cols.allSatisfy { $0.allSatisfy { $0.index >= 0 && $0.index < w } },
    "separableResample: a tap lies outside the \(h)x\(w) input")
  let planes = x.shape[0] * x.shape[1]
  let (oh, ow) = (rows.count, cols.count)
  // Columns first: [planes, h, ow], then rows: [planes, oh, ow].
  var mid = [T](repeating: 0, count: planes * h * ow)
  var out = [T](repeating: 0, count: planes * oh * ow)
  x.scalars.withUnsafeBufferPointer { src in
    for p in 0..<planes {
      for r in 0..<h {
        let row = p * h * w + r * w
        for (j, taps) in cols.enumerated() {
          var s: T = 0
          for t in taps { s += t.weight * src[row + t.index] }
          mid[(p * h + r) * ow + j] = s
        }
      }
    }
  }
  for p in 0..<planes {
    for (i, taps) in rows.enumerated() {
      let dst = (p * oh + i) * ow
      for t in taps {
        let m = (p * h + t.index) * ow
        for j in 0..<ow { out[dst + j] += t.weight * mid[m + j] }
      }
    }
  }
  return .result(shape: [x.shape[0], x.shape[1], oh, ow], scalars: out, inputs: [x]) { g in
    var gmid = [T](repeating: 0, count: planes * h * ow)
    for p in 0..<planes {
      for (i, taps) in rows.enumerated() {
        let dst = (p * oh + i) * ow
        for t in taps {
          let m = (p * h + t.index) * ow
          for j in 0..<ow { gmid[m + j] += t.weight * g[dst + j] }
        }
      }
    }
    var dx = [T](repeating: 0, count: planes * h * w)
    for p in 0..<planes {
      for r in 0..<h {
        let row = p * h * w + r * w
        for (j, taps) in cols.enumerated() {
          let gj = gmid[(p * h + r) * ow + j]
          for t in taps { dx[row + t.index] += t.weight * gj }
        }
      }
    }
    return [dx]
  }
}
