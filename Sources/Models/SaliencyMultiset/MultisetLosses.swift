import Engine

/// How HSAL-RL's attention is trained.
public enum MultisetLoss: String, Sendable, CaseIterable, Codable {
  /// REINFORCE with the multiset class reward, the priority-map location reward and a learned value
  /// baseline (the paper's HSAL-RL).
  case reinforce
  /// Cross-entropy of each class step against the true labels in a random order (the paper's
  /// baseline); glimpse locations get no training signal.
  case crossEntropy = "cross-entropy"
}

/// The numbers of one batch's rollout, summed over its examples.
public struct MultisetBatchStats: Sendable, Equatable {
  public var examples = 0
  /// Class rewards (REINFORCE's, also computed for the baseline) and how many class steps earned them.
  public var classRewardSum = 0.0
  public var classSteps = 0
  /// Examples whose sampled labels up to the first "stop" are exactly the true multiset.
  public var exactMatches = 0
  /// Saliency at the glimpses of the steps that had a digit left to find: raw (sum_c V^2) and
  /// normalised by the canvas's maximum; and how many glimpses.
  public var rawSaliencySum = 0.0
  public var normalisedSaliencySum = 0.0
  public var glimpses = 0

  public init() {}

  /// Adds another batch's numbers.
  public mutating func add(_ o: MultisetBatchStats) {
    examples += o.examples
    classRewardSum += o.classRewardSum
    classSteps += o.classSteps
    exactMatches += o.exactMatches
    rawSaliencySum += o.rawSaliencySum
    normalisedSaliencySum += o.normalisedSaliencySum
    glimpses += o.glimpses
  }
}

/// The training objective of one rollout (example b has m_b = truth[b].count labels; meta steps
/// t = 0 ..< m_b find labels, step m_b must say "stop"). All terms are summed over steps and examples
/// and multiplied by `scale` (1 / batch size: the mean over the batch's examples).
///
/// REINFORCE (paper, section 4.2), for every step of t <= m_b with action a, log-probability log p(a),
/// reward R and value estimate V (from the detached controller state):
/// - glimpse steps: reward P_t = M_t S_t at the glimpse (the priority), t <= m_b;
/// - class steps t < m_b: reward +1 / -1 by `MultisetReward.classRewards` on the sampled labels;
/// - R is the discounted sum of the rewards from that action on (`multisetReturns`); with
///   `discount` 0 it is the action's own reward, the paper's formula as written; with a discount > 0
///   each action is credited with what follows it, as the stochastic-computation-graph estimator the
///   paper cites (Schulman et al. 2015) weights each sampled node by its downstream costs;
/// - surrogate -log p(a) (R - V) with V detached, plus value loss (V - R)^2 (which trains V only: its
///   input state is detached), minus `entropyBonus` times the policy's entropy at those steps;
/// - the class step t = m_b: cross-entropy -log p(stop).
/// Cross-entropy baseline: class step t < m_b: -log p(order_b[t]) with `order` the true labels in a
/// random order (also fed back as y_{t-1}), step m_b: -log p(stop); no location or value terms.
public func multisetObjective(
  _ r: MultisetRollout, truth: [[Int]], order: [[Int]]? = nil, loss: MultisetLoss, entropyBonus: Float,
  discount: Float = 0, stop: Int, scale: Float
) -> (loss: Tensor<Float>, stats: MultisetBatchStats) {
  let n = truth.count
  var stats = MultisetBatchStats()
  stats.examples = n
  var terms: [Tensor<Float>] = []
  let classRewards = (0..<n).map { b in
    MultisetReward.classRewards(predicted: (0..<min(truth[b].count, r.steps)).map { r.labels[$0][b] }, truth: truth[b])
  }
  for b in 0..<n {
    if MultisetReward.counts(r.predicted(b, stop: stop), classes: stop)
      == MultisetReward.counts(truth[b], classes: stop)
      && r.predicted(b, stop: stop).count == truth[b].count
    {
      stats.exactMatches += 1
    }
    stats.classRewardSum += Double(classRewards[b].reduce(0, +))
    stats.classSteps += classRewards[b].count
  }

  /// Adds sum_b w[b] * logp[b, action[b]] (+ entropy and value terms) for one step.
  func policyTerm(_ logp: Tensor<Float>, actions: [Int], weights: [Float], active: [Bool]) {
    let a = logp.shape[1]
    var w = [Float](repeating: 0, count: n * a)
    for b in 0..<n where active[b] { w[b * a + actions[b]] = weights[b] }
    terms.append((logp * Tensor(shape: [n, a], scalars: w)).sum())
    if entropyBonus > 0 {
      // -bonus * H = bonus * sum p log p over the active rows.
      let rows = Tensor<Float>(shape: [n, 1], scalars: active.map { $0 ? entropyBonus : 0 })
      terms.append((logp.exp() * logp * rows).sum())
    }
  }
  func valueTerm(_ value: Tensor<Float>, rewards: [Float], active: [Bool]) {
    let target = Tensor<Float>(shape: [n, 1], scalars: rewards)
    let on = Tensor<Float>(shape: [n, 1], scalars: active.map { $0 ? 1 : 0 })
    let d = value - target
    terms.append((d * d * on).sum())
  }

  let returns = multisetReturns(r, truth: truth, classRewards: classRewards, discount: discount)
  for t in 0..<r.steps {
    let finding = (0..<n).map { t < truth[$0].count }
    let stopping = (0..<n).map { t == truth[$0].count }
    let glimpsing = (0..<n).map { t <= truth[$0].count }
    for b in 0..<n where finding[b] {
      for i in 0..<r.glimpses[t].count {
        stats.rawSaliencySum += Double(r.rawSaliencyAtGlimpse[t][i][b])
        stats.normalisedSaliencySum += Double(r.saliencyAtGlimpse[t][i][b])
        stats.glimpses += 1
      }
    }
    let labelLogp = r.labelLogProbabilities[t]
    let outcomes = labelLogp.shape[1]
    switch loss {
    case .reinforce:
      for i in 0..<r.glimpses[t].count {
        let values = r.glimpseValues[t][i].scalars
        let target = returns.glimpse[t][i]
        policyTerm(
          r.glimpseLogProbabilities[t][i], actions: r.glimpses[t][i],
          weights: (0..<n).map { -(target[$0] - values[$0]) }, active: glimpsing)
        valueTerm(r.glimpseValues[t][i], rewards: target, active: glimpsing)
      }
      let values = r.labelValues[t].scalars
      let target = returns.label[t]
      policyTerm(labelLogp, actions: r.labels[t], weights: (0..<n).map { -(target[$0] - values[$0]) }, active: finding)
      valueTerm(r.labelValues[t], rewards: target, active: finding)
    case .crossEntropy:
      let targets = (0..<n).map { b in finding[b] ? (order ?? truth)[b][t] : stop }
      var w = [Float](repeating: 0, count: n * outcomes)
      for b in 0..<n where finding[b] { w[b * outcomes + targets[b]] = -1 }
      terms.append((labelLogp * Tensor(shape: [n, outcomes], scalars: w)).sum())
    }
    // The stop step: supervised in both.
    var w = [Float](repeating: 0, count: n * outcomes)
    for b in 0..<n where stopping[b] { w[b * outcomes + stop] = -1 }
    terms.append((labelLogp * Tensor(shape: [n, outcomes], scalars: w)).sum())
  }
  let total = terms.dropFirst().reduce(terms.first ?? Tensor<Float>(0)) { $0 + $1 }
  return (total * scale, stats)
}

/// Returns for REINFORCE: each example's actions in order (glimpses of meta step 0, its class step,
/// glimpses of step 1, ...), R = reward + discount * R_next, over the steps t <= m_b (glimpses) and
/// t < m_b (class steps); the rest are 0.
public func multisetReturns(
  _ r: MultisetRollout, truth: [[Int]], classRewards: [[Float]], discount: Float
) -> (glimpse: [[[Float]]], label: [[Float]]) {
  let n = truth.count
  var glimpse = r.glimpses.map { step in step.map { _ in [Float](repeating: 0, count: n) } }
  var label = r.labels.map { _ in [Float](repeating: 0, count: n) }
  for b in 0..<n {
    let m = truth[b].count
    var g: Float = 0
    for t in stride(from: r.steps - 1, through: 0, by: -1) {
      if t < m {
        g = classRewards[b][t] + discount * g
        label[t][b] = g
      }
      if t <= m {
        for i in stride(from: r.glimpses[t].count - 1, through: 0, by: -1) {
          g = r.priorityAtGlimpse[t][i][b] + discount * g
          glimpse[t][i][b] = g
        }
      }
    }
  }
  return (glimpse, label)
}
