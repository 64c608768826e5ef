/// Convolution kernels as im2col + one GEMM per group, with several images folded side by side
/// into the GEMM's columns (small images make narrow GEMMs otherwise). Shapes follow PyTorch:
/// input [N, C, H, W], weight [O, C/groups, kh, kw], output [N, O, outH, outW].
public enum Conv2dKernel {
  /// Largest column buffer (elements) one chunk of images may use: 256 KB of floats, so a chunk's
  /// columns stay in a core's L2 between im2col writing them and the GEMM reading them (16 MB chunks
  /// made im2col's stores miss to L3: the object-attention sweep ran 5-10% slower).
  public static let columnBudget = 1 << 16

  /// Images per chunk so that a [rows, chunk * cols] buffer stays within `columnBudget`, but at least
  /// `minimumGemmColumns` columns per GEMM: small deep maps (ResNet-18's 4x4 and 7x7 at 112 px) would
  /// otherwise run one thin GEMM per image (its training step lost 20%).
  @inlinable
  public static func chunkSize(batch: Int, rows: Int, cols: Int) -> Int {
    let fitting = columnBudget / max(1, rows * cols)
    let wide = (minimumGemmColumns + cols - 1) / max(1, cols)
    return max(1, min(batch, max(fitting, wide)))
  }

  /// Fewest GEMM columns a chunk of images should give (see `chunkSize`).
  public static let minimumGemmColumns = 256

  /// Copies channels [c0, c0+cn) of `nb` images ([N, C, P] layout) into a [cn, nb*P] matrix.
  @inlinable
  public static func pack<T: KernelScalar>(
    _ src: UnsafePointer<T>, channels: Int, plane: Int, c0: Int, cn: Int, nb: Int,
    _ dst: UnsafeMutablePointer<T>
  ) {
    for i in 0..<nb {
      for c in 0..<cn {
        (dst + c * nb * plane + i * plane).update(
          from: src + (i * channels + c0 + c) * plane, count: plane)
      }
    }
  }

  /// Inverse of `pack`: writes (or adds, when `accumulate`) a [cn, nb*P] matrix into channels
  /// [c0, c0+cn) of `nb` images of [N, C, P] layout.
  @inlinable
  public static func unpack<T: KernelScalar>(
    _ src: UnsafePointer<T>, channels: Int, plane: Int, c0: Int, cn: Int, nb: Int,
    _ dst: UnsafeMutablePointer<T>, accumulate: Bool = false
  ) {
    for i in 0..<nb {
      for c in 0..<cn {
        let s = src + c * nb * plane + i * plane
        let d = dst + (i * channels + c0 + c) * plane
        if accumulate {
          for p in 0..<plane { d[p] += s[p] }
        } else {
          d.update(from: s, count: plane)
        }
      }
    }
  }

  /// dL/dBias += the sum of dL/dOutput ([batch, channels, plane]) over images and pixels, per channel.
  @inlinable
  public static func addBiasGradient<T: KernelScalar>(
    _ gradOutput: UnsafePointer<T>, batch: Int, channels: Int, plane: Int, _ gradBias: UnsafeMutablePointer<T>
  ) {
    for n in 0..<batch {
      for o in 0..<channels {
        let s = gradOutput + (n * channels + o) * plane
        var acc: T = 0
        for j in 0..<plane { acc += s[j] }
        gradBias[o] += acc
      }
    }
  }

  /// Images per worker below which splitting the batch costs more than it saves.
  @inlinable
  public static func minimumImages(rows: Int, cols: Int) -> Int { max(1, 16_384 / max(1, rows * cols)) }

  /// Runs `body(batchRange, dW)` on slices of the batch in parallel. Worker 0 accumulates weight
  /// gradients straight into `gradWeight`, the others into zeroed scratch that is added afterwards in
  /// worker order (so results depend only on the thread count). `dW` is nil when no weight gradient is wanted.
  @inlinable
  public static func batchParallelWeightGradients<T: KernelScalar>(
    batch: Int, minimum: Int, weightCount: Int, gradWeight: UnsafeMutablePointer<T>?,
    _ body: (Range<Int>, UnsafeMutablePointer<T>?) -> Void
  ) {
    let parts = Parallel.ranges(batch, minimum: minimum)
    let scratchCount = gradWeight == nil ? 1 : max(1, (parts.count - 1) * weightCount)
    let scratch = UnsafeMutablePointer<T>.allocate(capacity: scratchCount)
    scratch.initialize(repeating: 0, count: scratchCount)
    defer { scratch.deallocate() }
    Parallel.run(parts.count) { w in
      body(parts[w], gradWeight.map { w == 0 ? $0 : scratch + (w - 1) * weightCount })
    }
    if let gradWeight {
      for w in 1..<max(1, parts.count) {
        Elementwise.addInPlace(gradWeight, scratch + (w - 1) * weightCount, weightCount)
      }
    }
  }

  /// Forward convolution. `g` describes the input (all channels); bias may be nil. The batch is
  /// split across `Parallel.threads` workers, each with its own scratch buffers.
  @inlinable
  public static func forward<T: KernelScalar>(
    input: UnsafePointer<T>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<T>,
    bias: UnsafePointer<T>?, outChannels: Int, groups: Int, output: UnsafeMutablePointer<T>
  ) {
    var gg = g
    gg.channels = g.channels / groups
    let og = outChannels / groups
    let k = gg.columnRows
    let p = gg.columnCols
    let hw = g.height * g.width
    // With a bias, the GEMM computes it too: the weights gain a bias column and the columns a row of
    // ones (K + 1), so no separate pass over the output adds it.
    let kb = bias == nil ? k : k + 1
    let augmented = UnsafeMutablePointer<T>.allocate(capacity: outChannels * kb)
    defer { augmented.deallocate() }
    for o in 0..<outChannels {
      (augmented + o * kb).initialize(from: weight + o * k, count: k)
      if let bias { augmented[o * kb + k] = bias[o] }
    }
    Parallel.forEachRange(batch, minimum: minimumImages(rows: k, cols: p)) { range, _ in
      if p >= directColumns {
        // Wide images: bands of output rows whose columns stay in cache, one GEMM per band straight
        // into the output (row stride: the whole map).
        let ow = gg.outWidth
        let bandRows = max(1, min(gg.outHeight, bandColumns(rows: kb) / max(1, ow)))
        let col = UnsafeMutablePointer<T>.allocate(capacity: kb * bandRows * ow)
        defer { col.deallocate() }
        for n in range {
          for grp in 0..<groups {
            var y0 = 0
            while y0 < gg.outHeight {
              let rows = y0..<min(gg.outHeight, y0 + bandRows)
              let cols = rows.count * ow
              im2col(input + (n * g.channels + grp * gg.channels) * hw, gg, col, ldCol: cols, outputRows: rows)
              if kb > k { (col + k * cols).update(repeating: 1, count: cols) }
              gemm(
                m: og, n: cols, k: kb, a: augmented + grp * og * kb, b: col, ldb: cols,
                c: output + (n * outChannels + grp * og) * p + y0 * ow, ldc: p)
              y0 = rows.upperBound
            }
          }
        }
        return
      }
      // Narrow images: several side by side in one GEMM, then unpacked.
      let nbMax = chunkSize(batch: range.count, rows: k, cols: p)
      let col = UnsafeMutablePointer<T>.allocate(capacity: kb * nbMax * p)
      let tmp = UnsafeMutablePointer<T>.allocate(capacity: og * nbMax * p)
      defer {
        col.deallocate()
        tmp.deallocate()
      }
      var n0 = range.lowerBound
      while n0 < range.upperBound {
        let nb = min(nbMax, range.upperBound - n0)
        (col + k * nb * p).initialize(repeating: 1, count: (kb - k) * nb * p)
        for grp in 0..<groups {
          for i in 0..<nb {
            im2col(
              input + ((n0 + i) * g.channels + grp * gg.channels) * hw, gg, col + i * p, ldCol: nb * p)
          }
          gemm(m: og, n: nb * p, k: kb, a: augmented + grp * og * kb, b: col, c: tmp)
          unpack(tmp, channels: outChannels, plane: p, c0: grp * og, cn: og, nb: nb, output + n0 * outChannels * p)
        }
        n0 += nb
      }
    }
  }

  /// Output positions per image from which a convolution runs GEMMs per image, written straight
  /// into the output, instead of folding several images into one GEMM.
  public static let directColumns = 512

  /// Columns per band of a wide image's column matrix with `rows` rows: about `bandElements` values,
  /// so the band stays in the core's cache while the GEMM reads it.
  @inlinable
  public static func bandColumns(rows: Int) -> Int { max(1, bandElements / max(1, rows)) }

  /// Values in one band of columns (4 MB of floats).
  public static let bandElements = 1 << 20

  /// Backward pass. Given dL/dOutput, adds dL/dWeight into `gradWeight` and dL/dBias into
  /// `gradBias` (when non-nil), and writes dL/dInput into `gradInput` (when non-nil, overwritten).
  @inlinable
  public static func backward<T: KernelScalar>(
    input: UnsafePointer<T>, batch: Int, _ g: ConvGeometry, weight: UnsafePointer<T>,
    outChannels: Int, groups: Int, gradOutput: UnsafePointer<T>,
    gradInput: UnsafeMutablePointer<T>?, gradWeight: UnsafeMutablePointer<T>?,
    gradBias: UnsafeMutablePointer<T>?
  ) {
    var gg = g
    gg.channels = g.channels / groups
    let og = outChannels / groups
    let k = gg.columnRows
    let p = gg.columnCols
    let hw = g.height * g.width
    if let gradBias {
      Conv2dKernel.addBiasGradient(gradOutput, batch: batch, channels: outChannels, plane: p, gradBias)
    }
    if gradInput == nil && gradWeight == nil { return }
    if let gradInput { gradInput.initialize(repeating: 0, count: batch * g.channels * hw) }
    batchParallelWeightGradients(
      batch: batch, minimum: minimumImages(rows: k, cols: p), weightCount: outChannels * k, gradWeight: gradWeight
    ) { range, dW in
      let nbMax = chunkSize(batch: range.count, rows: k, cols: p)
      let col = UnsafeMutablePointer<T>.allocate(capacity: k * nbMax * p)
      let gout = UnsafeMutablePointer<T>.allocate(capacity: og * nbMax * p)
      defer {
        col.deallocate()
        gout.deallocate()
      }
      var n0 = range.lowerBound
      while n0 < range.upperBound {
        let nb = min(nbMax, range.upperBound - n0)
        for grp in 0..<groups {
          pack(
            gradOutput + n0 * outChannels * p, channels: outChannels, plane: p, c0: grp * og,
            cn: og, nb: nb, gout)
          if let dW {
            for i in 0..<nb {
              im2col(
                input + ((n0 + i) * g.channels + grp * gg.channels) * hw, gg, col + i * p,
                ldCol: nb * p)
            }
            gemm(transB: true, m: og, n: k, k: nb * p, a: gout, b: col, beta: 1, c: dW + grp * og * k)
          }
          if let gradInput {
            gemm(transA: true, m: k, n: nb * p, k: og, a: weight + grp * og * k, b: gout, c: col)
            for i in 0..<nb {
              col2imAdd(
                col + i * p, ldCol: nb * p, gg,
                gradInput + ((n0 + i) * g.channels + grp * gg.channels) * hw)
            }
          }
        }
        n0 += nb
      }
    }
  }
}

/// Transposed convolution (the adjoint of conv2d in its input), PyTorch's conv_transpose2d. Given an
/// `upsampled` map, the input is the source of a nearest upsampling and the op is the transposed conv of
/// the upsampled tensor, computed at source resolution (see `NearestSourceMap`).
/// input [N, Cin, H, W], weight [Cin, Cout/groups, kh, kw], output [N, Cout, outH, outW] where
/// `out` (channels = Cout) is the geometry of the *output* plane: its window count equals H x W.
/// The batch is split across `Parallel.threads` workers.
public enum ConvTranspose2dKernel {
  /// The GEMMs of a transposed conv's backward pass for `images` images, given dL/dOutput unfolded as
  /// `col` [rows, images * plane]: dL/dInput channels [c0, c0 + cn) are written (into [N, inChannels, plane]
  /// layout at `gradInput`) and dL/dWeight [cn, rows] is added; `scratch` holds cn * images * plane values.
  @inlinable
  public static func chunkGradients<T: KernelScalar>(
    col: UnsafePointer<T>, rows k: Int, plane p: Int, images nb: Int, inChannels: Int, c0: Int, cn: Int,
    weight: UnsafePointer<T>, input: UnsafePointer<T>, gradInput: UnsafeMutablePointer<T>?,
    gradWeight: UnsafeMutablePointer<T>?, scratch: UnsafeMutablePointer<T>
  ) {
    if let gradInput {
      gemm(m: cn, n: nb * p, k: k, a: weight, b: col, c: scratch)
      Conv2dKernel.unpack(scratch, channels: inChannels, plane: p, c0: c0, cn: cn, nb: nb, gradInput)
    }
    if let gradWeight {
      Conv2dKernel.pack(input, channels: inChannels, plane: p, c0: c0, cn: cn, nb: nb, scratch)
      gemm(transB: true, m: cn, n: k, k: nb * p, a: scratch, b: col, beta: 1, c: gradWeight)
    }
  }

  /// Forward: output = col2im(W^T x) + bias.
  @inlinable
  public static func forward<T: KernelScalar>(
    input: UnsafePointer<T>, batch: Int, inChannels: Int, out g: ConvGeometry,
    weight: UnsafePointer<T>, bias: UnsafePointer<T>?, groups: Int, upsampled map: NearestSourceMap? = nil,
    output: UnsafeMutablePointer<T>
  ) {
    var gg = g
    gg.channels = g.channels / groups
    let cig = inChannels / groups
    let k = gg.columnRows
    let p = map?.plane ?? gg.columnCols
    let ohw = g.height * g.width
    if let map {
      precondition(map.rowSource.count == g.outHeight && map.colSource.count == g.outWidth, "source map size")
    }
    Parallel.forEachRange(batch, minimum: Conv2dKernel.minimumImages(rows: k, cols: p)) { range, _ in
      // The output starts as the bias (or zero); col2im adds into it.
      for n in range {
        for o in 0..<g.channels {
          (output + (n * g.channels + o) * ohw).initialize(repeating: bias?[o] ?? 0, count: ohw)
        }
      }
      let nbMax = Conv2dKernel.chunkSize(batch: range.count, rows: k, cols: p)
      let col = UnsafeMutablePointer<T>.allocate(capacity: k * nbMax * p)
      let xin = UnsafeMutablePointer<T>.allocate(capacity: cig * nbMax * p)
      defer {
        col.deallocate()
        xin.deallocate()
      }
      var n0 = range.lowerBound
      while n0 < range.upperBound {
        let nb = min(nbMax, range.upperBound - n0)
        for grp in 0..<groups {
          Conv2dKernel.pack(
            input + n0 * inChannels * p, channels: inChannels, plane: p, c0: grp * cig, cn: cig, nb: nb, xin)
          gemm(transA: true, m: k, n: nb * p, k: cig, a: weight + grp * cig * k, b: xin, c: col)
          for i in 0..<nb {
            let image = output + ((n0 + i) * g.channels + grp * gg.channels) * ohw
            if let map {
              col2imGatherAdd(col + i * p, ldCol: nb * p, gg, map, image)
            } else {
              col2imAdd(col + i * p, ldCol: nb * p, gg, image)
            }
          }
        }
        n0 += nb
      }
    }
  }

  /// Backward: writes dL/dInput (when non-nil), adds dL/dWeight and dL/dBias (when non-nil).
  @inlinable
  public static func backward<T: KernelScalar>(
    input: UnsafePointer<T>, batch: Int, inChannels: Int, out g: ConvGeometry,
    weight: UnsafePointer<T>, groups: Int, upsampled map: NearestSourceMap? = nil, gradOutput: UnsafePointer<T>,
    gradInput: UnsafeMutablePointer<T>?, gradWeight: UnsafeMutablePointer<T>?,
    gradBias: UnsafeMutablePointer<T>?
  ) {
    var gg = g
    gg.channels = g.channels / groups
    let cig = inChannels / groups
    let k = gg.columnRows
    let p = map?.plane ?? gg.columnCols
    let ohw = g.height * g.width
    if let gradBias {
      Conv2dKernel.addBiasGradient(gradOutput, batch: batch, channels: g.channels, plane: ohw, gradBias)
    }
    if gradInput == nil && gradWeight == nil { return }
    Conv2dKernel.batchParallelWeightGradients(
      batch: batch, minimum: Conv2dKernel.minimumImages(rows: k, cols: p), weightCount: inChannels * k,
      gradWeight: gradWeight
    ) { range, dW in
      let nbMax = Conv2dKernel.chunkSize(batch: range.count, rows: k, cols: p)
      let col = UnsafeMutablePointer<T>.allocate(capacity: k * nbMax * p)
      let buf = UnsafeMutablePointer<T>.allocate(capacity: cig * nbMax * p)
      defer {
        col.deallocate()
        buf.deallocate()
      }
      var n0 = range.lowerBound
      while n0 < range.upperBound {
        let nb = min(nbMax, range.upperBound - n0)
        for grp in 0..<groups {
          if map != nil { col.initialize(repeating: 0, count: k * nb * p) }
          for i in 0..<nb {
            let image = gradOutput + ((n0 + i) * g.channels + grp * gg.channels) * ohw
            if let map {
              im2colScatterAdd(image, gg, map, col + i * p, ldCol: nb * p)
            } else {
              im2col(image, gg, col + i * p, ldCol: nb * p)
            }
          }
          chunkGradients(
            col: col, rows: k, plane: p, images: nb, inChannels: inChannels, c0: grp * cig, cn: cig,
            weight: weight + grp * cig * k, input: input + n0 * inChannels * p,
            gradInput: gradInput.map { $0 + n0 * inChannels * p }, gradWeight: dW.map { $0 + grp * cig * k },
            scratch: buf)
        }
        n0 += nb
      }
    }
  }
}
