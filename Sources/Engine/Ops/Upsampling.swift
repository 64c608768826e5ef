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
