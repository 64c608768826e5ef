import Foundation
import Testing

@testable import Kernels

/// The C kernels (CKernels) on every instruction-set path this CPU supports against their Swift twins:
/// the same bits, NaN, infinities, signed zeros and odd sizes included. A CPU without AVX2 still
/// checks the baseline path; the AVX-512 path runs where the CPU has it.
@Suite("C kernels per instruction set vs Swift twins")
struct InstructionSetTwinTests {
  static var paths: [InstructionSet] { InstructionSet.allCases.filter { $0 <= InstructionSet.supported } }

  /// Deterministic floats in [-scale, scale) with specials mixed in.
  static func values(_ n: Int, seed: UInt64, scale: Float = 12) -> [Float] {
    var state = seed
    let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 0.4, -0.4, 9, -9, 1e-30, -1e-30, .ulpOfOne]
    return (0..<n).map { i in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      if i % 37 == 5 { return specials[(i / 37) % specials.count] }
      return (Float(state >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
  }

  static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
  }

  @Test("the active path is supported, and EPHYS_SIMD can only lower it")
  func paths() {
    #expect(InstructionSet.active <= InstructionSet.supported)
    #expect(Self.paths.first == .baseline)
    #expect(InstructionSet.allCases.map(\.name) == ["baseline", "avx2", "avx512"])
  }

  @Test("tanh: every path gives FastTanh.value's bits")
  func tanh() {
    for n in [0, 1, 7, 8, 9, 31, 100, 4099] {
      let x = Self.values(n, seed: UInt64(n) + 1)
      let twin = x.map(FastTanh.value)
      for path in Self.paths {
        var y = [Float](repeating: 0, count: n)
        x.withUnsafeBufferPointer { px in
          y.withUnsafeMutableBufferPointer { FastTanh.apply(px.baseAddress!, $0.baseAddress!, n, on: path) }
        }
        #expect(Self.sameBits(y, twin), "\(path.name), n = \(n)")
      }
    }
    // In place, as the engine calls it.
    var x = Self.values(1000, seed: 9)
    let twin = x.map(FastTanh.value)
    x.withUnsafeMutableBufferPointer { FastTanh.apply($0.baseAddress!, $0.baseAddress!, 1000) }
    #expect(Self.sameBits(x, twin))
  }

  @Test(
    "2x2 max pool values: every path gives maxPool2x2ValuesPortable's bits",
    arguments: [(1, 2, 2), (3, 5, 7), (4, 25, 39), (2, 8, 64)])
  func maxPool(_ shape: (Int, Int, Int)) {
    let (planes, h, w) = shape
    var x = Self.values(planes * h * w, seed: 3)
    x[x.count - 1] = .nan  // the last window of the last plane sees a NaN
    var twin = [Float](repeating: 0, count: planes * (h / 2) * (w / 2))
    x.withUnsafeBufferPointer { px in
      twin.withUnsafeMutableBufferPointer {
        maxPool2x2ValuesPortable(px.baseAddress!, planes: planes, height: h, width: w, output: $0.baseAddress!)
      }
    }
    #expect(twin.contains { $0.isNaN })
    for path in Self.paths {
      var y = [Float](repeating: 7, count: twin.count)
      x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer {
          VectorKernels.maxPool2x2Values(
            px.baseAddress!, planes: planes, height: h, width: w, output: $0.baseAddress!, on: path)
        }
      }
      #expect(Self.sameBits(y, twin), "\(path.name), \(shape)")
    }
  }

  @Test("col2im through a nearest source map: every path gives col2imGatherAddPortable's bits")
  func gatherAdd() {
    // The object-attention feedback geometries (4x8 -> 9x16 and 12x19 -> 25x39, kernel 4), a strided
    // one and a padded one (the general branch).
    let cases: [(ConvGeometry, (Int, Int))] = [
      (ConvGeometry(channels: 3, height: 12, width: 19, kernelH: 4, kernelW: 4), (4, 8)),
      (ConvGeometry(channels: 2, height: 28, width: 42, kernelH: 4, kernelW: 4), (12, 19)),
      (ConvGeometry(channels: 2, height: 15, width: 17, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2), (3, 5)),
      (ConvGeometry(channels: 1, height: 10, width: 11, kernelH: 3, kernelW: 5, padH: 1, padW: 2), (4, 4)),
    ]
    for (g, (h, w)) in cases {
      let map = NearestSourceMap(from: h, w, to: g.outHeight, g.outWidth, scalar: Float.self)
      let rows = g.channels * g.kernelH * g.kernelW
      let ldCol = h * w + 3
      let col = Self.values(rows * ldCol, seed: 11, scale: 1)
      let start = Self.values(g.channels * g.height * g.width, seed: 12, scale: 1).map { $0.isNaN ? 0.5 : $0 }
      var twin = start
      col.withUnsafeBufferPointer { pc in
        twin.withUnsafeMutableBufferPointer {
          col2imGatherAddPortable(pc.baseAddress!, ldCol: ldCol, g, map, $0.baseAddress!)
        }
      }
      for path in Self.paths {
        var y = start
        col.withUnsafeBufferPointer { pc in
          y.withUnsafeMutableBufferPointer {
            VectorKernels.col2imGatherAdd(pc.baseAddress!, ldCol: ldCol, g, map, $0.baseAddress!, on: path)
          }
        }
        #expect(Self.sameBits(y, twin), "\(path.name), \(g)")
      }
    }
  }

  @Test("im2col: every path gives im2colPortable's bits, padded, strided, dilated and banded")
  func im2col() {
    let cases: [(ConvGeometry, Range<Int>?)] = [
      (ConvGeometry(channels: 1, height: 28, width: 42, kernelH: 4, kernelW: 4), nil),
      (ConvGeometry(channels: 20, height: 12, width: 19, kernelH: 4, kernelW: 4), nil),
      (ConvGeometry(channels: 3, height: 17, width: 23, kernelH: 3, kernelW: 3, padH: 1, padW: 1), 4..<9),
      (ConvGeometry(channels: 2, height: 15, width: 16, kernelH: 5, kernelW: 3, strideH: 2, strideW: 3, padH: 2), nil),
      (
        ConvGeometry(
          channels: 2, height: 9, width: 9, kernelH: 3, kernelW: 3, padH: 3, padW: 3, dilationH: 2, dilationW: 2),
        nil
      ),
    ]
    for (g, rows) in cases {
      let image = Self.values(g.channels * g.height * g.width, seed: 5)
      let band = (rows ?? 0..<g.outHeight).count * g.outWidth
      let ldCol = band + 5
      var twin = [Float](repeating: 3, count: g.columnRows * ldCol)
      image.withUnsafeBufferPointer { pi in
        twin.withUnsafeMutableBufferPointer {
          im2colPortable(pi.baseAddress!, g, $0.baseAddress!, ldCol: ldCol, outputRows: rows)
        }
      }
      for path in Self.paths {
        var y = [Float](repeating: 3, count: twin.count)
        image.withUnsafeBufferPointer { pi in
          y.withUnsafeMutableBufferPointer {
            VectorKernels.im2col(pi.baseAddress!, g, $0.baseAddress!, ldCol: ldCol, outputRows: rows, on: path)
          }
        }
        #expect(Self.sameBits(y, twin), "\(path.name), \(g)")
      }
    }
  }

  @Test(
    "2x2 max pool backward: every path gives maxPool2x2BackwardPortable's bits, ties and NaN included",
    arguments: [(1, 2, 2), (3, 5, 7), (4, 25, 39), (2, 8, 64)])
  func maxPoolBackward(_ shape: (Int, Int, Int)) {
    let (planes, h, w) = shape
    // Coarse values so that windows hold ties; a NaN in the last window.
    var x = Self.values(planes * h * w, seed: 4).map { $0.isFinite ? ($0 / 4).rounded() : $0 }
    x[x.count - 1] = .nan
    let g = Self.values(planes * (h / 2) * (w / 2), seed: 6, scale: 1).map { $0.isNaN ? 0.25 : $0 }
    let start = Self.values(planes * h * w, seed: 8, scale: 1).map { $0.isNaN ? -0.0 : $0 }
    var twin = start
    x.withUnsafeBufferPointer { px in
      g.withUnsafeBufferPointer { pg in
        twin.withUnsafeMutableBufferPointer {
          maxPool2x2BackwardPortable(
            px.baseAddress!, gradOutput: pg.baseAddress!, planes: planes, height: h, width: w,
            gradInput: $0.baseAddress!)
        }
      }
    }
    #expect(!Self.sameBits(twin, start))
    for path in Self.paths {
      var y = start
      x.withUnsafeBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          y.withUnsafeMutableBufferPointer {
            VectorKernels.maxPool2x2Backward(
              px.baseAddress!, gradOutput: pg.baseAddress!, planes: planes, height: h, width: w,
              gradInput: $0.baseAddress!, on: path)
          }
        }
      }
      #expect(Self.sameBits(y, twin), "\(path.name), \(shape)")
    }
  }
}
