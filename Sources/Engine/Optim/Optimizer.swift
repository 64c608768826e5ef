import Foundation

/// A first-order optimiser over a fixed list of parameters, with PyTorch's update rules.
public protocol Optimizer: AnyObject {
  /// The parameters being optimised.
  var parameters: [Tensor<Float>] { get }
  /// Current learning rate (schedules set it each epoch).
  var learningRate: Double { get set }
  /// Applies one update from the parameters' current `.grad` (parameters without a gradient are skipped).
  func step()
}

extension Optimizer {
  /// Clears every parameter's gradient.
  public func zeroGrad() { for p in parameters { p.grad = nil } }
}

/// Stochastic gradient descent (torch.optim.SGD): with weight decay wd, momentum mu, dampening d:
/// g += wd p; b = g on the first step, else b = mu b + (1 - d) g; g = nesterov ? g + mu b : b; p -= lr g.
public final class SGD: Optimizer {
  public let parameters: [Tensor<Float>]
  public var learningRate: Double
  public let momentum, dampening, weightDecay: Double
  public let nesterov: Bool
  private var buffers: [[Float]?]

  public init(
    _ parameters: [Tensor<Float>], lr: Double, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
    nesterov: Bool = false
  ) {
    precondition(
      !nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum requires a momentum and zero dampening")
    self.parameters = parameters
    learningRate = lr
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    buffers = Array(repeating: nil, count: parameters.count)
  }

  public func step() {
    let lr = Float(learningRate)
    let mu = Float(momentum)
    let wd = Float(weightDecay)
    let damp = Float(1 - dampening)
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad?.scalars else { continue }
      var g = grad
      if wd != 0 { p.scalars.withUnsafeBufferPointer { pv in for j in g.indices { g[j] += wd * pv[j] } } }
      if mu != 0 {
        if var b = buffers[i] {
          for j in b.indices { b[j] = mu * b[j] + damp * g[j] }
          buffers[i] = b
        } else {
          buffers[i] = g
        }
        let b = buffers[i]!
        if nesterov { for j in g.indices { g[j] += mu * b[j] } } else { g = b }
      }
      p.withMutableScalars { pv in for j in pv.indices { pv[j] -= lr * g[j] } }
    }
  }
}

/// Adam and AdamW (torch.optim.Adam / AdamW). Adam adds weight decay to the gradient (L2);
/// AdamW decays the parameter directly, p *= 1 - lr wd. Then m = b1 m + (1-b1) g,
/// v = b2 v + (1-b2) g^2, p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
public final class Adam: Optimizer {
  public let parameters: [Tensor<Float>]
  public var learningRate: Double
  public let beta1, beta2, eps, weightDecay: Double
  public let decoupled, amsgrad: Bool
  fileprivate var m: [[Float]?], v: [[Float]?], vMax: [[Float]?]
  fileprivate var t: [Int]

  /// Adam; `decoupled` gives AdamW's weight decay.
  public init(
    _ parameters: [Tensor<Float>], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 0, decoupled: Bool = false, amsgrad: Bool = false
  ) {
    self.parameters = parameters
    learningRate = lr
    beta1 = betas.0
    beta2 = betas.1
    self.eps = eps
    self.weightDecay = weightDecay
    self.decoupled = decoupled
    self.amsgrad = amsgrad
    m = Array(repeating: nil, count: parameters.count)
    v = m
    vMax = m
    t = Array(repeating: 0, count: parameters.count)
  }

  /// AdamW with PyTorch's default weight decay 0.01.
  public static func adamW(
    _ parameters: [Tensor<Float>], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8,
    weightDecay: Double = 1e-2
  ) -> Adam {
    Adam(parameters, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay, decoupled: true)
  }

  public func step() {
    // Coefficients are formed in Double and rounded once, as PyTorch passes Python floats.
    let b1 = Float(beta1)
    let b2 = Float(beta2)
    let epsF = Float(eps)
    let c1 = Float(1 - beta1)
    let c2 = Float(1 - beta2)
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad?.scalars else { continue }
      t[i] += 1
      var g = grad
      if weightDecay != 0 {
        if decoupled {
          let f = Float(1 - learningRate * weightDecay)
          p.withMutableScalars { pv in for j in pv.indices { pv[j] *= f } }
        } else {
          let wd = Float(weightDecay)
          p.scalars.withUnsafeBufferPointer { pv in for j in g.indices { g[j] += wd * pv[j] } }
        }
      }
      var mi = m[i] ?? [Float](repeating: 0, count: g.count)
      var vi = v[i] ?? [Float](repeating: 0, count: g.count)
      for j in g.indices {
        mi[j] = mi[j] * b1 + c1 * g[j]
        vi[j] = vi[j] * b2 + c2 * (g[j] * g[j])
      }
      m[i] = mi
      v[i] = vi
      var second = vi
      if amsgrad {
        var mx = vMax[i] ?? [Float](repeating: 0, count: g.count)
        for j in mx.indices { mx[j] = max(mx[j], vi[j]) }
        vMax[i] = mx
        second = mx
      }
      let bc1 = 1 - pow(beta1, Double(t[i]))
      let bc2 = 1 - pow(beta2, Double(t[i]))
      let stepSize = Float(learningRate / bc1)
      let bc2Sqrt = Float(bc2.squareRoot())
      p.withMutableScalars { pv in
        for j in pv.indices {
          let denom = second[j].squareRoot() / bc2Sqrt + epsF
          pv[j] -= stepSize * (mi[j] / denom)
        }
      }
    }
  }
}

/// Scales all gradients so their joint L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
/// factor maxNorm / (norm + 1e-6) when below 1). Returns the norm before clipping.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor<Float>], maxNorm: Double) -> Double {
  var total = 0.0
  for p in parameters { if let g = p.grad { for x in g.scalars { total += Double(x) * Double(x) } } }
  let norm = total.squareRoot()
  let coef = maxNorm / (norm + 1e-6)
  if coef < 1 {
    for p in parameters {
      if let g = p.grad { p.grad = Tensor(shape: g.shape, scalars: g.scalars.map { $0 * Float(coef) }) }
    }
  }
  return norm
}

/// Learning rate as a function of the epoch (0-based).
public enum LearningRateSchedule: Sendable, Equatable {
  /// Constant rate.
  case constant
  /// torch.optim.lr_scheduler.StepLR: base * gamma^floor(epoch / stepSize).
  case step(stepSize: Int, gamma: Double)
  /// CosineAnnealingLR (closed form): etaMin + (base - etaMin)(1 + cos(pi epoch / tMax)) / 2.
  case cosine(tMax: Int, etaMin: Double)

  /// The rate at `epoch` for a base rate `base`.
  public func rate(base: Double, epoch: Int) -> Double {
    switch self {
    case .constant: return base
    case .step(let s, let g): return base * pow(g, Double(epoch / max(1, s)))
    case .cosine(let tMax, let etaMin):
      return etaMin + (base - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(max(1, tMax)))) / 2
    }
  }
}

extension Adam {
  /// The optimiser's state (moments and step counts per parameter index) for resuming training.
  public func stateArchive() -> TensorArchive {
    var a = TensorArchive()
    for i in parameters.indices where t[i] > 0 {
      a.tensors.append(StoredTensor(name: "m/\(i)", shape: [m[i]!.count], floats: m[i]!))
      a.tensors.append(StoredTensor(name: "v/\(i)", shape: [v[i]!.count], floats: v[i]!))
      if let mx = vMax[i] { a.tensors.append(StoredTensor(name: "vmax/\(i)", shape: [mx.count], floats: mx)) }
      a.tensors.append(StoredTensor(name: "t/\(i)", shape: [1], ints: [t[i]]))
    }
    return a
  }

  /// Restores state saved by `stateArchive()`; sizes must match the parameters.
  public func loadState(_ a: TensorArchive) throws {
    for i in parameters.indices {
      guard let mi = a["m/\(i)"] else { continue }
      let vi = try a.require("v/\(i)")
      let ti = try a.require("t/\(i)")
      guard mi.count == parameters[i].count, vi.count == parameters[i].count else {
        throw CheckpointError(
          "optimizer state for parameter \(i) has \(mi.count) values, the parameter has \(parameters[i].count)")
      }
      m[i] = try mi.floats()
      v[i] = try vi.floats()
      vMax[i] = try a["vmax/\(i)"]?.floats()
      t[i] = try ti.ints()[0]
    }
  }
}
