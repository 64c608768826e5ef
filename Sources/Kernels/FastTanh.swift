internal import CKernels

/// A branch-free single-precision tanh that vectorises (glibc's `tanhf` is a scalar call and was ~10%
/// of a sweep); `apply` runs it from C on the CPU's widest vectors (`InstructionSet`). Two regimes, both accurate to a few ulp of the float result:
/// - |x| < 0.4: the odd Taylor series through x^11 (truncation error < 4e-8 relative);
/// - otherwise: 1 - 2 / (e^(2|x|) + 1), with e^y = 2^k e^r, |r| <= ln2 / 2, and e^r by its degree-7
///   Taylor polynomial; |x| is capped at 9, where tanh rounds to 1 in float.
/// NaN propagates. `Elementwise.tanh` uses it for Float; Double keeps the library tanh.
public enum FastTanh {
  /// tanh(x) for one value (inlined into the loop below; also the scalar reference for tests).
  @inlinable @inline(__always)
  public static func value(_ x: Float) -> Float {
    let m = abs(x)
    let a: Float = m < 9 ? m : 9  // NaN takes 9 here and is restored at the end
    // Small |x|: x + x^3 (-1/3 + x^2 (2/15 + x^2 (-17/315 + x^2 (62/2835 + x^2 (-1382/155925))))).
    let z = a * a
    var p: Float = -1382.0 / 155925.0
    p = p * z + 62.0 / 2835.0
    p = p * z - 17.0 / 315.0
    p = p * z + 2.0 / 15.0
    p = p * z - 1.0 / 3.0
    let small = a + a * z * p
    // Large |x|: e^(2a) = 2^k e^r.
    let y = 2 * a
    let k = (y * 1.442_695_04).rounded(.toNearestOrEven)
    let r = (y - k * 0.693_145_75) - k * 1.428_606_8e-6  // ln 2 split in two for an exact product
    var e: Float = 1.0 / 5040.0
    e = e * r + 1.0 / 720.0
    e = e * r + 1.0 / 120.0
    e = e * r + 1.0 / 24.0
    e = e * r + 1.0 / 6.0
    e = e * r + 0.5
    e = e * r + 1
    e = e * r + 1
    // 2^k without a trapping float-to-int conversion: adding 2^23 + 127 leaves k + 127 in the low
    // mantissa bits (0 <= k <= 26).
    let biased = (k + 8_388_735).bitPattern &- 0x4B00_0000
    let scale = Float(bitPattern: biased &<< 23)
    let large = 1 - 2 / (e * scale + 1)
    let t = a < 0.4 ? small : large
    let signed = Float(signOf: x, magnitudeOf: t)
    return x.isNaN ? x : signed
  }

  /// y[i] = tanh(x[i]) for `count` values: the C kernel (CKernels/Tanh.c) on this CPU's widest
  /// instruction set, bit for bit `value` (x and y may be the same buffer).
  public static func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    ephys_tanh_f32(x, y, count)
  }

  /// `apply` on one instruction-set path (at most `InstructionSet.supported`), for tests and benchmarks.
  public static func apply(
    _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, on path: InstructionSet
  ) {
    precondition(path <= InstructionSet.supported, "this CPU has no \(path.name) path")
    ephys_tanh_f32_isa(x, y, count, path.isa)
  }

  /// Naive twin of `apply`: `value` in a Swift loop (baseline x86-64 vectors).
  @inlinable
  public static func naiveApply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
    for i in 0..<count { y[i] = value(x[i]) }
  }
}
