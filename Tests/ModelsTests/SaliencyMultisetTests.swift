import Datasets
import Engine
import Foundation
import Models
import Testing

/// HSAL-RL's pieces: the multiset reward and metrics on hand-made cases, the Gaussian attention and
/// inhibition of return against their formulas and finite differences in Double, and the whole
/// attention rollout with both objectives against a PyTorch implementation
/// (scripts/fixtures/make_saliency_multiset_fixtures.py) on fixed weights and fixed actions.
@Suite("Saliency-based multiset attention (HSAL-RL)")
struct SaliencyMultisetTests {
  @Test("multiset reward: duplicates, a label too many, stop early and late")
  func reward() {
    // Two 3s and a 5: each copy of 3 earns +1 once; a third 3 is -1.
    #expect(MultisetReward.classRewards(predicted: [3, 5, 3], truth: [3, 3, 5]) == [1, 1, 1])
    #expect(MultisetReward.classRewards(predicted: [3, 3, 3], truth: [3, 3, 5]) == [1, 1, -1])
    // Order does not matter.
    #expect(MultisetReward.classRewards(predicted: [5, 3, 3], truth: [3, 5, 3]) == [1, 1, 1])
    // Stop (10) before the end is a label not in the multiset: -1.
    #expect(MultisetReward.classRewards(predicted: [3, 10], truth: [3, 5]) == [1, -1])
    // A wrong label does not consume a copy.
    #expect(MultisetReward.classRewards(predicted: [7, 5], truth: [5]) == [-1, 1])
    #expect(MultisetReward.counts([3, 3, 5, 10], classes: 10) == [0, 0, 0, 2, 0, 1, 0, 0, 0, 0])
  }

  @Test("metrics on count vectors: exact match, per-class precision and recall, macro F1, by count")
  func metrics() {
    var m = MultisetMetrics(classes: 10)
    m.add(predicted: [3, 3], truth: [3, 3])  // exact, with a duplicate
    m.add(predicted: [3], truth: [3, 3])  // stopped early: recall of 3 is 1/2 here
    m.add(predicted: [5, 5, 1], truth: [5])  // stopped late: precision of 5 is 1/2, 1 is wrong
    #expect(m.examples == 3 && m.exactMatches == 1)
    #expect(abs(m.exactMatch - 1.0 / 3) < 1e-12)
    #expect(m.precision(3) == 1)
    #expect(abs(m.recall(3) - 0.75) < 1e-12)  // (1 + 1/2) / 2
    #expect(m.precision(5) == 0.5 && m.recall(5) == 1)
    #expect(m.precision(1) == 0 && m.recall(1) == 0)
    #expect(m.seenClasses == [1, 3, 5])
    let f3 = 2 * 0.75 / 1.75
    let f5 = 2 * 0.5 / 1.5
    #expect(abs(m.macroF1 - (f3 + f5 + 0) / 3) < 1e-12)
    #expect(m.exactMatch(count: 2) == 0.5 && m.exactMatch(count: 1) == 0 && m.exactMatch(count: 4) == nil)
    var perfect = MultisetMetrics(classes: 10)
    perfect.add(predicted: [9, 0, 9], truth: [9, 9, 0])
    #expect(perfect.exactMatch == 1 && perfect.macroF1 == 1)
  }

  @Test("Gaussian mask equals the formula; finite differences in Double for the mask, priority and IOR")
  func gaussianAttention() throws {
    var rng = RandomGenerator(seed: 3)
    let k = 3
    let (n, h, w) = (2, 4, 5)
    let raw = Tensor<Double>(shape: [n, 4 * k], scalars: (0..<(n * 4 * k)).map { _ in rng.normal() })
    let c = GaussianAttention.components(raw, k: k, height: h, width: w, beta: 1.5...2.0)
    let mask = GaussianAttention.mask(
      alpha: c.alpha, beta: c.beta, kappa1: c.kappa1, kappa2: c.kappa2, height: h, width: w)
    #expect(mask.shape == [n, h, w])
    for b in 0..<n {
      #expect(abs((0..<k).map { c.alpha.scalars[b * k + $0] }.reduce(0, +) - 1) < 1e-12)
      for j in 0..<k { #expect((1.5...2.0).contains(c.beta.scalars[b * k + j])) }
      for i in 0..<h {
        for j in 0..<w {
          var expected = 0.0
          for q in 0..<k {
            let dy = c.kappa1.scalars[b * k + q] - Double(i + 1)
            let dx = c.kappa2.scalars[b * k + q] - Double(j + 1)
            expected += c.alpha.scalars[b * k + q] * Foundation.exp(-c.beta.scalars[b * k + q] * (dy * dy + dx * dx))
          }
          #expect(abs(mask.scalars[(b * h + i) * w + j] - expected) < 1e-12)
        }
      }
    }
    // d(sum_ij weights * output) / d raw by central differences against the tape.
    let saliency = (0..<(n * h * w)).map { _ in rng.nextUnit() }
    let weights = (0..<(n * h * w)).map { _ in rng.normal() }
    func objective(_ x: Tensor<Double>) -> Tensor<Double> {
      let c = GaussianAttention.components(x, k: k, height: h, width: w, beta: 1.5...2.0)
      let m = GaussianAttention.mask(
        alpha: c.alpha, beta: c.beta, kappa1: c.kappa1, kappa2: c.kappa2, height: h, width: w
      )
      .reshaped([n, h * w])
      let s = Tensor<Double>(shape: [n, h * w], scalars: saliency)
      let p = GaussianAttention.priority(mask: m, saliency: s)
      let ior = GaussianAttention.inhibitionOfReturn(saliency: s, mask: m, glimpsed: [[0, 7], [3]])
      let volume = Tensor<Double>(shape: [n, 2, h * w], scalars: (0..<(2 * n * h * w)).map { Double($0 % 7) / 7 })
      let g = GaussianAttention.initialGlimpse(mask: m, volume: volume)
      let wt = Tensor<Double>(shape: [n, h * w], scalars: weights)
      return (p * wt).sum() + (ior * wt).sum() + (m * wt).sum() + (g * g).sum()
    }
    let x = Tensor<Double>(shape: raw.shape, scalars: raw.scalars)
    x.requiresGrad = true
    objective(x).backward()
    let analytic = try #require(x.grad).scalars
    for i in 0..<x.count {
      var plus = raw.scalars
      var minus = raw.scalars
      plus[i] += 1e-6
      minus[i] -= 1e-6
      let numeric =
        (withNoGrad { objective(Tensor(shape: raw.shape, scalars: plus)).item }
          - withNoGrad { objective(Tensor(shape: raw.shape, scalars: minus)).item }) / 2e-6
      #expect(abs(numeric - analytic[i]) <= 1e-6 * max(1, abs(numeric)), "parameter \(i): \(numeric) vs \(analytic[i])")
    }
  }

  @Test("rollout, REINFORCE surrogate and cross-entropy baseline equal PyTorch's (relative error <= 1e-4)")
  func parity() throws {
    let f = try Safetensors.read(modelsFixture("saliency_multiset.safetensors"))
    func meta(_ key: String) -> Int { Int(f.metadata[key]!)! }
    var config = SaliencyMultisetConfig()
    config.gridSide = meta("grid")
    config.canvasSide = 2 * config.gridSide
    config.channels = meta("channels")
    config.components = meta("components")
    config.metaHidden = meta("meta")
    config.controllerHidden = meta("controller")
    config.glimpses = meta("glimpses")
    config.classes = meta("classes")
    let entropy = Float(f.metadata["entropy"]!)!
    let discount = Float(f.metadata["discount"]!)!
    let steps = meta("steps")
    let net = SaliencyMultisetNet(config, seed: 0)
    for part in ["meta", "controller"] {
      let weights = f.tensors.filter { $0.name.hasPrefix("weights/\(part).") }.map {
        var t = $0
        t.name = String(t.name.dropFirst("weights/\(part).".count))
        return t
      }
      try net.module(named: part)!.loadStateDict(TensorArchive(tensors: weights, metadata: [:]))
    }
    let volume = try f.require("volume").floats()
    let n = 3
    func rows(_ name: String) throws -> [[Int]] {
      let v = try f.require(name).ints()
      return (0..<n).map { b in Array(v[(b * 3)..<(b * 3 + 3)]).filter { $0 >= 0 } }
    }
    let truth = try rows("truth")
    let order = try rows("order")
    let glimpseActions = try f.require("glimpse_actions").ints()  // [T, k, N]
    let labelActions = try f.require("label_actions").ints()  // [T, N]
    let k = config.glimpses
    let scripted: ActionPolicy = { _, step in
      switch step {
      case .glimpse(let t, let i): return (0..<n).map { glimpseActions[(t * k + i) * n + $0] }
      case .label(let t): return (0..<n).map { labelActions[t * n + $0] }
      }
    }
    for loss in MultisetLoss.allCases {
      net.zeroGrad()
      let feedback: [[Int]]? =
        loss == .crossEntropy ? (0..<steps).map { t in order.map { t < $0.count ? $0[t] : config.stop } } : nil
      let r = net.rollout(volume: volume, batch: n, steps: steps, policy: scripted, feedback: feedback, visualize: n)
      if loss == .reinforce {
        for (name, expected) in [("mask", \MetaStepVisual.mask), ("saliency", \.saliency), ("priority", \.priority)] {
          let ours = (0..<steps).flatMap { t in (0..<n).flatMap { r.visuals[$0][t][keyPath: expected] } }
          let err = relErr(ours, try f.require(name).floats())
          print("HSAL-PARITY \(name): relative error \(err)")
          #expect(err <= 1e-4, "\(name)")
        }
      }
      let (value, _) = multisetObjective(
        r, truth: truth, order: order, loss: loss, entropyBonus: entropy, discount: discount, stop: config.stop,
        scale: 1 / Float(n))
      value.backward()
      let expectedLoss = try f.require("\(loss.rawValue)/loss").floats()[0]
      print("HSAL-PARITY \(loss.rawValue) loss \(value.item) vs \(expectedLoss)")
      #expect(abs(value.item - expectedLoss) <= 1e-4 * max(1, abs(expectedLoss)))
      var worst = 0.0
      for (name, p) in net.namedParameters() where !name.hasPrefix("activation.") {
        let expected = try f.require("\(loss.rawValue)/grad/\(name)").floats()
        let ours = p.grad?.scalars ?? [Float](repeating: 0, count: p.count)
        let err = expected.allSatisfy { $0 == 0 } ? Double(ours.map { abs($0) }.max() ?? 0) : relErr(ours, expected)
        worst = max(worst, err)
        #expect(err <= 1e-4, "\(loss.rawValue) gradient of \(name): \(err)")
      }
      print("HSAL-PARITY \(loss.rawValue) gradients: worst relative error \(worst)")
    }
  }

  @Test("Multiset canvases repeat labels as often as asked; Set canvases never do")
  func canvases() throws {
    let digits = try MNIST.defaultSubset().split(testFraction: 0.2, seed: 7).train
    var rng = RandomGenerator(seed: 5)
    let multi = try MultiDigitCanvas.generate(600, from: digits, config: MultisetTask.multiset.canvas(), rng: &rng)
    let several = multi.filter { $0.labels.count >= 2 }
    let repeating = several.filter { Set($0.labels).count < $0.labels.count }
    let share = Double(repeating.count) / Double(several.count)
    // Half forced, plus chance repeats among the other half (>= 10% of those).
    #expect(share > 0.5 && share < 0.7, "share \(share)")
    let set = try MultiDigitCanvas.generate(300, from: digits, config: MultisetTask.set.canvas(), rng: &rng)
    #expect(set.allSatisfy { Set($0.labels).count == $0.labels.count })
    var bad = MultisetTask.set.canvas()
    bad.forcedDuplicateShare = 0.5
    #expect(throws: DatasetError.self) { try bad.validate() }
  }
}
