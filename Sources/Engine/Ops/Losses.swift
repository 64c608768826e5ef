import Kernels
import RealModule

/// How a loss combines per-element losses.
public enum LossReduction: String, Sendable {
  case mean, sum, none
}

/// Cross-entropy of logits [N, C] against class indices [N] (PyTorch's F.cross_entropy):
/// loss_i = -w[y_i] log softmax(x_i)[y_i]. With class `weight`, the mean divides by the sum of
/// the targets' weights. Targets equal to `ignoreIndex` contribute nothing.
public func crossEntropy<T: KernelScalar>(
  _ logits: Tensor<T>, _ target: IntTensor, weight: Tensor<T>? = nil,
  reduction: LossReduction = .mean, ignoreIndex: Int = -100
) -> Tensor<T> {
  precondition(logits.rank == 2, "cross_entropy logits must be [N, C], got \(logits.shape)")
  let n = logits.shape[0]
  let c = logits.shape[1]
  precondition(target.shape == [n], "cross_entropy target must be [\(n)], got \(target.shape)")
  if let weight { precondition(weight.shape == [c], "cross_entropy weight must be [\(c)], got \(weight.shape)") }
  for y in target.values where y != ignoreIndex {
    precondition(y >= 0 && y < c, "cross_entropy target \(y) out of range for \(c) classes")
  }
  let logp: [T] = makeArray(n * c) { out in
    logits.scalars.withUnsafeBufferPointer {
      AxisKernels.softmax($0.baseAddress!, outer: n, n: c, inner: 1, log: true, out)
    }
  }
  var perSample = [T](repeating: 0, count: n)
  var wOf = [T](repeating: 0, count: n)
  for i in 0..<n {
    let y = target.values[i]
    if y == ignoreIndex { continue }
    let wi = weight?.scalars[y] ?? 1
    wOf[i] = wi
    perSample[i] = -wi * logp[i * c + y]
  }
  let denom = wOf.reduce(0, +)
  let value: [T]
  let shape: [Int]
  switch reduction {
  case .none:
    value = perSample
    shape = [n]
  case .sum:
    value = [perSample.reduce(0, +)]
    shape = []
  case .mean:
    value = [perSample.reduce(0, +) / denom]
    shape = []
  }
  return .result(shape: shape, scalars: value, inputs: [logits]) { g in
    var dx = [T](repeating: 0, count: n * c)
    for i in 0..<n {
      let y = target.values[i]
      if y == ignoreIndex { continue }
      let scale: T
      switch reduction {
      case .none: scale = g[i] * wOf[i]
      case .sum: scale = g[0] * wOf[i]
      case .mean: scale = g[0] * wOf[i] / denom
      }
      for j in 0..<c { dx[i * c + j] = scale * T.exp(logp[i * c + j]) }
      dx[i * c + y] -= scale
    }
    return [dx]
  }
}

/// Applies a reduction to per-element losses (a composed, differentiable step).
func reduce<T: KernelScalar>(_ t: Tensor<T>, _ reduction: LossReduction) -> Tensor<T> {
  switch reduction {
  case .none: return t
  case .sum: return t.sum()
  case .mean: return t.mean()
  }
}

/// Mean squared error (PyTorch's F.mse_loss): reduce((input - target)^2).
public func mseLoss<T: KernelScalar>(_ input: Tensor<T>, _ target: Tensor<T>, reduction: LossReduction = .mean)
  -> Tensor<T>
{
  precondition(input.shape == target.shape, "mse_loss: shapes \(input.shape) and \(target.shape) differ")
  return reduce((input - target).pow(2), reduction)
}

/// Binary cross-entropy on logits (PyTorch's F.binary_cross_entropy_with_logits), computed stably:
/// l = (1 - y) x + (1 + (p - 1) y) (log(1 + exp(-|x|)) + max(-x, 0)), p = posWeight (default 1).
public func binaryCrossEntropyWithLogits<T: KernelScalar>(
  _ logits: Tensor<T>, _ target: Tensor<T>, posWeight: T = 1, reduction: LossReduction = .mean
) -> Tensor<T> {
  precondition(logits.shape == target.shape, "bce_with_logits: shapes \(logits.shape) and \(target.shape) differ")
  let x = logits.scalars
  let y = target.scalars
  var l = [T](repeating: 0, count: x.count)
  for i in x.indices {
    let sp = T.log(onePlus: T.exp(-Swift.abs(x[i]))) + Swift.max(-x[i], 0)  // softplus(-x)
    l[i] = (1 - y[i]) * x[i] + (1 + (posWeight - 1) * y[i]) * sp
  }
  let perElement = Tensor.result(shape: logits.shape, scalars: l, inputs: [logits, target]) { g in
    var gx: [T]? = nil
    var gy: [T]? = nil
    if logits.requiresGrad {
      gx = (0..<x.count).map { i in
        let sig = 1 / (1 + T.exp(-x[i]))
        let lw = 1 + (posWeight - 1) * y[i]
        return g[i] * ((1 - y[i]) - lw * (1 - sig))
      }
    }
    if target.requiresGrad {
      gy = (0..<x.count).map { i in
        let sp = T.log(onePlus: T.exp(-Swift.abs(x[i]))) + Swift.max(-x[i], 0)
        return g[i] * (-x[i] + (posWeight - 1) * sp)
      }
    }
    return [gx, gy]
  }
  return reduce(perElement, reduction)
}
