import Kernels

/// `convTranspose2d(interpolate(x, size: size, mode: .nearest), ...)` as one op that never builds the
/// upsampled tensor: the GEMMs of both passes run at x's resolution (see
/// `UpsampledConvTranspose2dKernel`). Same values as the two-op composition (to float rounding), one
/// group only. x [N, Cin, h, w]; weight [Cin, Cout, kh, kw]; bias [Cout]; `size` is the upsampled
/// H x W; `outputSize` may replace outputPadding as in `convTranspose2d`.
public func upsampleNearestConvTranspose2d<T: KernelScalar>(
  _ x: Tensor<T>, size: Pair, weight: Tensor<T>, bias: Tensor<T>? = nil, stride: Pair = 1, padding: Pair = 0,
  dilation: Pair = 1, outputSize: Pair? = nil
) -> Tensor<T> {
  precondition(x.rank == 4, "upsample + conv_transpose2d input must be [N, C, H, W], got \(x.shape)")
  precondition(weight.rank == 4, "conv_transpose2d weight must be [Cin, Cout, kh, kw], got \(weight.shape)")
  let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  precondition(
    weight.shape[0] == cin,
    "conv_transpose2d: weight \(weight.shape) expects \(weight.shape[0]) input channels, input has \(cin)")
  precondition(size.h > 0 && size.w > 0 && h > 0 && w > 0, "upsample + conv_transpose2d: empty input or size")
  let cout = weight.shape[1]
  if let bias { precondition(bias.shape == [cout], "conv_transpose2d bias must be [\(cout)], got \(bias.shape)") }
  let (kh, kw) = (weight.shape[2], weight.shape[3])
  let baseH = convTransposeOutputSize(
    input: size.h, kernel: kh, stride: stride.h, padding: padding.h, dilation: dilation.h, outputPadding: 0)
  let baseW = convTransposeOutputSize(
    input: size.w, kernel: kw, stride: stride.w, padding: padding.w, dilation: dilation.w, outputPadding: 0)
  let oh = outputSize?.h ?? baseH
  let ow = outputSize?.w ?? baseW
  precondition(
    oh - baseH >= 0 && oh - baseH < Swift.max(stride.h, dilation.h) && ow - baseW >= 0
      && ow - baseW < Swift.max(stride.w, dilation.w) && oh > 0 && ow > 0,
    "conv_transpose2d: output size \(oh)x\(ow) not reachable from input \(size.h)x\(size.w)")
  let g = ConvGeometry(
    channels: cout, height: oh, width: ow, kernelH: kh, kernelW: kw, strideH: stride.h, strideW: stride.w,
    padH: padding.h, padW: padding.w, dilationH: dilation.h, dilationW: dilation.w)
  precondition(g.outHeight == size.h && g.outWidth == size.w, "conv_transpose2d: inconsistent geometry")
  let rows =
    (upsampleTaps(mode: .nearest, input: h, output: size.h, alignCorners: false, scaleFactor: nil)
    as [UpsampleTaps<T>]).map { $0.index.0 }
  let cols =
    (upsampleTaps(mode: .nearest, input: w, output: size.w, alignCorners: false, scaleFactor: nil)
    as [UpsampleTaps<T>]).map { $0.index.0 }
  let outShape = [n, cout, oh, ow]
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        withOptionalPointer(bias?.scalars) { pb in
          UpsampledConvTranspose2dKernel.forward(
            input: px.baseAddress!, batch: n, inChannels: cin, sourceHeight: h, sourceWidth: w, rowSource: rows,
            colSource: cols, out: g, weight: pw.baseAddress!, bias: pb, output: out)
        }
      }
    }
  }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  return .result(shape: outShape, scalars: v, inputs: inputs) { gout in
    convolutionGradients(x, weight, bias, biasCount: cout, gout) { px, pw, pg, dx, dw, db in
      UpsampledConvTranspose2dKernel.backward(
        input: px, batch: n, inChannels: cin, sourceHeight: h, sourceWidth: w,
        rowSource: rows, colSource: cols, out: g, weight: pw, gradOutput: pg,
        gradInput: dx, gradWeight: dw, gradBias: db)
    }
  }
}
