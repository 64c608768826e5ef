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
  let v: [T] = makeArray(idx.count) { out in
    x.scalars.withUnsafeBufferPointer { px in
      idx.withUnsafeMutableBufferPointer {
        maxPool2dForward(px.baseAddress!, planes: planes, g, output: out, indices: $0.baseAddress!)
      }
    }
  }
  let chosen = idx
  let total = x.count
  let y = Tensor.result(shape: outShape, scalars: v, inputs: [x]) { gout in
    [
      makeZeroArray(total) { dx in
        gout.withUnsafeBufferPointer { pg in
          chosen.withUnsafeBufferPointer {
            maxPool2dBackward(
              gradOutput: pg.baseAddress!, indices: $0.baseAddress!, planes: planes, outPlane: g.outHeight * g.outWidth,
              inPlane: g.height * g.width, gradInput: dx)
          }
        }
      }
    ]
  }
  return (y, IntTensor(shape: outShape, values: chosen))
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
  return .result(shape: outShape, scalars: v, inputs: [x]) { gout in
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
  return .result(shape: outShape, scalars: v, inputs: [x]) { gout in
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
