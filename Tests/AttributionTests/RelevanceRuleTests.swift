import Attribution
import Engine
import Testing

/// The rules one op at a time, from their definitions, in Double.
@Suite("Excitation Backprop and LRP rules")
struct RelevanceRuleTests {
  @Test("conv: p_in = x * conv^T(p / conv(x, W+)), 0 where the normaliser is 0; MWP conserves mass")
  func convRule() throws {
    let x = Tensor<Double>(shape: [1, 2, 3, 3], scalars: (0..<18).map { Double(($0 * 7) % 5) / 4 }, requiresGrad: true)
    let w = Tensor<Double>(shape: [2, 2, 2, 2], scalars: (0..<16).map { Double(($0 * 5) % 7) / 3 - 1 })
    let b = Tensor<Double>(shape: [2], scalars: [0.3, -0.2])
    let y = withBackwardOverrides(RelevanceRules.excitationBackprop()) { conv2d(x, weight: w, bias: b) }
    let p = Tensor<Double>(shape: y.shape, scalars: (0..<y.count).map { Double($0 + 1) })
    let got = y.gradients(wrt: [x], seed: p)[0].scalars
    // Reference straight from the definition.
    let wp = w.scalars.map { max($0, 0) }
    var expected = [Double](repeating: 0, count: 18)
    var mass = 0.0
    for o in 0..<2 {
      for oy in 0..<2 {
        for ox in 0..<2 {
          var n = 0.0
          for c in 0..<2 {
            for ky in 0..<2 {
              for kx in 0..<2 {
                n += x.scalars[c * 9 + (oy + ky) * 3 + ox + kx] * wp[((o * 2 + c) * 2 + ky) * 2 + kx]
              }
            }
          }
          let pout = p.scalars[(o * 2 + oy) * 2 + ox]
          guard n != 0 else { continue }
          mass += pout
          for c in 0..<2 {
            for ky in 0..<2 {
              for kx in 0..<2 {
                let i = c * 9 + (oy + ky) * 3 + ox + kx
                expected[i] += x.scalars[i] * wp[((o * 2 + c) * 2 + ky) * 2 + kx] * pout / n
              }
            }
          }
        }
      }
    }
    for (a, e) in zip(got, expected) { #expect(abs(a - e) < 1e-12) }
    #expect(abs(got.reduce(0, +) - mass) < 1e-9, "probability is conserved where the normaliser is not 0")
  }

  @Test("residual sum splits in proportion, 0 (not NaN) where the sum is 0")
  func residualSplit() {
    let a = Tensor<Double>(shape: [4], scalars: [0, 1, 2, -1], requiresGrad: true)
    let b = Tensor<Double>(shape: [4], scalars: [0, 3, 2, 1], requiresGrad: true)
    let s = withBackwardOverrides(RelevanceRules.excitationBackprop()) { a + b }
    let g = s.gradients(wrt: [a, b], seed: Tensor(shape: [4], scalars: [5, 4, 2, 7]))
    #expect(g[0].scalars == [0, 1, 1, 0])
    #expect(g[1].scalars == [0, 3, 1, 0])
    #expect(g.allSatisfy { $0.scalars.allSatisfy { $0.isFinite } })
  }

  @Test("average pooling distributes in proportion to its inputs; batch norm passes through")
  func poolAndNorm() {
    let x = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [1, 3, 0, 4], requiresGrad: true)
    let y = withBackwardOverrides(RelevanceRules.excitationBackprop()) { avgPool2d(x, kernel: 2, stride: 2) }
    let g = y.gradients(wrt: [x], seed: Tensor(shape: [1, 1, 1, 1], scalars: [8]))[0].scalars
    #expect(g == [1, 3, 0, 4])
    let mean = Tensor<Double>(shape: [1], scalars: [0.5])
    let variance = Tensor<Double>(shape: [1], scalars: [4])
    let n = withBackwardOverrides(RelevanceRules.excitationBackprop()) {
      batchNorm(x, runningMean: mean, runningVar: variance, weight: nil, bias: nil, training: false)
    }
    #expect(
      n.gradients(wrt: [x], seed: Tensor(shape: [1, 1, 2, 2], scalars: [1, 2, 3, 4]))[0].scalars == [1, 2, 3, 4])
  }

  @Test("LRP-epsilon conserves relevance up to the bias; alpha1-beta0 equals EB on non-negative inputs")
  func lrpRules() {
    let x = Tensor<Double>(shape: [2, 3], scalars: [1, 0.5, 2, 0.2, 1.5, 0.7], requiresGrad: true)
    let w = Tensor<Double>(shape: [2, 3], scalars: [0.5, -1, 0.25, 1, 0.3, -0.6])
    let y = withBackwardOverrides(RelevanceRules.lrpEpsilon(1e-9)) { linear(x, weight: w, bias: nil) }
    let r = Tensor<Double>(shape: [2, 2], scalars: y.scalars)
    let rin = y.gradients(wrt: [x], seed: r)[0].scalars
    let inSum: Double = rin[0..<3].reduce(0, +)
    let outSum: Double = y.scalars[0..<2].reduce(0, +)
    #expect(abs(inSum - outSum) < 1e-6)
    let z = withBackwardOverrides(RelevanceRules.lrpZPlus) { linear(x, weight: w, bias: nil) }
    let e = withBackwardOverrides(RelevanceRules.excitationBackprop()) { linear(x, weight: w, bias: nil) }
    let seed = Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3, 4])
    let gz = z.gradients(wrt: [x], seed: seed)[0].scalars
    let ge = e.gradients(wrt: [x], seed: seed)[0].scalars
    for (a, b) in zip(gz, ge) { #expect(abs(a - b) < 1e-12) }
  }

  @Test("deconvnet passes max(g, 0) through a ReLU whatever its input")
  func deconvnet() {
    let x = Tensor<Double>(shape: [3], scalars: [-1, 2, 3], requiresGrad: true)
    let y = withBackwardOverrides(RelevanceRules.deconvnet) { x.relu() }
    #expect(y.gradients(wrt: [x], seed: Tensor(shape: [3], scalars: [4, -5, 6]))[0].scalars == [4, 0, 6])
  }
}

@Suite("The Pointing Game")
struct PointingGameTests {
  @Test("hit strictly within the tolerance; per-category mean with empty categories counting 0")
  func scoring() {
    var mask = [Bool](repeating: false, count: 100)
    mask[5 * 10 + 8] = true  // (5, 8)
    let t = PointingTarget(image: 0, category: 1, height: 10, width: 10, mask: mask, otherCategories: 1)
    #expect(t.difficult)
    let game = PointingGame(tolerance: 3)
    #expect(game.hit((5, 6), t))
    #expect(!game.hit((5, 5), t), "distance 3 is not strictly within 3")
    #expect(game.hit((3, 7), t))  // sqrt(5) < 3
    #expect(!game.hit((0, 0), t))
    var tally = PointingTally(categories: 3)
    tally.record(category: 1, hit: true)
    tally.record(category: 1, hit: false)
    tally.record(category: 2, hit: true)
    #expect(tally.perCategory == [0, 0.5, 1])
    #expect(abs(tally.accuracy - 0.5) < 1e-12)
    #expect(abs(PointingGame.tolerance(height: 224, width: 100) - 15) < 1e-12)
    let big = PointingTarget(
      image: 0, category: 0, height: 10, width: 10, mask: [Bool](repeating: true, count: 100), otherCategories: 2)
    #expect(!big.difficult, "covers more than a quarter")
  }

  @Test("maximum point is the first maximum, NaN never wins; smoothing keeps mass inside")
  func maps() {
    let m = Tensor<Float>(shape: [1, 2, 3], scalars: [.nan, 2, 5, 5, 1, 0])
    #expect(MapProcessing.maximumPoint(m, index: 0) == (0, 2))
    var spike = [Float](repeating: 0, count: 15 * 15)
    spike[7 * 15 + 7] = 1
    let s = MapProcessing.smoothed(Tensor(shape: [1, 15, 15], scalars: spike), sigma: 1)
    #expect(abs(s.scalars.reduce(0, +) - 1) < 1e-5)
    #expect(MapProcessing.maximumPoint(s, index: 0) == (7, 7))
  }
}
