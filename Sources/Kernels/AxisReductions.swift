import RealModule

/// Kernels that work along one axis of a contiguous array viewed as [outer, n, inner]
/// (the axis has length n and stride `inner`).
public enum AxisKernels {
  /// out[o, i] = sum_k x[o, k, i]
  @inlinable public static func sum<T: KernelScalar>(
    _ x: UnsafePointer<T>, outer: Int, n: Int, inner: Int, _ out: UnsafeMutablePointer<T>
  ) {
    for o in 0..<outer {
      let d = out + o * inner
      for i in 0..<inner { d[i] = 0 }
      for k in 0..<n {
        let s = x + (o * n + k) * inner
        for i in 0..<inner { d[i] += s[i] }
      }
    }
  }
  /// out[o, k, i] = g[o, i] * scale (the backward of sum/mean along the axis)
  @inlinable public static func expand<T: KernelScalar>(
    _ g: UnsafePointer<T>, outer: Int, n: Int, inner: Int, scale: T, _ out: UnsafeMutablePointer<T>
  ) {
    for o in 0..<outer {
      let s = g + o * inner
      for k in 0..<n {
        let d = out + (o * n + k) * inner
        for i in 0..<inner { d[i] = s[i] * scale }
      }
    }
  }
  /// Maximum along the axis and its first index (NaN propagates and wins, as in PyTorch).
  @inlinable public static func max<T: KernelScalar>(
    _ x: UnsafePointer<T>, outer: Int, n: Int, inner: Int, _ out: UnsafeMutablePointer<T>,
    _ index: UnsafeMutablePointer<Int>
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        var best = x[o * n * inner + i]
        var bi = 0
        if !best.isNaN {
          for k in 1..<Swift.max(n, 1) {
            let v = x[(o * n + k) * inner + i]
            if v > best || v.isNaN {
              best = v
              bi = k
              if v.isNaN { break }
            }
          }
        }
        out[o * inner + i] = best
        index[o * inner + i] = bi
      }
    }
  }
  /// Softmax along the axis (max-subtracted); with `log`, log-softmax.
  @inlinable public static func softmax<T: KernelScalar>(
    _ x: UnsafePointer<T>, outer: Int, n: Int, inner: Int, log: Bool, _ out: UnsafeMutablePointer<T>
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * n * inner + i
        var m = -T.infinity
        for k in 0..<n { m = Swift.max(m, x[base + k * inner]) }
        var s: T = 0
        for k in 0..<n { s += T.exp(x[base + k * inner] - m) }
        if log {
          let ls = T.log(s) + m
          for k in 0..<n { out[base + k * inner] = x[base + k * inner] - ls }
        } else {
          for k in 0..<n { out[base + k * inner] = T.exp(x[base + k * inner] - m) / s }
        }
      }
    }
  }
  /// Softmax backward from the output y: dx = y * (dy - sum(dy * y)); for log-softmax
  /// dx = dy - exp(y) * sum(dy).
  @inlinable public static func softmaxBackward<T: KernelScalar>(
    _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, outer: Int, n: Int, inner: Int, log: Bool,
    _ dx: UnsafeMutablePointer<T>
  ) {
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * n * inner + i
        var s: T = 0
        if log {
          for k in 0..<n { s += dy[base + k * inner] }
          for k in 0..<n { dx[base + k * inner] = dy[base + k * inner] - T.exp(y[base + k * inner]) * s }
        } else {
          for k in 0..<n { s += dy[base + k * inner] * y[base + k * inner] }
          for k in 0..<n { dx[base + k * inner] = y[base + k * inner] * (dy[base + k * inner] - s) }
        }
      }
    }
  }
}
