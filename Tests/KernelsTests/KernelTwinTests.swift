import Testing

@testable import Kernels

/// Fast kernels against their naive twins on random data.
@Suite("Kernels vs naive twins")
struct KernelTwinTests {
  struct LCG {
    var state: UInt64
    mutating func next() -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(Int64(bitPattern: state >> 11) % 2000) / 1000 - 1
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
  }

  /// Largest absolute difference; infinite when either side holds a non-finite value.
  static func maxDiff(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { m, p in p.0.isFinite && p.1.isFinite ? max(m, abs(p.0 - p.1)) : .infinity }
  }

  @Test("gemm matches the triple loop", arguments: [(false, false), (true, false), (false, true), (true, true)])
  func gemmTwin(_ t: (Bool, Bool)) {
    var rng = LCG(state: 42)
    for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 31, 5)] {
      let a = rng.array(m * k)
      let b = rng.array(k * n)
      let c0 = rng.array(m * n)
      var fast = c0
      var slow = c0
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          fast.withUnsafeMutableBufferPointer {
            gemm(
              transA: t.0, transB: t.1, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, b: pb.baseAddress!, beta: 2,
              c: $0.baseAddress!)
          }
          slow.withUnsafeMutableBufferPointer {
            naiveGemm(
              transA: t.0, transB: t.1, m: m, n: n, k: k, alpha: 0.5, a: pa.baseAddress!, b: pb.baseAddress!, beta: 2,
              c: $0.baseAddress!)
          }
        }
      }
      #expect(Self.maxDiff(fast, slow) < 1e-4, "m \(m) n \(n) k \(k)")
    }
  }

  @Test("im2col convolution matches the direct loop")
  func convTwin() {
    var rng = LCG(state: 7)
    let configs:
      [(n: Int, c: Int, h: Int, w: Int, o: Int, k: (Int, Int), s: (Int, Int), p: (Int, Int), d: (Int, Int), g: Int)] = [
        (1, 1, 5, 7, 2, (3, 3), (1, 1), (0, 0), (1, 1), 1),
        (3, 4, 9, 8, 6, (3, 2), (2, 1), (1, 0), (1, 2), 2),
        (2, 3, 11, 6, 3, (3, 3), (2, 2), (2, 2), (2, 2), 3),
        (5, 20, 12, 19, 50, (4, 4), (1, 1), (0, 0), (1, 1), 1),
      ]
    for cfg in configs {
      let g = ConvGeometry(
        channels: cfg.c, height: cfg.h, width: cfg.w, kernelH: cfg.k.0, kernelW: cfg.k.1, strideH: cfg.s.0,
        strideW: cfg.s.1, padH: cfg.p.0, padW: cfg.p.1, dilationH: cfg.d.0, dilationW: cfg.d.1)
      let x = rng.array(cfg.n * cfg.c * cfg.h * cfg.w)
      let wt = rng.array(cfg.o * cfg.c / cfg.g * cfg.k.0 * cfg.k.1)
      let b = rng.array(cfg.o)
      let outCount = cfg.n * cfg.o * g.outHeight * g.outWidth
      var fast = [Float](repeating: 0, count: outCount)
      var slow = fast
      x.withUnsafeBufferPointer { px in
        wt.withUnsafeBufferPointer { pw in
          b.withUnsafeBufferPointer { pb in
            fast.withUnsafeMutableBufferPointer {
              Conv2dKernel.forward(
                input: px.baseAddress!, batch: cfg.n, g, weight: pw.baseAddress!, bias: pb.baseAddress!,
                outChannels: cfg.o, groups: cfg.g, output: $0.baseAddress!)
            }
            slow.withUnsafeMutableBufferPointer {
              naiveConv2d(
                input: px.baseAddress!, batch: cfg.n, g, weight: pw.baseAddress!, bias: pb.baseAddress!,
                outChannels: cfg.o, groups: cfg.g, output: $0.baseAddress!)
            }
          }
        }
      }
      #expect(Self.maxDiff(fast, slow) < 1e-4, "\(cfg)")
    }
  }

  @Test("col2im is the adjoint of im2col: <im2col(x), y> == <x, col2im(y)>")
  func adjoint() {
    var rng = LCG(state: 9)
    let g = ConvGeometry(
      channels: 3, height: 7, width: 6, kernelH: 3, kernelW: 2, strideH: 2, strideW: 1, padH: 1, padW: 1, dilationH: 1,
      dilationW: 2)
    let x = rng.array(3 * 7 * 6)
    let y = rng.array(g.columnRows * g.columnCols)
    var col = [Float](repeating: 0, count: y.count)
    var back = [Float](repeating: 0, count: x.count)
    x.withUnsafeBufferPointer { px in
      col.withUnsafeMutableBufferPointer { im2col(px.baseAddress!, g, $0.baseAddress!, ldCol: g.columnCols) }
    }
    y.withUnsafeBufferPointer { py in
      back.withUnsafeMutableBufferPointer { col2imAdd(py.baseAddress!, ldCol: g.columnCols, g, $0.baseAddress!) }
    }
    let lhs = zip(col, y).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    let rhs = zip(x, back).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    #expect(abs(lhs - rhs) < 1e-4)
  }

  @Test("fast float tanh is within 3e-7 relative of the library tanh everywhere")
  func tanhTwin() {
    var xs: [Float] = stride(from: -12, through: 12, by: 0.000_37).map { Float($0) }
    xs += [0, -0, 1e-30, -1e-30, .leastNormalMagnitude, 0.4, -0.4, 0.399_999_98, 9, 100, .infinity, -.infinity]
    var fast = [Float](repeating: 0, count: xs.count)
    var slow = fast
    xs.withUnsafeBufferPointer { px in
      fast.withUnsafeMutableBufferPointer { Elementwise.tanh(px.baseAddress!, $0.baseAddress!, xs.count) }
      slow.withUnsafeMutableBufferPointer { Elementwise.naiveTanh(px.baseAddress!, $0.baseAddress!, xs.count) }
    }
    var worst: Float = 0
    for (f, s) in zip(fast, slow) { worst = max(worst, abs(f - s) / max(abs(s), 1e-30)) }
    #expect(worst < 3e-7, "worst relative error \(worst)")
    #expect(FastTanh.value(.nan).isNaN)
    #expect(FastTanh.value(-0.0).sign == .minus)
  }

  @Test("2x2 max pool matches the general window loop, ties and NaN included")
  func pool2x2Twin() {
    var rng = LCG(state: 3)
    for (h, w) in [(25, 39), (12, 19), (4, 6), (3, 3)] {
      var x = rng.array(5 * h * w).map { ($0 * 4).rounded() / 4 }  // many ties
      x[7] = .nan
      let g = PoolGeometry(height: h, width: w, kernelH: 2, kernelW: 2, strideH: 2, strideW: 2)
      let n = 5 * g.outHeight * g.outWidth
      var fast = [Float](repeating: 0, count: n)
      var slow = fast
      var fi = [Int](repeating: 0, count: n)
      var si = fi
      x.withUnsafeBufferPointer { px in
        maxPool2x2(px.baseAddress!, planes: 5, height: h, width: w, output: &fast, indices: &fi)
        maxPool2dForward(px.baseAddress!, planes: 5, g, output: &slow, indices: &si)
      }
      var values = [Float](repeating: 0, count: n)
      x.withUnsafeBufferPointer { maxPool2x2Values($0.baseAddress!, planes: 5, height: h, width: w, output: &values) }
      #expect(zip(values, slow).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(h)x\(w) values only")
      #expect(fi == si, "\(h)x\(w) indices")
      #expect(zip(fast, slow).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }, "\(h)x\(w) values")
    }
  }

  @Test("upsample-nearest transposed conv equals upsampling then the transposed conv")
  func upsampledConvTransposeTwin() {
    var rng = LCG(state: 11)
    // (batch, cin, h, w, upsampled H, W, cout, k, stride, pad): the model's two shapes and odd ones.
    let configs = [
      (3, 100, 4, 8, 9, 16, 20, 4, 1, 0), (2, 40, 12, 19, 25, 39, 1, 4, 1, 0), (2, 3, 3, 2, 5, 4, 2, 3, 2, 1),
      (1, 2, 9, 7, 4, 3, 3, 2, 1, 0),
    ]
    for (n, cin, h, w, uh, uw, cout, k, s, p) in configs {
      let og = ConvGeometry(
        channels: cout, height: (uh - 1) * s - 2 * p + k, width: (uw - 1) * s - 2 * p + k, kernelH: k, kernelW: k,
        strideH: s, strideW: s, padH: p, padW: p)
      let map = NearestSourceMap(from: h, w, to: uh, uw, scalar: Float.self)
      let x = rng.array(n * cin * h * w)
      let wt = rng.array(cin * cout * k * k)
      let b = rng.array(cout)
      let outCount = n * cout * og.height * og.width
      var fused = [Float](repeating: 0, count: outCount)
      var composed = fused
      var up = [Float](repeating: 0, count: n * cin * uh * uw)
      x.withUnsafeBufferPointer { px in
        wt.withUnsafeBufferPointer { pw in
          b.withUnsafeBufferPointer { pb in
            ConvTranspose2dKernel.forward(
              input: px.baseAddress!, batch: n, inChannels: cin, out: og, weight: pw.baseAddress!,
              bias: pb.baseAddress!, groups: 1, upsampled: map, output: &fused)
            nearestForward(
              px.baseAddress!, planes: n * cin, inH: h, inW: w, rows: map.rowSource, cols: map.colSource, output: &up)
            ConvTranspose2dKernel.forward(
              input: up, batch: n, inChannels: cin, out: og, weight: pw.baseAddress!, bias: pb.baseAddress!, groups: 1,
              output: &composed)
          }
        }
      }
      #expect(Self.maxDiff(fused, composed) < 1e-4, "\(n)x\(cin)x\(h)x\(w) -> \(uh)x\(uw)")
    }
  }
}
