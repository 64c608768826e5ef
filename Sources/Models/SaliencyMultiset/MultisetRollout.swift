import Engine
import Foundation

/// Which action a step of the controller takes.
public enum ControllerStep: Sendable, Equatable {
  /// Glimpse `index` (0-based) of meta step `meta`: a location of V.
  case glimpse(meta: Int, index: Int)
  /// The class step of meta step `meta`: a digit or "stop".
  case label(meta: Int)
}

/// Chooses the actions of a step from its log-probabilities [N, A] (sampling, greedy, or scripted).
public typealias ActionPolicy = (_ logProbabilities: Tensor<Float>, _ step: ControllerStep) -> [Int]

/// Ready-made policies.
public enum ActionPolicies {
  /// Samples each row's action from its categorical distribution with `rng` (one draw per example,
  /// in example order).
  public static func sampling(_ rng: RandomGenerator) -> ActionPolicy {
    let box = RandomBox(rng)
    return { logp, _ in
      let a = logp.shape[1]
      return (0..<logp.shape[0]).map { b in
        let u = box.rng.nextUnit()
        var cumulative = 0.0
        for j in 0..<a {
          cumulative += exp(Double(logp.scalars[b * a + j]))
          if u < cumulative { return j }
        }
        return a - 1
      }
    }
  }

  /// The most probable action (the first on ties): the paper's greedy inference.
  public static func greedy() -> ActionPolicy {
    { logp, _ in
      let a = logp.shape[1]
      return (0..<logp.shape[0]).map { b in
        var best = 0
        for j in 1..<a where logp.scalars[b * a + j] > logp.scalars[b * a + best] { best = j }
        return best
      }
    }
  }
}

/// A generator shared by a sampling policy's calls.
final class RandomBox: @unchecked Sendable {
  var rng: RandomGenerator
  init(_ rng: RandomGenerator) { self.rng = rng }
}

/// One example's attention at one meta step, for the figures: the saliency map S_t (normalised), the
/// mask M_t and the priority map P_t (each h * w, row-major), the glimpse locations and the label.
public struct MetaStepVisual: Sendable {
  public var saliency, mask, priority: [Float]
  public var glimpses: [Int]
  public var label: Int
}

/// What a rollout over a batch did, step by step, with the graph tensors the losses need.
public struct MultisetRollout {
  /// Meta steps run.
  public var steps: Int
  /// log-softmax of the glimpse steps [t][i] -> [N, locations] and of the class steps [t] -> [N, outcomes].
  public var glimpseLogProbabilities: [[Tensor<Float>]] = []
  public var labelLogProbabilities: [Tensor<Float>] = []
  /// State-value estimates (from the detached controller state) [t][i] and [t] -> [N, 1].
  public var glimpseValues: [[Tensor<Float>]] = []
  public var labelValues: [Tensor<Float>] = []
  /// Actions: glimpse locations [t][i][b] and labels [t][b] (index `classes` is "stop").
  public var glimpses: [[[Int]]] = []
  public var labels: [[Int]] = []
  /// The priority P_t at each glimpse [t][i][b] (the location reward), and the saliency
  /// S_t there in the raw units of sum_c V^2 [t][i][b] (attn_saliency).
  public var priorityAtGlimpse: [[[Float]]] = []
  public var rawSaliencyAtGlimpse: [[[Float]]] = []
  /// S_t at each glimpse as the network sees it (normalised to the canvas's maximum) [t][i][b].
  public var saliencyAtGlimpse: [[[Float]]] = []
  /// Per example (the first `visualize`), per meta step: maps and actions.
  public var visuals: [[MetaStepVisual]] = []

  /// Example b's labels up to (not including) its first "stop", or all when it never stops.
  public func predicted(_ b: Int, stop: Int) -> [Int] {
    var out: [Int] = []
    for t in 0..<steps {
      if labels[t][b] == stop { break }
      out.append(labels[t][b])
    }
    return out
  }
}

extension SaliencyMultisetNet {
  /// The activation volumes of canvases [N, 1, side, side] without a graph: V [N, C, h * w] scalars.
  public func volumes(_ canvases: Tensor<Float>) -> [Float] {
    withNoGrad { activation.volume(canvases).scalars }
  }

  /// Runs the meta-controller and controller over activation volumes `volume` ([N, C, h * w]
  /// scalars) for `steps` meta steps: each meta step encodes [S_t, onehot(y_{t-1})], steps the GRU,
  /// forms the Gaussian mask M_t, the priority map P_t = M_t * S_t and the initial glimpse
  /// g0 = sum M_t V (V scaled by its maximum per example); then the controller (state reset to 0)
  /// takes `config.glimpses` glimpse steps (location from `policy`, glimpse = V[:, location]) and a
  /// class step (label or "stop" from `policy`), each from [P_t, onehot(y_{t-1}), onehot(a_{i-1}),
  /// g_{i-1}]; finally inhibition of return gives S_{t+1}. y_{t-1} is the chosen label, or
  /// `feedback[t-1][b]` when given (teacher forcing, for the cross-entropy baseline).
  /// `stopWhenDone` ends the rollout once every example has chosen "stop" (inference).
  public func rollout(
    volume: [Float], batch n: Int, steps: Int, policy: ActionPolicy, feedback: [[Int]]? = nil,
    stopWhenDone: Bool = false, visualize: Int = 0
  ) -> MultisetRollout {
    let c = config
    let l = c.locations
    let ch = c.channels
    precondition(volume.count == n * ch * l, "rollout: volume must be [\(n), \(ch), \(l)], got \(volume.count) values")
    // V scaled by its maximum per example (the glimpse vectors), and the saliency normalised to [0, 1].
    var scaled = volume
    for b in 0..<n {
      let range = (b * ch * l)..<((b + 1) * ch * l)
      let peak = volume[range].max() ?? 0
      if peak > 0 { for i in range { scaled[i] = volume[i] / peak } }
    }
    let v = Tensor<Float>(shape: [n, ch, l], scalars: scaled)
    let raw = GaussianAttention.rawSaliency(volume: volume, n: n, channels: ch, locations: l)
    let rawPeak = raw.map { $0.max() ?? 0 }
    var s0 = [Float](repeating: 0, count: n * l)
    for b in 0..<n where rawPeak[b] > 0 { for j in 0..<l { s0[b * l + j] = raw[b][j] / rawPeak[b] } }
    var saliency = Tensor<Float>(shape: [n, l], scalars: s0)

    var out = MultisetRollout(steps: 0)
    out.visuals = Array(repeating: [], count: min(visualize, n))
    var metaState = Tensor<Float>.zeros([n, c.metaHidden])
    var previousLabel = Tensor<Float>.zeros([n, c.outcomes])
    var stopped = [Bool](repeating: false, count: n)
    let beta = c.betaLower...c.betaUpper
    for t in 0..<steps {
      metaState = metaGRU.step(metaEncoder(concat([saliency, previousLabel], dim: 1)), metaState)
      let p = GaussianAttention.components(
        attentionHead(metaState), k: c.components, height: c.gridSide, width: c.gridSide, beta: beta)
      let mask = GaussianAttention.mask(
        alpha: p.alpha, beta: p.beta, kappa1: p.kappa1, kappa2: p.kappa2, height: c.gridSide, width: c.gridSide
      ).reshaped([n, l])
      let priority = GaussianAttention.priority(mask: mask, saliency: saliency)
      var glimpse = GaussianAttention.initialGlimpse(mask: mask, volume: v)
      var previousLocation = Tensor<Float>.zeros([n, l])
      var state = Tensor<Float>.zeros([n, c.controllerHidden])
      var stepLogp: [Tensor<Float>] = []
      var stepValues: [Tensor<Float>] = []
      var stepGlimpses: [[Int]] = []
      var stepPriority: [[Float]] = []
      var stepRaw: [[Float]] = []
      var stepSaliency: [[Float]] = []
      func controllerStep() {
        state = controllerGRU.step(
          controllerEncoder(concat([priority, previousLabel, previousLocation, glimpse], dim: 1)), state)
      }
      for i in 0..<c.glimpses {
        controllerStep()
        let logp = locationHead(state).logSoftmax(dim: 1)
        let a = policy(logp, .glimpse(meta: t, index: i))
        stepLogp.append(logp)
        stepValues.append(valueHead(state.detached()))
        stepGlimpses.append(a)
        stepPriority.append((0..<n).map { priority.scalars[$0 * l + a[$0]] })
        stepSaliency.append((0..<n).map { saliency.scalars[$0 * l + a[$0]] })
        stepRaw.append((0..<n).map { stepSaliency[i][$0] * rawPeak[$0] })
        previousLocation = oneHot(IntTensor(shape: [n], values: a), classes: l)
        var g = [Float](repeating: 0, count: n * ch)
        for b in 0..<n { for k in 0..<ch { g[b * ch + k] = scaled[(b * ch + k) * l + a[b]] } }
        glimpse = Tensor(shape: [n, ch], scalars: g)
      }
      controllerStep()
      let labelLogp = labelHead(state).logSoftmax(dim: 1)
      let y = policy(labelLogp, .label(meta: t))
      out.glimpseLogProbabilities.append(stepLogp)
      out.glimpseValues.append(stepValues)
      out.glimpses.append(stepGlimpses)
      out.priorityAtGlimpse.append(stepPriority)
      out.rawSaliencyAtGlimpse.append(stepRaw)
      out.saliencyAtGlimpse.append(stepSaliency)
      out.labelLogProbabilities.append(labelLogp)
      out.labelValues.append(valueHead(state.detached()))
      out.labels.append(y)
      out.steps = t + 1
      for b in 0..<out.visuals.count {
        out.visuals[b].append(
          MetaStepVisual(
            saliency: Array(saliency.scalars[(b * l)..<((b + 1) * l)]),
            mask: Array(mask.scalars[(b * l)..<((b + 1) * l)]),
            priority: Array(priority.scalars[(b * l)..<((b + 1) * l)]), glimpses: stepGlimpses.map { $0[b] },
            label: y[b]))
      }
      for b in 0..<n where y[b] == c.stop { stopped[b] = true }
      if stopWhenDone && !stopped.contains(false) { break }
      let fed = feedback.map { f in (0..<n).map { t < f.count ? f[t][$0] : c.stop } } ?? y
      previousLabel = oneHot(IntTensor(shape: [n], values: fed), classes: c.outcomes)
      let visited = (0..<n).map { b in stepGlimpses.map { $0[b] } }
      saliency = GaussianAttention.inhibitionOfReturn(saliency: saliency, mask: mask, glimpsed: visited)
    }
    return out
  }
}
