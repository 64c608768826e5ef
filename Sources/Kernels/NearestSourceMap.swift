/// Nearest upsampling as an index map: upsampled pixel (y, x) copies source pixel
/// (rowSource[y], colSource[x]) of a `height x width` plane.
///
/// A transposed convolution of a nearest-upsampled input needs only this map, not the upsampled tensor:
/// `conv_transpose(up(x)) = col2im(W^T up(x))`, and column p of `W^T up(x)` is column src(p) of `W^T x`.
/// So `ConvTranspose2dKernel` given a map runs its GEMM over the h x w source pixels (5x fewer columns for
/// the object-attention model's 4x8 -> 9x16 and 12x19 -> 25x39 feedback path) and col2im gathers each
/// window's column through the map (`col2imGatherAdd`); the backward pass is the adjoint
/// (`im2colScatterAdd`, then the usual two GEMMs at source resolution).
public struct NearestSourceMap: Sendable {
  /// Source row of each upsampled row (length H).
  public let rowSource: [Int]
  /// Source column of each upsampled column (length W).
  public let colSource: [Int]
  /// Source plane size.
  public let height, width: Int

  public init(rowSource: [Int], colSource: [Int], height: Int, width: Int) {
    self.rowSource = rowSource
    self.colSource = colSource
    self.height = height
    self.width = width
  }

  /// The map of PyTorch's nearest interpolation from h x w to H x W (source index floor(dst * in / out),
  /// computed in `T` as `F.interpolate` does for that dtype).
  public init<T: KernelScalar>(from h: Int, _ w: Int, to outH: Int, _ outW: Int, scalar: T.Type) {
    let sh: T = upsampleScale(input: h, output: outH, alignCorners: false, scaleFactor: nil)
    let sw: T = upsampleScale(input: w, output: outW, alignCorners: false, scaleFactor: nil)
    self.init(
      rowSource: (0..<outH).map { nearestSource(dst: $0, input: h, output: outH, scale: sh) },
      colSource: (0..<outW).map { nearestSource(dst: $0, input: w, output: outW, scale: sw) }, height: h, width: w)
  }

  /// Pixels of one source plane.
  @inlinable public var plane: Int { height * width }
}

/// col2im through a source map: window (y, x) reads column `map.rowSource[y] * map.width + map.colSource[x]`
/// of `col` ([C*kh*kw, h*w], row stride `ldCol`) and adds it into `image` [C, H, W]. Floats run the C
/// kernel on the CPU's widest vectors (`VectorKernels`), other scalars `col2imGatherAddPortable`.
@inlinable
public func col2imGatherAdd<T: KernelScalar>(
  _ col: UnsafePointer<T>, ldCol: Int, _ g: ConvGeometry, _ map: NearestSourceMap, _ image: UnsafeMutablePointer<T>
) {
  if T.self == Float.self {
    VectorKernels.col2imGatherAdd(
      UnsafeRawPointer(col).assumingMemoryBound(to: Float.self), ldCol: ldCol, g, map,
      UnsafeMutableRawPointer(image).assumingMemoryBound(to: Float.self))
    return
  }
  col2imGatherAddPortable(col, ldCol: ldCol, g, map, image)
}

/// `col2imGatherAdd` in Swift (baseline vectors): the twin of the C kernel and the path for Double.
@inlinable
public func col2imGatherAddPortable<T: KernelScalar>(
  _ col: UnsafePointer<T>, ldCol: Int, _ g: ConvGeometry, _ map: NearestSourceMap, _ image: UnsafeMutablePointer<T>
) {
  let oh = g.outHeight
  let ow = g.outWidth
  // One source row gathered along x, reused while consecutive window rows share that source row
  // (nearest upsampling repeats rows), so the adds into the image are plain contiguous loops.
  let expanded = UnsafeMutablePointer<T>.allocate(capacity: ow)
  defer { expanded.deallocate() }
  map.rowSource.withUnsafeBufferPointer { rs in
    map.colSource.withUnsafeBufferPointer { cs in
      var row = 0
      for c in 0..<g.channels {
        let plane = image + c * g.height * g.width
        for ki in 0..<g.kernelH {
          for kj in 0..<g.kernelW {
            let src = col + row * ldCol
            let offI = ki * g.dilationH - g.padH
            let offJ = kj * g.dilationW - g.padW
            var gathered = -1
            for y in 0..<oh {
              let iy = y * g.strideH + offI
              if iy < 0 || iy >= g.height { continue }
              let dst = plane + iy * g.width
              let s = src + rs[y] * map.width
              if g.strideW == 1 && offJ >= 0 && ow - 1 + offJ < g.width {
                if rs[y] != gathered {
                  for x in 0..<ow { expanded[x] = s[cs[x]] }
                  gathered = rs[y]
                }
                let d = dst + offJ
                for x in 0..<ow { d[x] += expanded[x] }
                continue
              }
              for x in 0..<ow {
                let ix = x * g.strideW + offJ
                if ix >= 0 && ix < g.width { dst[ix] += s[cs[x]] }
              }
            }
            row += 1
          }
        }
      }
    }
  }
}

/// The adjoint of `col2imGatherAdd`: im2col of `image` [C, H, W] with every window's column added
/// into column `map.rowSource[y] * map.width + map.colSource[x]` of `col` (accumulated, not overwritten).
@inlinable
public func im2colScatterAdd<T: KernelScalar>(
  _ image: UnsafePointer<T>, _ g: ConvGeometry, _ map: NearestSourceMap, _ col: UnsafeMutablePointer<T>, ldCol: Int
) {
  let oh = g.outHeight
  let ow = g.outWidth
  // Window rows that share a source row are summed contiguously first and scattered once (the adjoint
  // of the row reuse in `col2imGatherAdd`).
  let summed = UnsafeMutablePointer<T>.allocate(capacity: ow)
  defer { summed.deallocate() }
  map.rowSource.withUnsafeBufferPointer { rs in
    map.colSource.withUnsafeBufferPointer { cs in
      var row = 0
      for c in 0..<g.channels {
        let plane = image + c * g.height * g.width
        for ki in 0..<g.kernelH {
          for kj in 0..<g.kernelW {
            let dstRow = col + row * ldCol
            let offI = ki * g.dilationH - g.padH
            let offJ = kj * g.dilationW - g.padW
            var pending = -1
            func flush() {
              guard pending >= 0 else { return }
              let d = dstRow + pending * map.width
              for x in 0..<ow { d[cs[x]] += summed[x] }
              pending = -1
            }
            for y in 0..<oh {
              let iy = y * g.strideH + offI
              if iy < 0 || iy >= g.height { continue }
              let src = plane + iy * g.width
              let d = dstRow + rs[y] * map.width
              if g.strideW == 1 && offJ >= 0 && ow - 1 + offJ < g.width {
                let sv = src + offJ
                if rs[y] == pending {
                  for x in 0..<ow { summed[x] += sv[x] }
                } else {
                  flush()
                  summed.update(from: sv, count: ow)
                  pending = rs[y]
                }
                continue
              }
              for x in 0..<ow {
                let ix = x * g.strideW + offJ
                if ix >= 0 && ix < g.width { d[cs[x]] += src[ix] }
              }
            }
            flush()
            row += 1
          }
        }
      }
    }
  }
}
