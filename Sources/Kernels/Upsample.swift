/// Interpolation modes of PyTorch's `F.interpolate` for 4-D inputs.
public enum UpsampleMode: String, Sendable, CaseIterable {
  case nearest, bilinear, bicubic
}

/// Source-to-destination scale along one axis (PyTorch's `area_pixel_compute_scale`).
/// `scaleFactor` is the user's scale factor, if one was given instead of a size.
@inlinable
public func upsampleScale<T: KernelScalar>(
  input: Int, output: Int, alignCorners: Bool, scaleFactor: Double?
) -> T {
  if alignCorners { return output > 1 ? T(input - 1) / T(output - 1) : 0 }
  if let s = scaleFactor, s > 0 { return 1 / T(s) }
  return T(input) / T(output)
}

/// Continuous source coordinate of destination pixel `dst` (PyTorch's
/// `area_pixel_compute_source_index`): negative values clamp to 0 except for cubic.
@inlinable
public func upsampleSource<T: KernelScalar>(
  scale: T, dst: Int, alignCorners: Bool, cubic: Bool
) -> T {
  if alignCorners { return scale * T(dst) }
  let src = scale * (T(dst) + T(0.5)) - T(0.5)
  return (!cubic && src < 0) ? 0 : src
}

/// Nearest source index (PyTorch's `nearest_idx`: floor(dst * scale), capped at input-1).
@inlinable
public func nearestSource<T: KernelScalar>(dst: Int, input: Int, output: Int, scale: T) -> Int {
  if output == input { return dst }
  if output == 2 * input { return dst >> 1 }
  return min(Int((T(dst) * scale).rounded(.down)), input - 1)
}

/// Keys' cubic convolution coefficients with A = -0.75 for fractional offset t in [0, 1).
@inlinable
public func cubicCoefficients<T: KernelScalar>(_ t: T) -> (T, T, T, T) {
  let a: T = -0.75
  func c1(_ x: T) -> T { ((a + 2) * x - (a + 3)) * x * x + 1 }
  func c2(_ x: T) -> T { ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
  return (c2(t + 1), c1(t), c1(1 - t), c2(2 - t))
}

/// The source taps and weights of one output coordinate along one axis.
public struct UpsampleTaps<T: KernelScalar>: Sendable {
  public var index: (Int, Int, Int, Int)
  public var weight: (T, T, T, T)
  public var count: Int

  @inlinable
  public init(index: (Int, Int, Int, Int), weight: (T, T, T, T), count: Int) {
    self.index = index
    self.weight = weight
    self.count = count
  }
}

/// Taps for every output position along one axis of length `input` -> `output`.
@inlinable
public func upsampleTaps<T: KernelScalar>(
  mode: UpsampleMode, input: Int, output: Int, alignCorners: Bool, scaleFactor: Double?
) -> [UpsampleTaps<T>] {
  var taps: [UpsampleTaps<T>] = []
  taps.reserveCapacity(output)
  switch mode {
  case .nearest:
    let scale: T = upsampleScale(
      input: input, output: output, alignCorners: false, scaleFactor: scaleFactor)
    for o in 0..<output {
      let i = nearestSource(dst: o, input: input, output: output, scale: scale)
      taps.append(UpsampleTaps(index: (i, 0, 0, 0), weight: (1, 0, 0, 0), count: 1))
    }
  case .bilinear:
    let scale: T = upsampleScale(
      input: input, output: output, alignCorners: alignCorners, scaleFactor: scaleFactor)
    for o in 0..<output {
      let src: T = upsampleSource(scale: scale, dst: o, alignCorners: alignCorners, cubic: false)
      let i0 = min(Int(src), input - 1)
      let i1 = i0 < input - 1 ? i0 + 1 : i0
      let l1 = src - T(i0)
      taps.append(UpsampleTaps(index: (i0, i1, 0, 0), weight: (1 - l1, l1, 0, 0), count: 2))
    }
  case .bicubic:
    let scale: T = upsampleScale(
      input: input, output: output, alignCorners: alignCorners, scaleFactor: scaleFactor)
    for o in 0..<output {
      let src: T = upsampleSource(scale: scale, dst: o, alignCorners: alignCorners, cubic: true)
      let fl = src.rounded(.down)
      let i = Int(fl)
      let w = cubicCoefficients(src - fl)
      func clampIndex(_ j: Int) -> Int { min(max(j, 0), input - 1) }
      taps.append(
        UpsampleTaps(
          index: (clampIndex(i - 1), clampIndex(i), clampIndex(i + 1), clampIndex(i + 2)),
          weight: w, count: 4))
    }
  }
  return taps
}

@inlinable
func tapIndex<T>(_ t: UpsampleTaps<T>, _ j: Int) -> Int {
  switch j {
  case 0: return t.index.0
  case 1: return t.index.1
  case 2: return t.index.2
  default: return t.index.3
  }
}

@inlinable
func tapWeight<T>(_ t: UpsampleTaps<T>, _ j: Int) -> T {
  switch j {
  case 0: return t.weight.0
  case 1: return t.weight.1
  case 2: return t.weight.2
  default: return t.weight.3
  }
}

/// Separable 2-D interpolation of `planes` planes [inH, inW] -> [outH, outW] using per-axis taps.
@inlinable
public func upsample2dForward<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, inH: Int, inW: Int, outH: Int, outW: Int,
  rows: [UpsampleTaps<T>], cols: [UpsampleTaps<T>], output: UnsafeMutablePointer<T>
) {
  for pl in 0..<planes {
    let src = input + pl * inH * inW
    let dst = output + pl * outH * outW
    for y in 0..<outH {
      let ty = rows[y]
      for x in 0..<outW {
        let tx = cols[x]
        var acc: T = 0
        for a in 0..<ty.count {
          let row = src + tapIndex(ty, a) * inW
          var racc: T = 0
          for b in 0..<tx.count { racc += tapWeight(tx, b) * row[tapIndex(tx, b)] }
          acc += tapWeight(ty, a) * racc
        }
        dst[y * outW + x] = acc
      }
    }
  }
}

/// Adjoint of `upsample2dForward` (gradInput accumulates).
@inlinable
public func upsample2dBackward<T: KernelScalar>(
  gradOutput: UnsafePointer<T>, planes: Int, inH: Int, inW: Int, outH: Int, outW: Int,
  rows: [UpsampleTaps<T>], cols: [UpsampleTaps<T>], gradInput: UnsafeMutablePointer<T>
) {
  for pl in 0..<planes {
    let g = gradOutput + pl * outH * outW
    let dst = gradInput + pl * inH * inW
    for y in 0..<outH {
      let ty = rows[y]
      for x in 0..<outW {
        let tx = cols[x]
        let v = g[y * outW + x]
        for a in 0..<ty.count {
          let wa = tapWeight(ty, a) * v
          let row = dst + tapIndex(ty, a) * inW
          for b in 0..<tx.count { row[tapIndex(tx, b)] += wa * tapWeight(tx, b) }
        }
      }
    }
  }
}

/// Nearest-neighbour resize by index maps (`rows[y]`, `cols[x]` = source row / column): the fast path
/// of `upsample2dForward` for mode `.nearest`.
@inlinable
public func nearestForward<T: KernelScalar>(
  _ input: UnsafePointer<T>, planes: Int, inH: Int, inW: Int, rows: [Int], cols: [Int],
  output: UnsafeMutablePointer<T>
) {
  let outH = rows.count
  let outW = cols.count
  cols.withUnsafeBufferPointer { c in
    for pl in 0..<planes {
      let src = input + pl * inH * inW
      let dst = output + pl * outH * outW
      for y in 0..<outH {
        let row = src + rows[y] * inW
        let d = dst + y * outW
        for x in 0..<outW { d[x] = row[c[x]] }
      }
    }
  }
}

/// Adjoint of `nearestForward` (gradInput accumulates).
@inlinable
public func nearestBackward<T: KernelScalar>(
  gradOutput: UnsafePointer<T>, planes: Int, inH: Int, inW: Int, rows: [Int], cols: [Int],
  gradInput: UnsafeMutablePointer<T>
) {
  let outH = rows.count
  let outW = cols.count
  cols.withUnsafeBufferPointer { c in
    for pl in 0..<planes {
      let g = gradOutput + pl * outH * outW
      let dst = gradInput + pl * inH * inW
      for y in 0..<outH {
        let row = dst + rows[y] * inW
        let s = g + y * outW
        for x in 0..<outW { row[c[x]] += s[x] }
      }
    }
  }
}
