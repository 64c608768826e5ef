import Kernels

/// A pair of integers for 2-D hyper-parameters (kernel size, stride, padding, dilation).
public struct Pair: Sendable, Equatable, ExpressibleByIntegerLiteral {
  public var h: Int
  public var w: Int
  public init(_ h: Int, _ w: Int) {
    self.h = h
    self.w = w
  }
  public init(integerLiteral value: Int) { self.init(value, value) }
}

/// 2-D convolution (cross-correlation), PyTorch's F.conv2d: input [N, C, H, W],
/// weight [O, C/groups, kh, kw], bias [O] -> [N, O, outH, outW].
public func conv2d<T: KernelScalar>(
  _ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil, stride: Pair = 1, padding: Pair = 0,
  dilation: Pair = 1, groups: Int = 1
) -> Tensor<T> {
  precondition(x.rank == 4, "conv2d input must be [N, C, H, W], got \(x.shape)")
  precondition(weight.rank == 4, "conv2d weight must be [O, C/groups, kh, kw], got \(weight.shape)")
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let o = weight.shape[0]
  precondition(
    groups > 0 && c % groups == 0 && o % groups == 0, "conv2d: channels \(c)->\(o) not divisible by groups \(groups)")
  precondition(
    weight.shape[1] == c / groups,
    "conv2d: weight \(weight.shape) expects \(weight.shape[1] * groups) input channels, input has \(c)")
  if let bias { precondition(bias.shape == [o], "conv2d bias must be [\(o)], got \(bias.shape)") }
  let g = ConvGeometry(
    channels: c, height: h, width: w, kernelH: weight.shape[2], kernelW: weight.shape[3],
    strideH: stride.h, strideW: stride.w, padH: padding.h, padW: padding.w,
    dilationH: dilation.h, dilationW: dilation.w)
  precondition(g.outHeight > 0 && g.outWidth > 0, "conv2d: kernel larger than padded input \(x.shape)")
  let outShape = [n, o, g.outHeight, g.outWidth]
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        withOptionalPointer(bias?.scalars) { pb in
          Conv2dKernel.forward(
            input: px.baseAddress!, batch: n, g, weight: pw.baseAddress!, bias: pb, outChannels: o, groups: groups,
            output: out)
        }
      }
    }
  }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  let reapply: ([Tensor<T>]) -> Tensor<T> = { ins in
    conv2d(
      ins[0], weight: ins[1], bias: ins.count > 2 ? ins[2] : nil, stride: stride, padding: padding,
      dilation: dilation, groups: groups)
  }
  return .result(shape: outShape, scalars: v, inputs: inputs, op: .conv2d, reapply: reapply) { gout in
    convolutionGradients(x, weight, bias, biasCount: o, gout) { px, pw, pg, dx, dw, db in
      Conv2dKernel.backward(
        input: px, batch: n, g, weight: pw, outChannels: o, groups: groups,
        gradOutput: pg, gradInput: dx, gradWeight: dw, gradBias: db)
    }
  }
}

/// Output size of a transposed convolution along one axis:
/// (in - 1) * stride - 2 * padding + dilation * (k - 1) + outputPadding + 1.
public func convTransposeOutputSize(
  input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, outputPadding: Int
) -> Int {
  (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
}

/// Transposed 2-D convolution, PyTorch's F.conv_transpose2d: input [N, Cin, H, W],
/// weight [Cin, Cout/groups, kh, kw], bias [Cout]. `outputSize` (H, W) may replace outputPadding,
/// as in nn.ConvTranspose2d's forward(x, output_size).
public func convTranspose2d<T: KernelScalar>(
  _ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>? = nil, stride: Pair = 1, padding: Pair = 0,
  outputPadding: Pair = 0, dilation: Pair = 1, groups: Int = 1, outputSize: Pair? = nil
) -> Tensor<T> {
  transposedConvolution(
    x, upsampledTo: nil, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
    dilation: dilation, groups: groups, outputSize: outputSize)
}

/// `convTranspose2d(interpolate(x, size: size, mode: .nearest), ...)` as one op that never builds the
/// upsampled tensor: the GEMMs of both passes run at x's resolution (see `NearestSourceMap`). Same values
/// as the two-op composition, to float rounding.
public func upsampleNearestConvTranspose2d<T: KernelScalar>(
  _ x: Tensor<T>, size: Pair, weight: Tensor<T>, bias: Tensor<T>? = nil, stride: Pair = 1, padding: Pair = 0,
  dilation: Pair = 1, groups: Int = 1, outputSize: Pair? = nil
) -> Tensor<T> {
  transposedConvolution(
    x, upsampledTo: size, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: 0,
    dilation: dilation, groups: groups, outputSize: outputSize)
}

/// The transposed convolution of x, or of x nearest-upsampled to `upsampledTo` (computed through a
/// `NearestSourceMap`, without the upsampled tensor).
func transposedConvolution<T: KernelScalar>(
  _ x: Tensor<T>, upsampledTo size: Pair?, weight: Tensor<T>, bias: Tensor<T>?, stride: Pair, padding: Pair,
  outputPadding: Pair, dilation: Pair, groups: Int, outputSize: Pair?
) -> Tensor<T> {
  precondition(x.rank == 4, "conv_transpose2d input must be [N, C, H, W], got \(x.shape)")
  precondition(weight.rank == 4, "conv_transpose2d weight must be [Cin, Cout/groups, kh, kw], got \(weight.shape)")
  let (n, cin) = (x.shape[0], x.shape[1])
  // The window grid: x's own plane, or the upsampled one.
  let (h, w) = (size?.h ?? x.shape[2], size?.w ?? x.shape[3])
  precondition(h > 0 && w > 0 && x.shape[2] > 0 && x.shape[3] > 0, "conv_transpose2d: empty input \(x.shape)")
  precondition(
    weight.shape[0] == cin,
    "conv_transpose2d: weight \(weight.shape) expects \(weight.shape[0]) input channels, input has \(cin)")
  precondition(groups > 0 && cin % groups == 0, "conv_transpose2d: \(cin) channels not divisible by groups \(groups)")
  let cout = weight.shape[1] * groups
  if let bias { precondition(bias.shape == [cout], "conv_transpose2d bias must be [\(cout)], got \(bias.shape)") }
  let kh = weight.shape[2]
  let kw = weight.shape[3]
  var op = outputPadding
  if let size = outputSize {
    let baseH = convTransposeOutputSize(
      input: h, kernel: kh, stride: stride.h, padding: padding.h, dilation: dilation.h, outputPadding: 0)
    let baseW = convTransposeOutputSize(
      input: w, kernel: kw, stride: stride.w, padding: padding.w, dilation: dilation.w, outputPadding: 0)
    op = Pair(size.h - baseH, size.w - baseW)
    precondition(
      op.h >= 0 && op.h < Swift.max(stride.h, dilation.h) && op.w >= 0 && op.w < Swift.max(stride.w, dilation.w),
      "conv_transpose2d: output size \(size.h)x\(size.w) not reachable from input \(h)x\(w)")
  }
  let oh = convTransposeOutputSize(
    input: h, kernel: kh, stride: stride.h, padding: padding.h, dilation: dilation.h, outputPadding: op.h)
  let ow = convTransposeOutputSize(
    input: w, kernel: kw, stride: stride.w, padding: padding.w, dilation: dilation.w, outputPadding: op.w)
  precondition(oh > 0 && ow > 0, "conv_transpose2d: empty output for input \(x.shape)")
  let g = ConvGeometry(
    channels: cout, height: oh, width: ow, kernelH: kh, kernelW: kw, strideH: stride.h, strideW: stride.w,
    padH: padding.h, padW: padding.w, dilationH: dilation.h, dilationW: dilation.w)
  precondition(g.outHeight == h && g.outWidth == w, "conv_transpose2d: inconsistent geometry")
  let map = size.map { _ in NearestSourceMap(from: x.shape[2], x.shape[3], to: h, w, scalar: T.self) }
  let outShape = [n, cout, oh, ow]
  let v: [T] = makeArray(outShape.reduce(1, *)) { out in
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        withOptionalPointer(bias?.scalars) { pb in
          ConvTranspose2dKernel.forward(
            input: px.baseAddress!, batch: n, inChannels: cin, out: g, weight: pw.baseAddress!, bias: pb,
            groups: groups, upsampled: map, output: out)
        }
      }
    }
  }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  return .result(shape: outShape, scalars: v, inputs: inputs) { gout in
    convolutionGradients(x, weight, bias, biasCount: cout, gout) { px, pw, pg, dx, dw, db in
      ConvTranspose2dKernel.backward(
        input: px, batch: n, inChannels: cin, out: g, weight: pw, groups: groups, upsampled: map,
        gradOutput: pg, gradInput: dx, gradWeight: dw, gradBias: db)
    }
  }
}

/// The pullback plumbing shared by the convolution ops: zeroed gradient arrays for the inputs that
/// require one (x, weight, and bias when present), pointers to them (nil otherwise) and to the saved
/// values and dL/dOutput for `kernel`; returns the gradients in input order.
@inlinable
func convolutionGradients<T: KernelScalar>(
  _ x: Tensor<T>, _ weight: Tensor<T>, _ bias: Tensor<T>?, biasCount: Int, _ gout: [T],
  _ kernel: (
    UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>, UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?,
    UnsafeMutablePointer<T>?
  ) -> Void
) -> [[T]?] {
  var gx: [T]? = x.requiresGrad ? [T](repeating: 0, count: x.count) : nil
  var gw: [T]? = weight.requiresGrad ? [T](repeating: 0, count: weight.count) : nil
  var gb: [T]? = (bias?.requiresGrad ?? false) ? [T](repeating: 0, count: biasCount) : nil
  x.scalars.withUnsafeBufferPointer { px in
    weight.scalars.withUnsafeBufferPointer { pw in
      gout.withUnsafeBufferPointer { pg in
        withOptionalMutablePointer(&gx) { dx in
          withOptionalMutablePointer(&gw) { dw in
            withOptionalMutablePointer(&gb) { db in
              kernel(px.baseAddress!, pw.baseAddress!, pg.baseAddress!, dx, dw, db)
            }
          }
        }
      }
    }
  }
  return bias == nil ? [gx, gw] : [gx, gw, gb]
}

/// Calls `body` with a pointer to the array's storage, or nil.
@inlinable
func withOptionalPointer<T, R>(_ a: [T]?, _ body: (UnsafePointer<T>?) -> R) -> R {
  guard let a else { return body(nil) }
  return a.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// Calls `body` with a mutable pointer to the array's storage, or nil.
@inlinable
func withOptionalMutablePointer<T, R>(_ a: inout [T]?, _ body: (UnsafeMutablePointer<T>?) -> R) -> R {
  guard a != nil else { return body(nil) }
  return a!.withUnsafeMutableBufferPointer { body($0.baseAddress) }
}
