import Engine  // not @testable: custom ops and overrides are public API for other modules
import Foundation
import Testing

/// Ops defined outside the Engine through the public API, and pooling overrides.
@Suite("Custom ops and pooling overrides")
struct CustomOpTests {
  /// softplus(x) = log(1 + exp(x)), defined outside the Engine; its derivative is sigmoid(x).
  func softplus(_ x: Tensor<Double>) -> Tensor<Double> {
    let values = x.scalars.map { Foundation.log(1 + Foundation.exp($0)) }
    return Tensor.customOp(shape: x.shape, scalars: values, inputs: [x]) { [xs = x.scalars] g in
      [zip(xs, g).map { x, g in g / (1 + Foundation.exp(-x)) }]
    }
  }

  @Test("a custom op's gradient equals central finite differences (Double) and composes with built-in ops")
  func finiteDifferences() {
    let x0 = (0..<12).map { Double($0) / 3 - 2 }
    let w = (0..<12).map { Double(($0 * 7) % 5) - 2 }
    let weights = Tensor<Double>(shape: [3, 4], scalars: w)
    func loss(_ x: Tensor<Double>) -> Tensor<Double> { (softplus(x) * weights).sum() }
    let x = Tensor<Double>(shape: [3, 4], scalars: x0, requiresGrad: true)
    let g = gradients(of: loss(x), wrt: [x])[0].scalars
    let h = 1e-6
    for i in 0..<x0.count {
      var up = x0
      var down = x0
      up[i] += h
      down[i] -= h
      let numeric =
        (loss(Tensor(shape: [3, 4], scalars: up)).scalars[0] - loss(Tensor(shape: [3, 4], scalars: down)).scalars[0])
        / (2 * h)
      #expect(abs(numeric - g[i]) < 1e-8, "element \(i): analytic \(g[i]) numeric \(numeric)")
    }
  }

  @Test("pooling overrides: the standard rule is handed over; proportional average-pool routing conserves the signal")
  func poolingOverrides() {
    let values = (0..<32).map { Double(($0 * 5) % 11) + 0.5 }
    let x = Tensor<Double>(shape: [1, 2, 4, 4], scalars: values, requiresGrad: true)
    let plainMax = gradients(of: maxPool2d(x, kernel: 2).output.sum(), wrt: [x])[0].scalars
    var doubled = BackwardOverrides()
    doubled.double[.maxPool] = { c in [c.standard(c.gradient.map { 2 * $0 })[0]] }
    let doubledMax = withBackwardOverrides(doubled) {
      gradients(of: maxPool2d(x, kernel: 2).output.sum(), wrt: [x])[0].scalars
    }
    #expect(doubledMax == plainMax.map { 2 * $0 })
    // Excitation Backprop's average-pool rule: p_in = x * standard(p_out / output).
    var proportional = BackwardOverrides()
    proportional.double[.avgPool] = { c in
      let routed = c.standard(zip(c.gradient, c.output).map { g, o in o == 0 ? 0 : g / o })[0]!
      return [zip(c.inputs[0].scalars, routed).map(*)]
    }
    let signal = (0..<8).map { Double($0 + 1) }
    let routed = withBackwardOverrides(proportional) {
      gradients(of: avgPool2d(x, kernel: 2), wrt: [x], seed: Tensor(shape: [1, 2, 2, 2], scalars: signal))[0]
        .scalars
    }
    #expect(abs(routed.reduce(0, +) - signal.reduce(0, +)) < 1e-9)
    #expect(routed.allSatisfy { $0 > 0 })
    // Outside the block the plain rule is back.
    let plainAvg = gradients(of: avgPool2d(x, kernel: 2).sum(), wrt: [x])[0].scalars
    #expect(plainAvg.allSatisfy { abs($0 - 0.25) < 1e-12 })
  }
}
