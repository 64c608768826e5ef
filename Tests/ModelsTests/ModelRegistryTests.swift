import Engine
import Foundation
import Models
import Testing

@Suite("Model registry")
struct ModelRegistryTests {
  @Test("names are unique; every recordable layer has a chain that fits the model's input") func entries() {
    #expect(Set(ModelRegistry.names).count == ModelRegistry.entries.count)
    for e in ModelRegistry.entries {
      #expect(!e.layers.isEmpty, "\(e.name)")
      for l in e.layers {
        let map = e.receptiveFields(l.name)
        #expect(map?.outputSize != nil, "\(e.name) \(l.name): no window steps, or they do not fit")
      }
    }
  }

  @Test(
    "the chain's output sizes are the forward pass's (feedforward entries, 64 px inputs for the zoo)",
    arguments: ModelRegistry.names.filter { !$0.hasPrefix("object-attention") })
  func sizes(_ name: String) throws {
    let e = try #require(ModelRegistry.entry(name))
    let side = e.variableSize ? max(64, e.minimumSide) : e.height
    let model = e.make()
    model.eval()
    let modules = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { a, _ in a })
    var seen: [String: [Int]] = [:]
    let handles = try e.layers.map { l in
      try #require(modules[l.name], "\(name) has no module \(l.name)").registerForwardHook { _, _, out in
        seen[l.name] = out.shape
      }
    }
    _ = withNoGrad {
      model(
        Tensor(shape: [1, e.channels, side, side], scalars: .init(repeating: 0.1, count: e.channels * side * side)))
    }
    for h in handles { h.remove() }
    for row in e.layerTable(height: side, width: side) {
      let shape = try #require(seen[row.layer])
      let spatial = shape.count == 4 ? [shape[2], shape[3]] : [1, 1]
      #expect([row.height, row.width] == spatial.map { Optional($0) }, "\(name) \(row.layer)")
      #expect(row.channels == shape[1], "\(name) \(row.layer) channels")
    }
  }
}
