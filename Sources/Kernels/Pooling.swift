/// Window geometry for 2-D pooling over planes of `height x width` pixels, with PyTorch's
/// output-size rule (including `ceilMode`, where the last window must start inside the padded input).
public struct PoolGeometry: Sendable, Equatable {
  public var height, width, kernelH, kernelW, strideH, strideW, padH, padW: Int
  public var dilationH, dilationW: Int
  public var ceilMode: Bool

  public init(
    height: Int, width: Int, kernelH: Int, kernelW: Int, strideH: Int, strideW: Int,
    padH: Int = 0, padW: Int = 0, dilationH: Int = 1, dilationW: Int = 1, ceilMode: Bool = false
  ) {
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
    self.ceilMode = ceilMode
  }

  @inlinable
  static func outSize(_ n: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int, _ ceil: Bool) -> Int {
    let span = n + 2 * p - d * (k - 1) - 1
    var out = (ceil ? (span + s - 1) / s : span / s) + 1
    if ceil && (out - 1) * s >= n + p { out -= 1 }
    return out
  }
  /// Output rows.
  @inlinable public var outHeight: Int {
    Self.outSize(height, kernelH, strideH, padH, dilationH, ceilMode)
  }
  /// Output columns.
  @inlinable public var outWidth: Int {
    Self.outSize(width, kernelW, strideW, padW, dilationW, ceilMode)
  }
}

/// Max pooling over `planes` planes. Writes the maxima and, per output, the flat index (y * W + x)
/// of the winning input pixel within its plane, as PyTorch's `return_indices=True`. NaN wins.
@inlinable
public func maxPool2dForward<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, _ g: PoolGeometry, output: UnsafeMutablePointer<T>,
  indices: UnsafeMutablePointer<Int>
) {
  let oh = g.outHeight
  let ow = g.outWidth
  let hw = g.height * g.width
  for pl in 0..<planes {
    let src = input + pl * hw
    let dst = output + pl * oh * ow
    let idx = indices + pl * oh * ow
    for y in 0..<oh {
      for x in 0..<ow {
        var best = -T.infinity
        var bestIndex = -1
        for ki in 0..<g.kernelH {
          let iy = y * g.strideH - g.padH + ki * g.dilationH
          if iy < 0 || iy >= g.height { continue }
          for kj in 0..<g.kernelW {
            let ix = x * g.strideW - g.padW + kj * g.dilationW
            if ix < 0 || ix >= g.width { continue }
            let v = src[iy * g.width + ix]
            if v > best || v.isNaN || bestIndex < 0 {
              best = v
              bestIndex = iy * g.width + ix
              if v.isNaN { break }
            }
          }
        }
        dst[y * ow + x] = best
        idx[y * ow + x] = bestIndex
      }
    }
  }
}

/// The common 2x2, stride-2 max pool (same tie and NaN rules as the general kernel: the first
/// maximum in row-major window order wins, NaN wins).
@inlinable
public func maxPool2x2<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<T>,
  indices: UnsafeMutablePointer<Int>
) {
  let oh = height / 2
  let ow = width / 2
  for pl in 0..<planes {
    let src = input + pl * height * width
    let dst = output + pl * oh * ow
    let idx = indices + pl * oh * ow
    for y in 0..<oh {
      let r0 = 2 * y * width
      let r1 = r0 + width
      for x in 0..<ow {
        let c = 2 * x
        var best = src[r0 + c]
        var bi = r0 + c
        @inline(__always) func consider(_ j: Int) {
          let v = src[j]
          if !best.isNaN && (v > best || v.isNaN) {
            best = v
            bi = j
          }
        }
        consider(r0 + c + 1)
        consider(r1 + c)
        consider(r1 + c + 1)
        dst[y * ow + x] = best
        idx[y * ow + x] = bi
      }
    }
  }
}

/// Values-only 2x2, stride-2 max pool (no argmax bookkeeping, so the loop vectorises): the same
/// maxima as `maxPool2x2`, NaN propagating. Floats run the C kernel on the CPU's widest vectors
/// (`VectorKernels`), other scalars `maxPool2x2ValuesPortable`.
@inlinable
public func maxPool2x2Values<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<T>
) {
  if T.self == Float.self {
    VectorKernels.maxPool2x2Values(
      UnsafeRawPointer(input).assumingMemoryBound(to: Float.self), planes: planes, height: height, width: width,
      output: UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self))
    return
  }
  maxPool2x2ValuesPortable(input, planes: planes, height: height, width: width, output: output)
}

/// `maxPool2x2Values` in Swift (baseline vectors): the twin of the C kernel and the path for Double.
@inlinable
public func maxPool2x2ValuesPortable<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<T>
) {
  let oh = height / 2
  let ow = width / 2
  @inline(__always) func nanMax(_ p: T, _ q: T) -> T { (p >= q || p != p) ? p : q }
  for pl in 0..<planes {
    let src = input + pl * height * width
    let dst = output + pl * oh * ow
    for y in 0..<oh {
      let r0 = src + 2 * y * width
      let r1 = r0 + width
      let d = dst + y * ow
      for x in 0..<ow {
        d[x] = nanMax(nanMax(r0[2 * x], r0[2 * x + 1]), nanMax(r1[2 * x], r1[2 * x + 1]))
      }
    }
  }
}

/// Backward of the 2x2, stride-2 max pool from its input: each window's winner (recomputed by
/// `maxPool2x2`'s rule: first maximum in row-major order, NaN wins) gains dL/dOutput in `gradInput`
/// [planes, height, width] (accumulated; the other pixels are left as they are). Floats run the C kernel
/// on the CPU's widest vectors (`VectorKernels`), other scalars `maxPool2x2BackwardPortable`.
@inlinable
public func maxPool2x2Backward<T: KernelScalar>(
  _ input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, planes: Int, height: Int, width: Int,
  gradInput: UnsafeMutablePointer<T>
) {
  if T.self == Float.self {
    VectorKernels.maxPool2x2Backward(
      UnsafeRawPointer(input).assumingMemoryBound(to: Float.self),
      gradOutput: UnsafeRawPointer(gradOutput).assumingMemoryBound(to: Float.self), planes: planes, height: height,
      width: width, gradInput: UnsafeMutableRawPointer(gradInput).assumingMemoryBound(to: Float.self))
    return
  }
  maxPool2x2BackwardPortable(
    input, gradOutput: gradOutput, planes: planes, height: height, width: width, gradInput: gradInput)
}

/// `maxPool2x2Backward` as `maxPool2x2` (winners) then `maxPool2dBackward` (scatter): the twin of the
/// C kernel and the path for Double.
@inlinable
public func maxPool2x2BackwardPortable<T: KernelScalar>(
  _ input: UnsafePointer<T>, gradOutput: UnsafePointer<T>, planes: Int, height: Int, width: Int,
  gradInput: UnsafeMutablePointer<T>
) {
  let outPlane = (height / 2) * (width / 2)
  var maxima = [T](repeating: 0, count: planes * outPlane)
  var winners = [Int](repeating: 0, count: planes * outPlane)
  maxPool2x2(input, planes: planes, height: height, width: width, output: &maxima, indices: &winners)
  maxPool2dBackward(
    gradOutput: gradOutput, indices: winners, planes: planes, outPlane: outPlane, inPlane: height * width,
    gradInput: gradInput)
}

/// Max-pool backward: scatters dL/dOutput onto the recorded argmax pixels (gradInput accumulates).
@inlinable
public func maxPool2dBackward<T: KernelScalar>(
  gradOutput: UnsafePointer<T>, indices: UnsafePointer<Int>, planes: Int, outPlane: Int,
  inPlane: Int, gradInput: UnsafeMutablePointer<T>
) {
  for pl in 0..<planes {
    let g = gradOutput + pl * outPlane
    let idx = indices + pl * outPlane
    let d = gradInput + pl * inPlane
    for j in 0..<outPlane where idx[j] >= 0 { d[idx[j]] += g[j] }
  }
}

/// The window of one average-pool output, clipped to the image, and its divisor
/// (PyTorch's rule: with `countIncludePad` the divisor counts padding but not the ceil-mode overhang).
@inlinable
func avgWindow(
  _ o: Int, _ k: Int, _ s: Int, _ p: Int, _ n: Int
) -> (start: Int, end: Int, padded: Int) {
  var start = o * s - p
  var end = min(start + k, n + p)
  let padded = end - start
  start = max(start, 0)
  end = min(end, n)
  return (start, end, padded)
}

/// Average pooling over `planes` planes (dilation is not part of PyTorch's avg_pool2d).
@inlinable
public func avgPool2dForward<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, _ g: PoolGeometry, countIncludePad: Bool,
  output: UnsafeMutablePointer<T>
) {
  let oh = g.outHeight
  let ow = g.outWidth
  let hw = g.height * g.width
  for pl in 0..<planes {
    let src = input + pl * hw
    for y in 0..<oh {
      let wy = avgWindow(y, g.kernelH, g.strideH, g.padH, g.height)
      for x in 0..<ow {
        let wx = avgWindow(x, g.kernelW, g.strideW, g.padW, g.width)
        var acc: T = 0
        for iy in wy.start..<max(wy.start, wy.end) {
          for ix in wx.start..<max(wx.start, wx.end) { acc += src[iy * g.width + ix] }
        }
        let count =
          countIncludePad
          ? wy.padded * wx.padded : (wy.end - wy.start) * (wx.end - wx.start)
        output[(pl * oh + y) * ow + x] = count > 0 ? acc / T(count) : 0
      }
    }
  }
}

/// Average-pool backward (gradInput accumulates).
@inlinable
public func avgPool2dBackward<T: KernelScalar>(
  gradOutput: UnsafePointer<T>, planes: Int, _ g: PoolGeometry, countIncludePad: Bool,
  gradInput: UnsafeMutablePointer<T>
) {
  let oh = g.outHeight
  let ow = g.outWidth
  let hw = g.height * g.width
  for pl in 0..<planes {
    let dst = gradInput + pl * hw
    for y in 0..<oh {
      let wy = avgWindow(y, g.kernelH, g.strideH, g.padH, g.height)
      for x in 0..<ow {
        let wx = avgWindow(x, g.kernelW, g.strideW, g.padW, g.width)
        let count =
          countIncludePad
          ? wy.padded * wx.padded : (wy.end - wy.start) * (wx.end - wx.start)
        if count <= 0 { continue }
        let v = gradOutput[(pl * oh + y) * ow + x] / T(count)
        for iy in wy.start..<max(wy.start, wy.end) {
          for ix in wx.start..<max(wx.start, wx.end) { dst[iy * g.width + ix] += v }
        }
      }
    }
  }
}

/// Adaptive average pooling bin edges: [floor(o*n/out), ceil((o+1)*n/out)).
@inlinable
public func adaptiveBin(_ o: Int, _ n: Int, _ out: Int) -> Range<Int> {
  (o * n / out)..<(((o + 1) * n + out - 1) / out)
}

/// Adaptive average pooling of planes [H, W] to [outH, outW].
@inlinable
public func adaptiveAvgPool2dForward<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, height: Int, width: Int, outH: Int, outW: Int,
  output: UnsafeMutablePointer<T>
) {
  for pl in 0..<planes {
    let src = input + pl * height * width
    for y in 0..<outH {
      let ry = adaptiveBin(y, height, outH)
      for x in 0..<outW {
        let rx = adaptiveBin(x, width, outW)
        var acc: T = 0
        for iy in ry { for ix in rx { acc += src[iy * width + ix] } }
        output[(pl * outH + y) * outW + x] = acc / T(ry.count * rx.count)
      }
    }
  }
}

/// Adaptive average-pool backward (gradInput accumulates).
@inlinable
public func adaptiveAvgPool2dBackward<T: KernelScalar>(
  gradOutput: UnsafePointer<T>, planes: Int, height: Int, width: Int, outH: Int, outW: Int,
  gradInput: UnsafeMutablePointer<T>
) {
  for pl in 0..<planes {
    let dst = gradInput + pl * height * width
    for y in 0..<outH {
      let ry = adaptiveBin(y, height, outH)
      for x in 0..<outW {
        let rx = adaptiveBin(x, width, outW)
        let v = gradOutput[(pl * outH + y) * outW + x] / T(ry.count * rx.count)
        for iy in ry { for ix in rx { dst[iy * width + ix] += v } }
      }
    }
  }
}
