import Engine
import Kernels

/// The covert attention of HSAL-RL: a mixture of K Gaussians over the h x w grid of the activation
/// volume, its product with the saliency map (the priority map), the mask-weighted initial glimpse,
/// and inhibition of return. Every function is differentiable and generic, so the finite-difference
/// tests run in Double.
public enum GaussianAttention {
  /// The attention head's raw output [N, 4K], ordered (alpha, beta, kappa1, kappa2), brought to range:
  /// alpha = softmax over the K components, beta = lower + (upper - lower) * sigmoid (the paper's
  /// exp(.) constrained to [1.5, 2.0], smoothly), kappa1 = sigmoid * h and kappa2 = sigmoid * w
  /// (centres in the paper's 1-based cell coordinates). Each result is [N, K].
  public static func components<T: KernelScalar>(
    _ raw: Tensor<T>, k: Int, height: Int, width: Int, beta: ClosedRange<T>
  ) -> (alpha: Tensor<T>, beta: Tensor<T>, kappa1: Tensor<T>, kappa2: Tensor<T>) {
    precondition(raw.rank == 2 && raw.shape[1] == 4 * k, "attention parameters must be [N, \(4 * k)], got \(raw.shape)")
    let alpha = raw.slice(dim: 1, start: 0, end: k).softmax(dim: 1)
    let b = raw.slice(dim: 1, start: k, end: 2 * k).sigmoid() * (beta.upperBound - beta.lowerBound) + beta.lowerBound
    let kappa1 = raw.slice(dim: 1, start: 2 * k, end: 3 * k).sigmoid() * T(height)
    let kappa2 = raw.slice(dim: 1, start: 3 * k, end: 4 * k).sigmoid() * T(width)
    return (alpha, b, kappa1, kappa2)
  }

  /// The mask M [N, h, w]: M[i, j] = sum_k alpha_k exp(-beta_k ((kappa1_k - i)^2 + (kappa2_k - j)^2))
  /// at i = 1...h, j = 1...w (paper, eq. for phi). Inputs [N, K] each.
  public static func mask<T: KernelScalar>(
    alpha: Tensor<T>, beta: Tensor<T>, kappa1: Tensor<T>, kappa2: Tensor<T>, height: Int, width: Int
  ) -> Tensor<T> {
    let n = alpha.shape[0]
    let k = alpha.shape[1]
    let rows = Tensor<T>(shape: [1, 1, height, 1], scalars: (1...height).map { T($0) })
    let cols = Tensor<T>(shape: [1, 1, 1, width], scalars: (1...width).map { T($0) })
    let dy = kappa1.reshaped([n, k, 1, 1]) - rows
    let dx = kappa2.reshaped([n, k, 1, 1]) - cols
    let distance = dy * dy + dx * dx  // [N, K, h, w]
    let gaussians = (beta.reshaped([n, k, 1, 1]) * distance * T(-1)).exp()
    return (alpha.reshaped([n, k, 1, 1]) * gaussians).sum(dim: 1)
  }

  /// The priority map P = M * S, flattened [N, h * w]. It lies in [0, 1] without rescaling (the
  /// paper's "normalised"): S is normalised to [0, 1] and M <= sum_k alpha_k = 1. Not rescaling by its
  /// own maximum keeps the location reward (P at the glimpse) high only where the mask lies on salient
  /// cells; rescaled, a mask on empty background would still offer a reward of 1 at its best cell.
  /// mask [N, h, w] or [N, h * w]; saliency [N, h * w].
  public static func priority<T: KernelScalar>(mask: Tensor<T>, saliency: Tensor<T>) -> Tensor<T> {
    mask.reshaped([saliency.shape[0], saliency.shape[1]]) * saliency
  }

  /// The initial glimpse g0 = sum_ij M_ij V[:, i, j]: mask [N, h * w] (or [N, h, w]), volume
  /// [N, C, h * w] -> [N, C].
  public static func initialGlimpse<T: KernelScalar>(mask: Tensor<T>, volume: Tensor<T>) -> Tensor<T> {
    let n = volume.shape[0]
    return (mask.reshaped([n, 1, volume.shape[2]]) * volume).sum(dim: 2)
  }

  /// Inhibition of return: S' = 0 at the glimpsed locations, max(S - M, 0) elsewhere. saliency and mask
  /// [N, h * w]; glimpsed [N][locations] (constant).
  public static func inhibitionOfReturn<T: KernelScalar>(
    saliency: Tensor<T>, mask: Tensor<T>, glimpsed: [[Int]]
  ) -> Tensor<T> {
    let n = saliency.shape[0]
    let l = saliency.shape[1]
    var keep = [T](repeating: 1, count: n * l)
    for (b, locations) in glimpsed.enumerated() { for a in locations { keep[b * l + a] = 0 } }
    return (saliency - mask.reshaped([n, l])).relu() * Tensor(shape: [n, l], scalars: keep)
  }

  /// The saliency map of an activation volume: S = sum over channels of V^2 (the reduction F of
  /// Zagoruyko and Komodakis), per example. volume [N, C, L] scalars -> raw saliency [N][L].
  public static func rawSaliency(volume: [Float], n: Int, channels: Int, locations: Int) -> [[Float]] {
    (0..<n).map { b in
      var s = [Float](repeating: 0, count: locations)
      for c in 0..<channels {
        let base = (b * channels + c) * locations
        for l in 0..<locations { s[l] += volume[base + l] * volume[base + l] }
      }
      return s
    }
  }
}
