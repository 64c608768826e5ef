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
}
