import Kernels

/// 2-D max pooling (PyTorch's F.max_pool2d with return_indices=True): input [N, C, H, W];
/// stride defaults to the kernel size. Returns the pooled tensor and, per output, the flat index
/// (y * W + x) of the maximum within its input plane.
public func maxPool2d<T: KernelScalar>(
  _ x: Tensor<T>, kernel: Pair, stride: Pair? = nil, padding: Pair = 0, dilation: Pair = 1,
  ceilMode: Bool = false
) -> (output: Tensor<T>, indices: IntTensor) {
  precondition(x.rank == 4, "max_pool2d input must be [N, C, H, W], got \(x.shape)")
  let s = stride ?? kernel
  precondition(
    padding.h * 2 <= kernel.h && padding.w * 2 <= kernel.w, "max_pool2d: padding must be at most half the kernel")
  let g = PoolGeometry(
    height: x.shape[2], width: x.shape[3], kernelH: kernel.h, kernelW: kernel.w, strideH: s.h, strideW: s.w,
    padH: padding.h, padW: padding.w, dilationH: dilation.h, dilationW: dilation.w, ceilMode: ceilMode)
  precondition(g.outHeight > 0 && g.outWidth > 0, "max_pool2d: output would be empty for input \(x.shape)")
  let planes = x.shape[0] * x.shape[1]
  let outShape = [x.shape[0], x.shape[1], g.outHeight, g.outWidth]
  var idx = [Int](repeating: 0, count: outShape.reduce(1, *))
  // The common 2x2 / stride 2 window (floor mode or even sizes) has its own kernel; planes are
  // independent, so both kernels run on slices of planes in parallel.
  let plain2x2 =
    kernel == Pair(2, 2) && s == Pair(2, 2) && padding == Pair(0, 0) && dilation == Pair(1, 1)
    && (!ceilMode || (g.height % 2 == 0 && g.width % 2 == 0))
  let inPlane = g.height * g.width
  let outPlane = g.outHeight * g.outWidth
  let v: [T] = makeArray(idx.count) { out in
    x.scalars.withUnsafeBufferPointer { px in
      idx.withUnsafeMutableBufferPointer { pi in
        let (src, ind) = (px.baseAddress!, pi.baseAddress!)
        Parallel.forEachRange(planes, minimum: Swift.max(1, 16_384 / Swift.max(1, inPlane))) { r, _ in
          let (i, o) = (r.lowerBound * inPlane, r.lowerBound * outPlane)
          if plain2x2 {
            maxPool2x2(src + i, planes: r.count, height: g.height, width: g.width, output: out + o, indices: ind + o)
          } else {
            maxPool2dForward(src + i, planes: r.count, g, output: out + o, indices: ind + o)
          }
        }
      }
    }
  }
  let chosen = idx
  let total = x.count
  let y = Tensor.result(shape: outShape, scalars: v, inputs: [x], op: .maxPool) { gout in
    [
      makeZeroArray(total) { dx in
        gout.withUnsafeBufferPointer { pg in
          chosen.withUnsafeBufferPointer {
            let (gp, ip) = (pg.baseAddress!, $0.baseAddress!)
            Parallel.forEachRange(planes, minimum: Swift.max(1, 16_384 / Swift.max(1, inPlane))) { r, _ in
              maxPool2dBackward(
                gradOutput: gp + r.lowerBound * outPlane, indices: ip + r.lowerBound * outPlane, planes: r.count,
                outPlane: outPlane, inPlane: inPlane, gradInput: dx + r.lowerBound * inPlane)
            }
          }
        }
      }
    ]
  }
  return (y, IntTensor(shape: outShape, values: chosen))
}

/// Max pooling that returns only the maxima (what a forward pass needs): F.max_pool2d without
/// return_indices. The 2x2 / stride-2 window skips the argmax bookkeeping in the forward pass; the
/// backward rule recomputes the winners from the saved input (same tie and NaN rules as `maxPool2d`).
public func maxPool<T: KernelScalar>(
  _ x: Tensor<T>, kernel: Pair, stride: Pair? = nil, padding: Pair = 0, dilation: Pair = 1, ceilMode: Bool = false
) -> Tensor<T> {
  let s = stride ?? kernel
  let plain2x2 =
    x.rank == 4 && kernel == Pair(2, 2) && s == Pair(2, 2) && padding == Pair(0, 0) && dilation == Pair(1, 1)
    && (!ceilMode || (x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0)) && x.shape[2] >= 2 && x.shape[3] >= 2
  guard plain2x2 else {
    return maxPool2d(x, kernel: kernel, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode).output
  }
  let (h, w) = (x.shape[2], x.shape[3])
  let planes = x.shape[0] * x.shape[1]
  let outShape = [x.shape[0], x.shape[1], h / 2, w / 2]
  let (inPlane, outPlane) = (h * w, (h / 2) * (w / 2))
  let minimum = Swift.max(1, 16_384 / inPlane)
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer { px in
      let src = px.baseAddress!
      Parallel.forEachRange(planes, minimum: minimum) { r, _ in
        maxPool2x2Values(
          src + r.lowerBound * inPlane, planes: r.count, height: h, width: w, output: out + r.lowerBound * outPlane)
      }
    }
  }
  let total = x.count
  return .result(shape: outShape, scalars: v, inputs: [x], op: .maxPool) { [scalars = x.scalars] gout in
    [
      makeZeroArray(total) { dx in
        scalars.withUnsafeBufferPointer { px in
          gout.withUnsafeBufferPointer { pg in
            let (src, gp) = (px.baseAddress!, pg.baseAddress!)
            Parallel.forEachRange(planes, minimum: minimum) { r, _ in
              maxPool2x2Backward(
                src + r.lowerBound * inPlane, gradOutput: gp + r.lowerBound * outPlane, planes: r.count, height: h,
                width: w, gradInput: dx + r.lowerBound * inPlane)
            }
          }
        }
      }
    ]
  }
}

/// 2-D average pooling (PyTorch's F.avg_pool2d; count_include_pad defaults to true).
public func avgPool2d<T: KernelScalar>(
  _ x: Tensor<T>, kernel: Pair, stride: Pair? = nil, padding: Pair = 0, ceilMode: Bool = false,
  countIncludePad: Bool = true
) -> Tensor<T> {
  precondition(x.rank == 4, "avg_pool2d input must be [N, C, H, W], got \(x.shape)")
  let s = stride ?? kernel
  let g = PoolGeometry(
    height: x.shape[2], width: x.shape[3], kernelH: kernel.h, kernelW: kernel.w, strideH: s.h, strideW: s.w,
    padH: padding.h, padW: padding.w, ceilMode: ceilMode)
  precondition(g.outHeight > 0 && g.outWidth > 0, "avg_pool2d: output would be empty for input \(x.shape)")
  let planes = x.shape[0] * x.shape[1]
  let outShape = [x.shape[0], x.shape[1], g.outHeight, g.outWidth]
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer {
      avgPool2dForward($0.baseAddress!, planes: planes, g, countIncludePad: countIncludePad, output: out)
    }
  }
  let total = x.count
  return .result(shape: outShape, scalars: v, inputs: [x], op: .avgPool) { gout in
    [
      makeZeroArray(total) { dx in
        gout.withUnsafeBufferPointer {
          avgPool2dBackward(
            gradOutput: $0.baseAddress!, planes: planes, g, countIncludePad: countIncludePad, gradInput: dx)
        }
      }
    ]
  }
}

/// Adaptive average pooling to `outputSize` (PyTorch's F.adaptive_avg_pool2d).
public func adaptiveAvgPool2d<T: KernelScalar>(_ x: Tensor<T>, outputSize: Pair) -> Tensor<T> {
  precondition(x.rank == 4, "adaptive_avg_pool2d input must be [N, C, H, W], got \(x.shape)")
  precondition(outputSize.h > 0 && outputSize.w > 0, "adaptive_avg_pool2d: output size must be positive")
  let (h, w) = (x.shape[2], x.shape[3])
  let planes = x.shape[0] * x.shape[1]
  let outShape = [x.shape[0], x.shape[1], outputSize.h, outputSize.w]
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer {
      adaptiveAvgPool2dForward(
        $0.baseAddress!, planes: planes, height: h, width: w, outH: outputSize.h, outW: outputSize.w, output: out)
    }
  }
  let total = x.count
  return .result(shape: outShape, scalars: v, inputs: [x], op: .avgPool) { gout in
    [
      makeZeroArray(total) { dx in
        gout.withUnsafeBufferPointer {
          adaptiveAvgPool2dBackward(
            gradOutput: $0.baseAddress!, planes: planes, height: h, width: w, outH: outputSize.h, outW: outputSize.w,
            gradInput: dx)
        }
      }
    ]
  }
}
