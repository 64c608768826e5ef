import Engine
import Models
import Recording
import Testing

@Suite("Registry geometry of the object-attention network")
struct RegistryGeometryTests {
  @Test("receptive fields from the registry's chain equal the recorder's for every unit", arguments: ["mnist", "coco"])
  func objectAttention(_ variant: String) throws {
    let entry = try #require(ModelRegistry.entry("object-attention-\(variant)"))
    let net = ObjectAttentionNet(.preset(variant == "mnist" ? .mnist : .coco), seed: 0)
    for g in net.recordableLayers {
      let map = try #require(entry.receptiveFields(g.name))
      let size = try #require(map.outputSize)
      #expect(size.height == g.height && size.width == g.width, "\(variant) \(g.name)")
      for y in 0..<g.height {
        for x in 0..<g.width {
          let (a, b) = (map.field(y: y, x: x), g.receptiveField(y, x))
          #expect(a.rows == b.rows && a.cols == b.cols, "\(variant) \(g.name) [\(y), \(x)]")
        }
      }
    }
  }
}
