import Foundation
import Testing

@testable import Engine

/// Finite-difference gradient check in Double: compares the tape's gradient of
/// L = sum(f(x) * w) (w fixed random weights) with central differences (step 1e-6) at up to
/// `samples` coordinates per input. Returns the worst |analytic - numeric| / max(1, |numeric|).
func gradCheck(
  _ inputs: [Tensor<Double>], samples: Int = 12, seed: UInt64 = 7, only: Set<Int>? = nil,
  _ f: ([Tensor<Double>]) -> Tensor<Double>
) -> Double {
  var rng = RandomGenerator(seed: seed)
  for x in inputs {
    x.requiresGrad = true
    x.grad = nil
  }
  let y = f(inputs)
  let w = Tensor<Double>.normal(y.shape, rng: &rng)
  (y * w).sum().backward()
  var worst = 0.0
  let h = 1e-6
  for (k, x) in inputs.enumerated() where only?.contains(k) ?? true {
    let analytic = x.grad?.scalars ?? [Double](repeating: 0, count: x.count)
    let coords = x.count <= samples ? Array(0..<x.count) : Array(rng.permutation(x.count).prefix(samples))
    for i in coords {
      let original = x.scalars
      var plus = original
      var minus = original
      plus[i] += h
      minus[i] -= h
      x.assign(plus)
      let fp = withNoGrad { (f(inputs) * w).sum().item }
      x.assign(minus)
      let fm = withNoGrad { (f(inputs) * w).sum().item }
      x.assign(original)
      let numeric = (fp - fm) / (2 * h)
      let err = abs(analytic[i] - numeric) / max(1, abs(numeric))
      worst = err.isNaN ? .infinity : max(worst, err)  // a NaN must fail, not vanish in max()
    }
  }
  return worst
}

@Suite("Finite-difference gradient checks (Double)")
struct GradCheckTests {
  static let cases: [OpCase] = OpParityTests.cases.filter { $0.tensor("gout") != nil }

  @Test("every fixture op", arguments: cases)
  func fixtureOp(_ c: OpCase) throws {
    let inputs = try c.inputs(Double.self)
    let idx = try c.indices()
    // Class weights of cross-entropy are constants (PyTorch gives them no gradient either).
    let only: Set<Int>? = c.op == "cross_entropy" ? [0] : nil
    let err = gradCheck(inputs, only: only) { x in
      var rng = RandomGenerator(seed: 0)
      return runOp(c, x, idx, rng: &rng).0
    }
    #expect(err < 1e-6, "\(c.name): finite-difference mismatch \(err)")
  }

  @Test("ops outside the fixtures") func extraOps() {
    var rng = RandomGenerator(seed: 3)
    let a = Tensor<Double>.normal([3, 4], rng: &rng)
    let b = Tensor<Double>.normal([4], rng: &rng)
    let checks: [(String, [Tensor<Double>], ([Tensor<Double>]) -> Tensor<Double>)] = [
      ("abs", [a], { $0[0].abs() }),
      ("neg", [a], { -$0[0] }),
      ("scalar ops", [a], { (2 - $0[0]) * 3 / 4 + 1 }),
      ("reciprocal", [Tensor<Double>.uniform([5], low: 0.5, high: 2, rng: &rng)], { 1 / $0[0] }),
      ("expanded", [b], { $0[0].expanded(to: [3, 4]) }),
      ("transposed", [a], { $0[0].transposed() }),
      ("squeeze/unsqueeze", [a], { $0[0].unsqueezed(1).squeezed(1) }),
      ("sum dims", [a], { $0[0].sum(dims: [0, 1], keepDim: true) }),
      ("mean dim", [a], { $0[0].mean(dim: 0) }),
      (
        "dropout", [a],
        { x in
          var r = RandomGenerator(seed: 11)
          return dropout(x[0], p: 0.3, training: true, rng: &r)
        }
      ),
      ("chain", [a, b], { ($0[0] * $0[1]).tanh().sum(dim: 1).sigmoid() }),
      ("reused input", [a], { $0[0] * $0[0] + $0[0].exp() }),
      ("pow of negative bases", [a], { $0[0].pow(2) + $0[0].pow(3) }),
    ]
    for (name, inputs, f) in checks {
      let err = gradCheck(inputs, f)
      #expect(err < 1e-6, "\(name): finite-difference mismatch \(err)")
    }
  }

  @Test("ops added for imported graphs: erf, pad, separable resampling")
  func importOps() {
    var rng = RandomGenerator(seed: 5)
    let x = Tensor<Double>.normal([2, 3, 4, 5], rng: &rng)
    let rows: [ResampleTaps<Double>] = [[(0, 1)], [(0, 0.25), (1, 0.75)], [(1, -0.1), (2, 0.6), (3, 0.5)], [(3, 1)]]
    let cols: [ResampleTaps<Double>] = [[(4, 1)], [(0, 0.5), (4, 0.5)], [(2, 1.2), (1, -0.2)]]
    let checks: [(String, ([Tensor<Double>]) -> Tensor<Double>)] = [
      ("erf", { $0[0].erf() }),
      ("pad constant, cropping", { pad($0[0], before: [0, 1, 2, -1], after: [1, 0, -2, 3], mode: .constant(0.5)) }),
      ("pad reflect", { pad($0[0], before: [0, 0, 3, 2], after: [0, 0, 2, 4], mode: .reflect) }),
      ("pad edge", { pad($0[0], before: [0, 0, 5, 1], after: [0, 0, 1, 6], mode: .edge) }),
      ("separable resample", { separableResample($0[0], rows: rows, cols: cols) }),
    ]
    for (name, f) in checks {
      let err = gradCheck([x], samples: 40, f)
      #expect(err < 1e-6, "\(name): finite-difference mismatch \(err)")
    }
    // Values: reflect and edge follow numpy.pad's "reflect" and "edge" on [0, 1, 2].
    let v = Tensor<Double>(shape: [3], scalars: [0, 1, 2])
    #expect(pad(v, before: [2], after: [2], mode: .reflect).scalars == [2, 1, 0, 1, 2, 1, 0])
    #expect(pad(v, before: [2], after: [1], mode: .edge).scalars == [0, 0, 0, 1, 2, 2])
    #expect(pad(v, before: [-1], after: [1], mode: .constant(9)).scalars == [1, 2, 9])
    #expect(abs(Tensor<Double>(shape: [1], scalars: [0.5]).erf().item - 0.5204998778130465) < 1e-15)
  }
}
