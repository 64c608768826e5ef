import Engine
import Foundation
import Models
import Testing

/// The zoo against torchvision (fixtures from scripts/fixtures/make_zoo_fixtures.py): every
/// state_dict key and shape as torchvision's, and logits plus recorded module outputs within 1e-4
/// (normwise) with the fixture script's formula weights, at 64x64 (batch 2) and 224x224 (batch 1).
@Suite("Model zoo at parity with torchvision")
struct ZooParityTests {
  static let architectures = [
    "alexnet", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "resnet18",
    "resnet34", "resnet50",
  ]

  static func build(_ name: String) -> Module {
    switch name {
    case "alexnet": return AlexNet()
    case "resnet18": return ResNet(.resnet18)
    case "resnet34": return ResNet(.resnet34)
    case "resnet50": return ResNet(.resnet50)
    default:
      let depth = VGG.Depth(rawValue: Int(name.dropFirst(3).prefix(2))!)!
      return VGG(depth, batchNorm: name.hasSuffix("_bn"))
    }
  }

  @Test("keys, shapes, logits and recorded layers equal torchvision's", arguments: architectures)
  func parity(_ name: String) throws {
    let fixture = try Safetensors.read(modelsFixture("zoo/\(name).safetensors"))
    let keyList = try #require(
      try JSONSerialization.jsonObject(with: Data(fixture.metadata["keys"]!.utf8)) as? [[Any]])
    let keys = keyList.map { ($0[0] as! String, ($0[1] as! [NSNumber]).map(\.intValue)) }
    let layers = try #require(
      try JSONSerialization.jsonObject(with: Data(fixture.metadata["layers"]!.utf8)) as? [String])
    let model = Self.build(name)
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    let batchNorms = Set(modules.filter { $0.value is BatchNorm }.keys)
    #expect(model.namedState().map(\.name).sorted() == keys.map(\.0).sorted(), "torchvision's state_dict keys")
    try model.loadStateDict(FixtureFormula.weights(keys, batchNorms: batchNorms))  // strict: every key, every shape
    model.eval()
    var worst = 0.0
    for tag in ["2x64", "1x224"] where fixture["\(tag)/logits"] != nil {
      let parts = tag.split(separator: "x").map { Int($0)! }
      let (batch, size) = (parts[0], parts[1])
      let x = Tensor<Float>(
        shape: [batch, 3, size, size],
        scalars: (0..<(batch * 3 * size * size)).map { Float(1.5 * FixtureFormula.uniform(999, $0)) })
      var seen: [String: Tensor<Float>] = [:]
      let handles = try layers.map { layer in
        try #require(modules[layer], "no module \(layer)").registerForwardHook { _, _, out in seen[layer] = out }
      }
      let logits = withNoGrad { model(x) }
      for h in handles { h.remove() }
      func check(_ what: String, _ ours: [Float], _ theirs: StoredTensor?) throws {
        let e = relErr(ours, try #require(theirs, "\(what) missing").floats())
        worst = max(worst, e)
        #expect(e <= 1e-4, "\(name) \(tag) \(what): relative error \(e)")
      }
      try check("logits", logits.scalars, fixture["\(tag)/logits"])
      for layer in layers {
        let out = try #require(seen[layer], "\(layer) was not recorded")
        #expect(out.shape == (try fixture["\(tag)/\(layer)/shape"]?.ints() ?? []), "\(name) \(tag) \(layer) shape")
        let flat = out.scalars
        let step = max(1, flat.count / 512)
        let sample = Array(stride(from: 0, to: flat.count, by: step).prefix(512).map { flat[$0] })
        try check("\(layer) sample", sample, fixture["\(tag)/\(layer)/sample"])
        if out.shape.count == 4 {
          let plane = out.shape[2] * out.shape[3]
          let means = (0..<(out.shape[0] * out.shape[1])).map { p in
            flat[(p * plane)..<((p + 1) * plane)].reduce(0, +) / Float(plane)
          }
          try check("\(layer) channel means", means, fixture["\(tag)/\(layer)/mean"])
        }
      }
    }
    print("ZOO \(name): worst relative error \(worst)")
  }
}
