/// Geometry of a 2-D sliding window over one image plane stack: `channels` planes of
/// `height x width`, a `kernelH x kernelW` window with stride, zero padding and dilation (all in pixels).
/// `outHeight x outWidth` is the number of window positions, as PyTorch's conv2d computes it.
public struct ConvGeometry: Sendable, Equatable {
  public var channels, height, width: Int
  public var kernelH, kernelW: Int
  public var strideH, strideW: Int
  public var padH, padW: Int
  public var dilationH, dilationW: Int

  public init(
    channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
    strideH: Int = 1, strideW: Int = 1, padH: Int = 0, padW: Int = 0,
    dilationH: Int = 1, dilationW: Int = 1
  ) {
    self.channels = channels
    self.height = height
    self.width = width
    self.kernelH = kernelH
    self.kernelW = kernelW
    self.strideH = strideH
    self.strideW = strideW
    self.padH = padH
    self.padW = padW
    self.dilationH = dilationH
    self.dilationW = dilationW
  }

  /// Number of window rows: floor((H + 2p - d(k-1) - 1) / s) + 1.
  @inlinable public var outHeight: Int {
    (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1
  }
  /// Number of window columns.
  @inlinable public var outWidth: Int {
    (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1
  }
  /// Rows of the column matrix: channels * kernelH * kernelW.
  @inlinable public var columnRows: Int { channels * kernelH * kernelW }
  /// Columns of the column matrix for one image: outHeight * outWidth.
  @inlinable public var columnCols: Int { outHeight * outWidth }
}

/// im2col: unfolds one image [channels, H, W] into columns [C*kh*kw, outH*outW], written with row
/// stride `ldCol` (so several images can sit side by side in one wide matrix). Padding reads as 0.
/// With `outputRows`, only the columns of those output rows (a band of outW * rows.count columns).
/// Floats run the C kernel on the CPU's widest vectors (`VectorKernels`), other scalars `im2colPortable`.
@inlinable
public func im2col<T: KernelScalar>(
  _ image: UnsafePointer<T>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<T>, ldCol: Int,
  outputRows: Range<Int>? = nil
) {
  if T.self == Float.self {
    VectorKernels.im2col(
      UnsafeRawPointer(image).assumingMemoryBound(to: Float.self), g,
      UnsafeMutableRawPointer(col).assumingMemoryBound(to: Float.self), ldCol: ldCol, outputRows: outputRows)
    return
  }
  im2colPortable(image, g, col, ldCol: ldCol, outputRows: outputRows)
}

/// `im2col` in Swift (baseline vectors): the twin of the C kernel and the path for Double.
@inlinable
public func im2colPortable<T: KernelScalar>(
  _ image: UnsafePointer<T>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<T>, ldCol: Int,
  outputRows: Range<Int>? = nil
) {
  let rows = outputRows ?? 0..<g.outHeight
  let ow = g.outWidth
  var row = 0
  for c in 0..<g.channels {
    let plane = image + c * g.height * g.width
    for ki in 0..<g.kernelH {
      for kj in 0..<g.kernelW {
        let dst = col + row * ldCol
        let offI = ki * g.dilationH - g.padH
        let offJ = kj * g.dilationW - g.padW
        // Output columns whose input column ix = x * stride + offJ lies inside the image: zeros
        // before and after, a copy (stride 1) or a strided gather between (the same for every row).
        let (x0, x1) = validColumns(ow: ow, stride: g.strideW, offset: offJ, width: g.width)
        for y in rows {
          let iy = y * g.strideH + offI
          let d = dst + (y - rows.lowerBound) * ow
          if iy < 0 || iy >= g.height {
            for x in 0..<ow { d[x] = 0 }
            continue
          }
          let src = plane + iy * g.width
          if x0 > 0 { d.update(repeating: 0, count: x0) }
          if x1 < ow { (d + x1).update(repeating: 0, count: ow - x1) }
          if x0 < x1 {
            if g.strideW == 1 {
              (d + x0).update(from: src + x0 + offJ, count: x1 - x0)
            } else {
              let st = g.strideW
              for x in x0..<x1 { d[x] = src[x * st + offJ] }
            }
          }
        }
        row += 1
      }
    }
  }
}

/// The output columns [x0, x1) whose input column x * stride + offset lies in 0..<width (x1 <= x0:
/// none), for an output row of `ow` columns.
@inlinable
func validColumns(ow: Int, stride: Int, offset: Int, width: Int) -> (Int, Int) {
  // x * stride + offset >= 0  <=>  x >= ceil(-offset / stride); x * stride + offset < width.
  let x0 = offset >= 0 ? 0 : (-offset + stride - 1) / stride
  let x1 = width - offset <= 0 ? 0 : min(ow, (width - offset + stride - 1) / stride)
  return (min(x0, ow), x1)
}

/// col2im: the adjoint of `im2col`; adds columns [C*kh*kw, outH*outW] (row stride `ldCol`) back into
/// an image [channels, H, W]. The image is accumulated into, not overwritten.
@inlinable
public func col2imAdd<T: KernelScalar>(
  _ col: UnsafePointer<T>, ldCol: Int, _ g: ConvGeometry, _ image: UnsafeMutablePointer<T>
) {
  let oh = g.outHeight
  let ow = g.outWidth
  var row = 0
  for c in 0..<g.channels {
    let plane = image + c * g.height * g.width
    for ki in 0..<g.kernelH {
      for kj in 0..<g.kernelW {
        let src = col + row * ldCol
        let offI = ki * g.dilationH - g.padH
        let offJ = kj * g.dilationW - g.padW
        let (x0, x1) = validColumns(ow: ow, stride: g.strideW, offset: offJ, width: g.width)
        for y in 0..<oh {
          let iy = y * g.strideH + offI
          if iy < 0 || iy >= g.height { continue }
          let dst = plane + iy * g.width
          let s = src + y * ow
          if g.strideW == 1 {
            let d = dst + offJ
            for x in x0..<max(x0, x1) { d[x] += s[x] }
          } else {
            let st = g.strideW
            for x in x0..<max(x0, x1) { dst[x * st + offJ] += s[x] }
          }
        }
        row += 1
      }
    }
  }
}

/// Naive twin of the im2col+GEMM convolution: direct 7-loop cross-correlation, as PyTorch's conv2d.
/// input [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or nil, output [N, O, outH, outW].
@inlinable
public func naiveConv2d<T: KernelScalar>(
  input: UnsafePointer<T>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<T>,
  bias: UnsafePointer<T>?, outChannels: Int, groups: Int, output: UnsafeMutablePointer<T>
) {
  let cg = g.channels / groups
  let og = outChannels / groups
  let oh = g.outHeight
  let ow = g.outWidth
  for n in 0..<batch {
    for o in 0..<outChannels {
      let grp = o / og
      for y in 0..<oh {
        for x in 0..<ow {
          var acc: T = bias?[o] ?? 0
          for ci in 0..<cg {
            let c = grp * cg + ci
            for ki in 0..<g.kernelH {
              let iy = y * g.strideH - g.padH + ki * g.dilationH
              if iy < 0 || iy >= g.height { continue }
              for kj in 0..<g.kernelW {
                let ix = x * g.strideW - g.padW + kj * g.dilationW
                if ix < 0 || ix >= g.width { continue }
                let iv = input[((n * g.channels + c) * g.height + iy) * g.width + ix]
                let wv = weight[((o * cg + ci) * g.kernelH + ki) * g.kernelW + kj]
                acc += iv * wv
              }
            }
          }
          output[((n * outChannels + o) * oh + y) * ow + x] = acc
        }
      }
    }
  }
}
