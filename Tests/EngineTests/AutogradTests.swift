import Foundation
import Testing

@testable import Engine

@Suite("Autograd, initialisation and training utilities")
struct AutogradTests {
  @Test("no-grad mode, detach and gradient accumulation") func tape() {
    let x = Tensor<Float>(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
    let y = withNoGrad { x * x }
    #expect(!y.requiresGrad)
    let z = (x * x).detached()
    #expect(!z.requiresGrad)
    // d/dx sum(x*x + 3x) = 2x + 3; two backward passes accumulate.
    ((x * x) + x * 3).sum().backward()
    #expect(x.grad?.scalars == [5, 7, 9])
    ((x * x) + x * 3).sum().backward()
    #expect(x.grad?.scalars == [10, 14, 18])
  }

  @Test("grad mode is task-local") func taskLocal() async {
    let inner = await Task { withNoGrad { GradMode.isEnabled } }.value
    #expect(!inner)
    #expect(GradMode.isEnabled)
  }

  @Test("PyTorch default initialisation bounds and spread") func initialisation() {
    var rng = RandomGenerator(seed: 3)
    let lin = Linear(400, 300, rng: &rng)
    let bound: Float = 1 / 20
    #expect(lin.weight.scalars.allSatisfy { abs($0) <= bound })
    let variance = lin.weight.scalars.reduce(0) { $0 + Double($1 * $1) } / Double(lin.weight.count)
    #expect(abs(variance - Double(bound * bound) / 3) < 1e-5)  // U(-b, b) has variance b^2/3
    let conv = Conv2d(8, 4, kernel: 3, groups: 2, rng: &rng)  // fan-in 4 * 9
    #expect(conv.weight.shape == [4, 4, 3, 3])
    #expect(conv.weight.scalars.allSatisfy { abs($0) <= 1 / 6 })
    let deconv = ConvTranspose2d(6, 10, kernel: 2, rng: &rng)  // PyTorch: fan-in 10 * 4
    #expect(deconv.weight.shape == [6, 10, 2, 2])
    #expect(deconv.weight.scalars.allSatisfy { abs($0) <= 1 / Float(40).squareRoot() })
    #expect(deconv.weight.scalars.max()! > 0.9 / Float(40).squareRoot())
    let gru = GRU(inputSize: 3, hiddenSize: 16, rng: &rng)
    #expect(gru.namedParameters().map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"])
    #expect(gru.parameters().allSatisfy { $0.scalars.allSatisfy { abs($0) <= 0.25 } })
  }

  @Test("same seed, same numbers") func determinism() {
    var a = RandomGenerator(seed: 42)
    var b = RandomGenerator(seed: 42)
    #expect((0..<100).map { _ in a.next() } == (0..<100).map { _ in b.next() })
    #expect(SmallNet.make(seed: 9).stateDict() == SmallNet.make(seed: 9).stateDict())
    #expect(SmallNet.make(seed: 9).stateDict() != SmallNet.make(seed: 10).stateDict())
  }

  @Test("learning-rate schedules and gradient clipping match PyTorch") func schedules() throws {
    let f = try Safetensors.read(fixturePath("model/schedules.safetensors"))
    let step = (0..<12).map { LearningRateSchedule.step(stepSize: 3, gamma: 0.5).rate(base: 0.1, epoch: $0) }
    let cosine = (0..<12).map { LearningRateSchedule.cosine(tMax: 10, etaMin: 1e-4).rate(base: 0.1, epoch: $0) }
    #expect(relativeError(step, try f.require("lr_step").values(as: Double.self)) < 1e-12)
    #expect(relativeError(cosine, try f.require("lr_cosine").values(as: Double.self)) < 1e-9)
    let a = Tensor<Float>.zeros([3, 4])
    let b = Tensor<Float>.zeros([5])
    a.grad = try f.require("clip_a_before").tensor()
    b.grad = try f.require("clip_b_before").tensor()
    let norm = clipGradNorm([a, b], maxNorm: 1.5)
    #expect(abs(norm - Double(try f.require("clip_norm").floats()[0])) < 1e-5)
    #expect(relativeError(a.grad!.scalars, try f.require("clip_a_after").floats()) < 1e-6)
    #expect(relativeError(b.grad!.scalars, try f.require("clip_b_after").floats()) < 1e-6)
  }
}

/// A tiny two-layer net for determinism checks.
enum SmallNet {
  static func make(seed: UInt64) -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return Sequential([Linear(4, 8, rng: &rng), ReLU(), Linear(8, 2, rng: &rng)])
  }
}

@Suite("Gradients with respect to any tensor")
struct IntermediateGradientTests {
  @Test("gradients(of:wrt:) on a layer output and the input equals torch.autograd.grad (Double)") func againstTorch()
    throws
  {
    let f = try Safetensors.read(fixturePath("autograd/intermediate.safetensors"))
    func t(_ name: String, grad: Bool = false) throws -> Tensor<Double> {
      let s = try f.require(name)
      return Tensor(shape: s.shape, scalars: try s.values(as: Double.self), requiresGrad: grad)
    }
    let x = try t("x", grad: true)
    let h = conv2d(x, weight: try t("w1"), bias: try t("b1"), padding: 1).relu()
    let y = conv2d(maxPool(h, kernel: 2), weight: try t("w2"))
    let loss = (y * y).sum() + h.mean()
    #expect(abs(loss.item - (try t("loss")).item) <= 1e-9 * abs(loss.item))
    let g = gradients(of: loss, wrt: [h, x])
    for (ours, name) in zip(g, ["grad_h", "grad_x"]) {
      let theirs = try t(name)
      #expect(ours.shape == theirs.shape)
      let e = zip(ours.scalars, theirs.scalars).map { abs($0 - $1) }.max()! / theirs.scalars.map(abs).max()!
      #expect(e <= 1e-10, "\(name): relative error \(e)")
    }
    #expect(x.grad == nil, ".grad is left untouched")
  }

  @Test("a tensor the output does not depend on gets zeros") func unrelated() {
    let a = Tensor<Double>(shape: [3], scalars: [1, 2, 3], requiresGrad: true)
    let b = Tensor<Double>(shape: [2], scalars: [4, 5], requiresGrad: true)
    let g = gradients(of: (a * a).sum(), wrt: [a, b])
    #expect(g[0].scalars == [2, 4, 6] && g[1].scalars == [0, 0])
  }
}

@Suite("Backward-rule overrides")
struct BackwardOverrideTests {
  @Test("guided backprop through the ReLU override equals PyTorch's hook-based one; outside it, plain gradients")
  func guidedBackprop() throws {
    let f = try Safetensors.read(fixturePath("autograd/guided.safetensors"))
    func t(_ name: String, grad: Bool = false) throws -> Tensor<Double> {
      let s = try f.require(name)
      return Tensor(shape: s.shape, scalars: try s.values(as: Double.self), requiresGrad: grad)
    }
    func saliency() throws -> Tensor<Double> {
      let x = try t("x", grad: true)
      var h = conv2d(x, weight: try t("net.0.weight"), bias: try t("net.0.bias"), padding: 1).relu()
      h = conv2d(maxPool(h, kernel: 2), weight: try t("net.3.weight"), bias: try t("net.3.bias"), padding: 1).relu()
      h = linear(h.flattened(from: 1), weight: try t("net.6.weight"), bias: try t("net.6.bias")).relu()
      let scores = linear(h, weight: try t("net.8.weight"), bias: try t("net.8.bias"))
      let seed = Tensor<Double>(shape: scores.shape, scalars: (0..<scores.count).map { $0 % 5 == 3 ? 1 : 0 })
      return gradients(of: scores, wrt: [x], seed: seed)[0]
    }
    func error(_ a: Tensor<Double>, _ b: Tensor<Double>) -> Double {
      zip(a.scalars, b.scalars).map { abs($0 - $1) }.max()! / b.scalars.map(abs).max()!
    }
    let guided = try withBackwardOverrides(.guidedBackprop) { try saliency() }
    let plain = try saliency()
    #expect(error(guided, try t("guided")) <= 1e-10)
    #expect(error(plain, try t("plain")) <= 1e-10)
    #expect(
      error(try t("guided"), try t("plain")) > 0.01,
      "the fixture's two gradients differ, so the test can tell them apart")
  }
}
