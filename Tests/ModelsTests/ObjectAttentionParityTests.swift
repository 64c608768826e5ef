import Engine
import Foundation
import Models
import Testing

func modelsFixture(_ name: String) -> String {
  Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

/// Normwise relative error max|a - b| / max|b|.
func relErr(_ a: [Float], _ b: [Float]) -> Double {
  var d = 0.0
  var s = 0.0
  for (x, y) in zip(a, b) {
    if !x.isFinite || !y.isFinite { return .infinity }
    d = max(d, Double(abs(x - y)))
    s = max(s, Double(abs(y)))
  }
  return a.count == b.count ? d / max(s, 1e-6) : .infinity
}

/// The glimpse dynamics against an independent PyTorch implementation
/// (scripts/fixtures/make_object_attention_fixtures.py): every recorded layer, logits, gated input,
/// masks, IOR and selections over 2 glimpses, and the BPTT gradients of glimpse 0's loss.
@Suite("Object-attention dynamics vs PyTorch")
struct ObjectAttentionParityTests {
  @Test("two glimpses with IOR", arguments: ObjectAttentionConfig.Variant.allCases)
  func dynamics(_ variant: ObjectAttentionConfig.Variant) throws {
    let f = try Safetensors.read(modelsFixture("object_attention_\(variant.rawValue).safetensors"))
    let phi = Float(f.metadata["phi"]!)!
    let config = ObjectAttentionConfig.preset(variant)
    let net = ObjectAttentionNet(config, seed: 0)
    var weights = TensorArchive()
    for t in f.tensors where t.name.hasPrefix("w/") {
      var w = t
      w.name = String(t.name.dropFirst(2))
      weights.tensors.append(w)
    }
    try net.loadStateDict(weights)
    let x: Tensor<Float> = try f.require("x").tensor()
    let targets: [Tensor<Float>] = [try f.require("target0").tensor(), try f.require("target1").tensor()]
    let labels = [try f.require("label0").ints(), try f.require("label1").ints()]
    let n = x.shape[0]
    var ior = net.emptyIOR(batch: n)
    var selected = [[Bool]](repeating: [false, false], count: n)
    var worst = 0.0
    func check(_ name: String, _ got: Tensor<Float>) throws {
      guard let ref = f[name] else { return }
      #expect(got.shape == ref.shape, "\(name) shape")
      let e = relErr(got.scalars, try ref.floats())
      worst = max(worst, e)
      #expect(e <= 1e-4, "\(variant) \(name): relative error \(e)")
    }
    for g in 0..<2 {
      let glimpse = net.glimpse(x, ior: ior)
      let p = glimpse.last
      try check("g\(g)/logits", p.logits)
      try check("g\(g)/gated", p.gatedInput)
      for (l, c) in p.convOutputs.enumerated() { try check("g\(g)/conv\(l + 1)", c) }
      try check("g\(g)/mask_before_last", glimpse.masksBeforeLastPass[0])
      for (l, i) in glimpse.nextIOR.enumerated() {
        if let ref = f["g\(g)/ior\(l)"] {
          #expect(i.scalars == (try ref.floats()), "\(variant) glimpse \(g) IOR \(l) differs")
        }
      }
      let sel = ObjectAttentionNet.selectObjects(gated: p.gatedInput, targets: targets, alreadySelected: &selected)
      #expect(sel == (try f.require("g\(g)/selected").ints()), "\(variant) glimpse \(g) selection")
      if g == 0 {
        let label = IntTensor((0..<n).map { labels[sel[$0]][$0] })
        let target = Tensor<Float>(
          shape: x.shape,
          scalars: (0..<n).flatMap { i in
            Array(targets[sel[i]].scalars[(i * x.count / n)..<((i + 1) * x.count / n)])
          })
        let loss = crossEntropy(p.logits, label) + phi * mseLoss(p.gatedInput, target)
        #expect(abs(Double(loss.item) - Double(try f.require("g0/loss").floats()[0])) / Double(loss.item) < 1e-4)
        loss.backward()
        for (key, param) in net.namedParameters() {
          guard let ref = f["grad/\(key)"] else { continue }
          let e = relErr(param.grad!.scalars, try ref.floats())
          worst = max(worst, e)
          #expect(e <= 1e-4, "\(variant) gradient \(key): relative error \(e)")
        }
        net.zeroGrad()
      }
      ior = glimpse.nextIOR
    }
    print("OBJECT-ATTENTION \(variant) parity: worst relative error \(worst)")
  }

  @Test("the reference's PyTorch state_dict keys load") func torchKeys() throws {
    let net = ObjectAttentionNet(.mnist(), seed: 0)
    try net.load(from: modelsFixture("object_attention_mnist_random.pt"))
    #expect(
      net.stateDict().names.sorted()
        == (try TorchCheckpoint.read(modelsFixture("object_attention_mnist_random.pt"))).names.sorted())
  }
}
