/// A scalar binary operation the broadcast kernel is specialised for (no per-element closures:
/// each conforming type is a compile-time choice that the optimiser inlines).
public protocol BinaryKernelOp {
  static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T
}

/// a + b
public enum AddOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a + b }
}
/// a - b
public enum SubOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a - b }
}
/// a * b
public enum MulOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a * b }
}
/// a / b
public enum DivOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a / b }
}
/// 1 where a == b, else 0
public enum EqualOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a == b ? 1 : 0 }
}
/// 1 where a != b, else 0
public enum NotEqualOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a != b ? 1 : 0 }
}
/// 1 where a < b, else 0
public enum LessOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a < b ? 1 : 0 }
}
/// 1 where a <= b, else 0
public enum LessEqualOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a <= b ? 1 : 0 }
}
/// 1 where a > b, else 0
public enum GreaterOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a > b ? 1 : 0 }
}
/// 1 where a >= b, else 0
public enum GreaterEqualOp: BinaryKernelOp {
  @inlinable @inline(__always) public static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a >= b ? 1 : 0 }
}

/// Row-major strides of a contiguous array of `shape`.
@inlinable
public func contiguousStrides(_ shape: [Int]) -> [Int] {
  var strides = [Int](repeating: 1, count: shape.count)
  var s = 1
  for i in stride(from: shape.count - 1, through: 0, by: -1) {
    strides[i] = s
    s *= shape[i]
  }
  return strides
}

/// Strides that read an array of `shape` as if broadcast to `target` (NumPy rules: align right,
/// size-1 and missing dimensions get stride 0). The caller has checked compatibility.
@inlinable
public func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
  let own = contiguousStrides(shape)
  var strides = [Int](repeating: 0, count: target.count)
  let offset = target.count - shape.count
  for i in 0..<shape.count where shape[i] != 1 { strides[i + offset] = own[i] }
  return strides
}

/// Visits every innermost row of an N-d index space: calls `body(offsets, count)` with one
/// starting offset per operand (from its strides); within a row operand k advances by
/// `strides[k].last`. A rank-0 space is one row of length 1.
@inlinable
public func forEachRow(
  shape: [Int], strides: [[Int]], _ body: (_ offsets: [Int], _ count: Int) -> Void
) {
  let rank = shape.count
  let ops = strides.count
  if rank == 0 {
    body([Int](repeating: 0, count: ops), 1)
    return
  }
  if shape.contains(0) { return }
  let inner = shape[rank - 1]
  var counter = [Int](repeating: 0, count: rank)
  var offsets = [Int](repeating: 0, count: ops)
  while true {
    body(offsets, inner)
    var d = rank - 2
    while d >= 0 {
      counter[d] += 1
      for k in 0..<ops { offsets[k] += strides[k][d] }
      if counter[d] < shape[d] { break }
      for k in 0..<ops { offsets[k] -= strides[k][d] * shape[d] }
      counter[d] = 0
      d -= 1
    }
    if d < 0 { return }
  }
}

/// out = Op(a, b) with NumPy broadcasting; `aStrides`/`bStrides` come from `broadcastStrides`.
@inlinable
public func broadcastBinary<T: KernelScalar, Op: BinaryKernelOp>(
  _: Op.Type, a: UnsafePointer<T>, aStrides: [Int], b: UnsafePointer<T>, bStrides: [Int],
  shape: [Int], out: UnsafeMutablePointer<T>
) {
  let count = shape.reduce(1, *)
  let contiguous = contiguousStrides(shape)
  let aFull = aStrides == contiguous
  let bFull = bStrides == contiguous
  if aFull && bFull {
    for i in 0..<count { out[i] = Op.apply(a[i], b[i]) }
    return
  }
  if aFull && bStrides.allSatisfy({ $0 == 0 }) {
    let bv = b[0]
    for i in 0..<count { out[i] = Op.apply(a[i], bv) }
    return
  }
  if bFull && aStrides.allSatisfy({ $0 == 0 }) {
    let av = a[0]
    for i in 0..<count { out[i] = Op.apply(av, b[i]) }
    return
  }
  var o = 0
  let sa = aStrides.last ?? 0
  let sb = bStrides.last ?? 0
  forEachRow(shape: shape, strides: [aStrides, bStrides]) { off, n in
    let pa = a + off[0]
    let pb = b + off[1]
    for j in 0..<n { out[o + j] = Op.apply(pa[j * sa], pb[j * sb]) }
    o += n
  }
}

/// Reduces a gradient of broadcast `shape` back onto an operand read with `strides`:
/// dst[offset] += src[i] for every element (dst must be zeroed or hold earlier sums).
@inlinable
public func sumBroadcast<T: KernelScalar>(
  _ src: UnsafePointer<T>, shape: [Int], strides: [Int], into dst: UnsafeMutablePointer<T>
) {
  var o = 0
  let s = strides.last ?? 0
  forEachRow(shape: shape, strides: [strides]) { off, n in
    let d = dst + off[0]
    if s == 0 {
      var acc: T = 0
      for j in 0..<n { acc += src[o + j] }
      d[0] += acc
    } else {
      for j in 0..<n { d[j * s] += src[o + j] }
    }
    o += n
  }
}

/// Copies a strided view into a contiguous buffer: dst[i] = src[offset_i] (used by permute and
/// to materialise broadcasts).
@inlinable
public func gatherStrided<T: KernelScalar>(
  _ src: UnsafePointer<T>, shape: [Int], strides: [Int], into dst: UnsafeMutablePointer<T>
) {
  var o = 0
  let s = strides.last ?? 0
  forEachRow(shape: shape, strides: [strides]) { off, n in
    let p = src + off[0]
    for j in 0..<n { dst[o + j] = p[j * s] }
    o += n
  }
}
