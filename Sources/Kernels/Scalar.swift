import CBLAS
import RealModule

/// The floating-point types the kernels compute in: `Float` for all real work, `Double` for the
/// finite-difference gradient checks. Each type supplies its BLAS entry points.
public protocol KernelScalar: Real, BinaryFloatingPoint, BitwiseCopyable, Sendable {
  /// Row-major GEMM: C[m x n] = alpha * op(A) * op(B) + beta * C, op = transpose when asked.
  /// Leading dimensions are in elements (row strides of the matrices as stored).
  static func blasGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
    a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Float: KernelScalar {
  /// Calls OpenBLAS `cblas_sgemm`.
  @inlinable
  public static func blasGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
      blasint(ldc))
  }
}

extension Double: KernelScalar {
  /// Calls OpenBLAS `cblas_dgemm`.
  @inlinable
  public static func blasGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
    a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
      blasint(ldc))
  }
}

/// Sets the number of threads OpenBLAS may use (the engine parallelises over the batch itself,
/// so it keeps OpenBLAS at one thread by default to avoid nested pools).
public func setBLASThreads(_ count: Int) {
  openblas_set_num_threads(Int32(max(1, count)))
}

/// The number of threads OpenBLAS is configured to use.
public func blasThreads() -> Int { Int(openblas_get_num_threads()) }
