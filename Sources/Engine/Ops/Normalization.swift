import Kernels
import RealModule

/// Batch normalisation over channel dim 1 of [N, C] or [N, C, *] (PyTorch's F.batch_norm).
/// Training: normalises with the batch mean and biased variance and, when running statistics are
/// given, updates them in place: running = (1 - momentum) running + momentum * batch statistic, with
/// the unbiased variance. Evaluation: normalises with the running statistics.
public func batchNorm<T: KernelScalar>(
  _ x: Tensor<T>, runningMean: Tensor<T>?, runningVar: Tensor<T>?, weight: Tensor<T>?,
  bias: Tensor<T>?, training: Bool, momentum: T = 0.1, eps: T = 1e-5
) -> Tensor<T> {
  precondition(x.rank >= 2, "batch_norm input must be [N, C, ...], got \(x.shape)")
  let n = x.shape[0]
  let c = x.shape[1]
  let inner = x.shape[2...].reduce(1, *)
  let m = n * inner
  for t in [runningMean, runningVar, weight, bias] {
    if let t { precondition(t.shape == [c], "batch_norm parameter must be [\(c)], got \(t.shape)") }
  }
  var mean = [T](repeating: 0, count: c)
  var invStd = [T](repeating: 0, count: c)
  let xs = x.scalars
  if training {
    precondition(m > 1, "batch_norm in training needs more than one value per channel, got input \(x.shape)")
    var variance = [T](repeating: 0, count: c)
    for ch in 0..<c {
      var s: T = 0
      for i in 0..<n { for j in 0..<inner { s += xs[(i * c + ch) * inner + j] } }
      let mu = s / T(m)
      var v: T = 0
      for i in 0..<n {
        for j in 0..<inner {
          let d = xs[(i * c + ch) * inner + j] - mu
          v += d * d
        }
      }
      mean[ch] = mu
      variance[ch] = v / T(m)
      invStd[ch] = 1 / (variance[ch] + eps).squareRoot()
    }
    if let runningMean, let runningVar {
      runningMean.assign((0..<c).map { (1 - momentum) * runningMean.scalars[$0] + momentum * mean[$0] })
      runningVar.assign(
        (0..<c).map { (1 - momentum) * runningVar.scalars[$0] + momentum * variance[$0] * T(m) / T(m - 1) })
    }
  } else {
    precondition(runningMean != nil && runningVar != nil, "batch_norm in evaluation needs running statistics")
    mean = runningMean!.scalars
    invStd = runningVar!.scalars.map { 1 / ($0 + eps).squareRoot() }
  }
  let w = weight?.scalars
  let b = bias?.scalars
  var xhat = [T](repeating: 0, count: xs.count)
  var out = [T](repeating: 0, count: xs.count)
  for i in 0..<n {
    for ch in 0..<c {
      let base = (i * c + ch) * inner
      let scale = w?[ch] ?? 1
      let shift = b?[ch] ?? 0
      for j in 0..<inner {
        let h = (xs[base + j] - mean[ch]) * invStd[ch]
        xhat[base + j] = h
        out[base + j] = h * scale + shift
      }
    }
  }
  var inputs = [x]
  if let weight { inputs.append(weight) }
  if let bias { inputs.append(bias) }
  return .result(shape: x.shape, scalars: out, inputs: inputs, op: .batchNorm) { g in
    var sumG = [T](repeating: 0, count: c)
    var sumGX = [T](repeating: 0, count: c)
    for i in 0..<n {
      for ch in 0..<c {
        let base = (i * c + ch) * inner
        for j in 0..<inner {
          sumG[ch] += g[base + j]
          sumGX[ch] += g[base + j] * xhat[base + j]
        }
      }
    }
    var grads: [[T]?] = []
    if x.requiresGrad {
      var dx = [T](repeating: 0, count: xs.count)
      for i in 0..<n {
        for ch in 0..<c {
          let base = (i * c + ch) * inner
          let scale = (w?[ch] ?? 1) * invStd[ch]
          for j in 0..<inner {
            if training {
              dx[base + j] = scale * (g[base + j] - sumG[ch] / T(m) - xhat[base + j] * sumGX[ch] / T(m))
            } else {
              dx[base + j] = scale * g[base + j]
            }
          }
        }
      }
      grads.append(dx)
    } else {
      grads.append(nil)
    }
    if weight != nil { grads.append(sumGX) }
    if bias != nil { grads.append(sumG) }
    return grads
  }
}

/// Local response normalisation across channels (PyTorch's F.local_response_norm):
/// y_c = x_c / (k + alpha/size * sum_{c' in window(c)} x_{c'}^2)^beta, the window running from
/// c - size/2 to c + (size-1)/2, clipped to the valid channels.
public func localResponseNorm<T: KernelScalar>(
  _ x: Tensor<T>, size: Int, alpha: T = 1e-4, beta: T = 0.75, k: T = 1
) -> Tensor<T> {
  precondition(x.rank >= 3, "local_response_norm input must be [N, C, *], got \(x.shape)")
  precondition(size > 0, "local_response_norm size must be positive")
  let n = x.shape[0]
  let c = x.shape[1]
  let inner = x.shape[2...].reduce(1, *)
  let xs = x.scalars
  let lo = size / 2
  let hi = (size - 1) / 2
  var scale = [T](repeating: 0, count: xs.count)
  var out = [T](repeating: 0, count: xs.count)
  for i in 0..<n {
    for ch in 0..<c {
      for j in 0..<inner {
        var s: T = 0
        for cc in Swift.max(0, ch - lo)...Swift.min(c - 1, ch + hi) {
          let v = xs[(i * c + cc) * inner + j]
          s += v * v
        }
        let idx = (i * c + ch) * inner + j
        scale[idx] = k + alpha / T(size) * s
        out[idx] = xs[idx] * T.pow(scale[idx], -beta)
      }
    }
  }
  return .result(shape: x.shape, scalars: out, inputs: [x]) { g in
    // dx_j = g_j s_j^-b - 2 a b / size * x_j * sum_{i: j in window(i)} g_i x_i s_i^(-b-1)
    var t = [T](repeating: 0, count: xs.count)
    for idx in 0..<xs.count { t[idx] = g[idx] * xs[idx] * T.pow(scale[idx], -beta - 1) }
    var dx = [T](repeating: 0, count: xs.count)
    let coef = 2 * alpha * beta / T(size)
    for i in 0..<n {
      for ch in 0..<c {
        for j in 0..<inner {
          let idx = (i * c + ch) * inner + j
          var s: T = 0
          // channel ch lies in window(i') for i' from ch - hi to ch + lo
          for cc in Swift.max(0, ch - hi)...Swift.min(c - 1, ch + lo) { s += t[(i * c + cc) * inner + j] }
          dx[idx] = g[idx] * T.pow(scale[idx], -beta) - coef * xs[idx] * s
        }
      }
    }
    return [dx]
  }
}

/// Dropout: in training, zeroes each element with probability `p` (Bernoulli draws from `rng`) and
/// scales the rest by 1/(1-p); the identity otherwise.
public func dropout<T: KernelScalar>(_ x: Tensor<T>, p: Double, training: Bool, rng: inout RandomGenerator) -> Tensor<T>
{
  precondition(p >= 0 && p <= 1, "dropout probability must be in [0, 1], got \(p)")
  if !training || p == 0 { return x }
  let keep = T(p == 1 ? 0 : 1 / (1 - p))
  var mask = [T](repeating: 0, count: x.count)
  for i in 0..<x.count { mask[i] = rng.nextUnit() >= p ? keep : 0 }
  return x * Tensor(shape: x.shape, scalars: mask)
}
