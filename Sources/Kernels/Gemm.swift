/// Row-major GEMM through BLAS: C[m x n] = alpha * op(A) op(B) + beta * C.
/// A is m x k (or k x m when `transA`), B is k x n (or n x k when `transB`).
@inlinable
public func gemm<T: KernelScalar>(
  transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: T = 1,
  a: UnsafePointer<T>, lda: Int? = nil, b: UnsafePointer<T>, ldb: Int? = nil,
  beta: T = 0, c: UnsafeMutablePointer<T>, ldc: Int? = nil
) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    // BLAS leaves C scaled by beta; do it explicitly (some BLAS reject k = 0).
    let ldcV = ldc ?? n
    for i in 0..<m { for j in 0..<n { c[i * ldcV + j] = beta == 0 ? 0 : beta * c[i * ldcV + j] } }
    return
  }
  T.blasGemm(
    transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
    a: a, lda: lda ?? (transA ? m : k), b: b, ldb: ldb ?? (transB ? k : n),
    beta: beta, c: c, ldc: ldc ?? n)
}

/// Naive twin of `gemm` (triple loop, same conventions), used by tests.
@inlinable
public func naiveGemm<T: KernelScalar>(
  transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: T = 1,
  a: UnsafePointer<T>, b: UnsafePointer<T>, beta: T = 0, c: UnsafeMutablePointer<T>
) {
  for i in 0..<m {
    for j in 0..<n {
      var acc: T = 0
      for p in 0..<k {
        let av = transA ? a[p * m + i] : a[i * k + p]
        let bv = transB ? b[j * k + p] : b[p * n + j]
        acc += av * bv
      }
      c[i * n + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * n + j])
    }
  }
}
