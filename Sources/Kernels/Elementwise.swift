import RealModule

/// Elementwise kernels over contiguous buffers of `count` elements: forward maps and the
/// matching backward rules (dL/dx from dL/dy and the saved input or output).
public enum Elementwise {
  /// y = max(x, 0)
  @inlinable public static func relu<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int)
  {
    for i in 0..<count { y[i] = x[i] > 0 ? x[i] : 0 }
  }
  /// dx = dy where x > 0 (PyTorch passes no gradient at exactly 0)
  @inlinable public static func reluBackward<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : 0 }
  }
  /// y = x for x > 0, slope * x otherwise
  @inlinable public static func leakyRelu<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, slope: T
  ) {
    for i in 0..<count { y[i] = x[i] > 0 ? x[i] : x[i] * slope }
  }
  /// dx = dy for x > 0, slope * dy otherwise
  @inlinable public static func leakyReluBackward<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int, slope: T
  ) {
    for i in 0..<count { dx[i] = x[i] > 0 ? dy[i] : dy[i] * slope }
  }
  /// y = tanh(x)
  @inlinable public static func tanh<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int)
  {
    if T.self == Float.self {
      FastTanh.apply(
        UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
        UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), count)
      return
    }
    naiveTanh(x, y, count)
  }
  /// Naive twin of `tanh`: the library tanh, one call per value.
  @inlinable public static func naiveTanh<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { y[i] = T.tanh(x[i]) }
  }
  /// dx = dy * (1 - y^2), from the output y
  @inlinable public static func tanhBackward<T: KernelScalar>(
    _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dx[i] = dy[i] * (1 - y[i] * y[i]) }
  }
  /// y = 1 / (1 + exp(-x)), computed without overflow for large |x|
  @inlinable public static func sigmoid<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count {
      let v = x[i]
      if v >= 0 {
        y[i] = 1 / (1 + T.exp(-v))
      } else {
        let e = T.exp(v)
        y[i] = e / (1 + e)
      }
    }
  }
  /// dx = dy * y * (1 - y), from the output y
  @inlinable public static func sigmoidBackward<T: KernelScalar>(
    _ y: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dx[i] = dy[i] * y[i] * (1 - y[i]) }
  }
  /// y = log(1 + exp(beta x)) / beta, linear (y = x) where beta x > threshold (PyTorch's rule)
  @inlinable public static func softplus<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, beta: T, threshold: T
  ) {
    for i in 0..<count {
      let bx = x[i] * beta
      y[i] = bx > threshold ? x[i] : T.log(onePlus: T.exp(bx)) / beta
    }
  }
  /// dx = dy * sigmoid(beta x), dy where beta x > threshold
  @inlinable public static func softplusBackward<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int, beta: T, threshold: T
  ) {
    for i in 0..<count {
      let bx = x[i] * beta
      if bx > threshold {
        dx[i] = dy[i]
      } else {
        let z = T.exp(bx)
        dx[i] = dy[i] * z / (z + 1)
      }
    }
  }
  /// y = exp(x)
  @inlinable public static func exp<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int)
  {
    for i in 0..<count { y[i] = T.exp(x[i]) }
  }
  /// y = log(x)
  @inlinable public static func log<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int)
  {
    for i in 0..<count { y[i] = T.log(x[i]) }
  }
  /// y = sqrt(x)
  @inlinable public static func sqrt<T: KernelScalar>(_ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int)
  {
    for i in 0..<count { y[i] = x[i].squareRoot() }
  }
  /// y = a * x + b
  @inlinable public static func affine<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, scale a: T, shift b: T
  ) {
    for i in 0..<count { y[i] = a * x[i] + b }
  }
  /// y = x^p
  @inlinable public static func pow<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, exponent p: T
  ) {
    if p == 2 {
      for i in 0..<count { y[i] = x[i] * x[i] }
    } else if let n = Int(exactly: p) {
      for i in 0..<count { y[i] = T.pow(x[i], n) }  // integral exponents accept negative bases
    } else {
      for i in 0..<count { y[i] = T.pow(x[i], p) }
    }
  }
  /// y = min(max(x, lo), hi)
  @inlinable public static func clamp<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, _ count: Int, lo: T, hi: T
  ) {
    for i in 0..<count { y[i] = Swift.min(Swift.max(x[i], lo), hi) }
  }
  /// dx = dy where lo <= x <= hi (PyTorch's clamp passes the gradient at the bounds)
  @inlinable public static func clampBackward<T: KernelScalar>(
    _ x: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int, lo: T, hi: T
  ) {
    for i in 0..<count { dx[i] = (x[i] >= lo && x[i] <= hi) ? dy[i] : 0 }
  }
  /// dst += src
  @inlinable public static func addInPlace<T: KernelScalar>(
    _ dst: UnsafeMutablePointer<T>, _ src: UnsafePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dst[i] += src[i] }
  }
  /// dst = a * b
  @inlinable public static func multiply<T: KernelScalar>(
    _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dst[i] = a[i] * b[i] }
  }
  /// dst = cond != 0 ? a : b
  @inlinable public static func select<T: KernelScalar>(
    _ cond: UnsafePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ dst: UnsafeMutablePointer<T>, _ count: Int
  ) {
    for i in 0..<count { dst[i] = cond[i] != 0 ? a[i] : b[i] }
  }
  /// Sum of all elements, accumulated pairwise in blocks for accuracy.
  @inlinable public static func sum<T: KernelScalar>(_ x: UnsafePointer<T>, _ count: Int) -> T {
    if count <= 256 {
      var acc: T = 0
      for i in 0..<count { acc += x[i] }
      return acc
    }
    let half = count / 2
    return sum(x, half) + sum(x + half, count - half)
  }
}
