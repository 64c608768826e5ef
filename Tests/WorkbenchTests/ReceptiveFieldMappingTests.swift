import Foundation
import Testing
import Workbench

/// The repository's root folder (from this file's path).
private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

@Suite("Receptive fields measured with ON/OFF dots vs the geometric ones")
struct ReceptiveFieldMappingTests {
  /// An rf-map protocol: ON and OFF dots (sigma 0.75 px) every `step` pixels of a square canvas.
  static func mapping(_ model: String, weights: String, layers: String, height: Int, width: Int, step: Int) -> String {
    """
    name: rf
    model: {architecture: \(model), weights: \(weights)}
    stimulus:
      kind: dot
      canvas: [\(height), \(width)]
      parameters:
        x: {from: 0, to: \(width - 1), steps: \(width / step)}
        y: {from: 0, to: \(height - 1), steps: \(height / step)}
        size: 0.75
        contrast: [-0.5, 0.5]
        mean: 0.5
    attention: {mode: none}
    record: {layers: [\(layers)], units: center, responses: false}
    tuning: {axis: x}
    measures: [rf-map]
    """
  }

  /// Per layer of a mapped run: the offset of the channel-mean measured centre from the geometric
  /// centre (strides), the units' median offset (strides) and their share within one stride.
  static func offsets(_ dir: String) throws -> [String: (pooled: Double, median: Double, within: Double)] {
    let rows = try csvRows(dir + "/receptive_fields.csv")
    let h = rows[0]
    func col(_ name: String) -> Int { h.firstIndex(of: name)! }
    var out: [String: (Double, Double, Double)] = [:]
    for layer in Set(rows.dropFirst().map { $0[col("layer")] }) {
      let mapped = rows.dropFirst().filter { $0[col("layer")] == layer && !$0[col("offset_strides")].isEmpty }
      #expect(mapped.count >= 8, "\(layer): \(mapped.count) mapped units")
      let my = mapped.map { Double($0[col("measured_centre_row")])! }.reduce(0, +) / Double(mapped.count)
      let mx = mapped.map { Double($0[col("measured_centre_col")])! }.reduce(0, +) / Double(mapped.count)
      let gy = Double(mapped[0][col("geometric_centre_row")])!
      let gx = Double(mapped[0][col("geometric_centre_col")])!
      let stride = Double(mapped[0][col("stride_px")])!
      let o = mapped.map { Double($0[col("offset_strides")])! }.sorted()
      out[layer] = (
        ((my - gy) * (my - gy) + (mx - gx) * (mx - gx)).squareRoot() / stride, o[o.count / 2],
        Double(o.filter { $0 <= 1 }.count) / Double(o.count)
      )
    }
    return out
  }

  @Test(
    "centre units: the channel-mean measured centre lies within one stride of the geometric centre",
    arguments: [
      ("alexnet", "random", "features.1, features.4, features.7", 64, 64, 2),
      ("vgg11", "random", "features.1, features.4, features.9", 40, 40, 2),
      ("resnet18", "random", "maxpool, layer1.1, layer2.1", 48, 48, 2),
      // Pass 1 of the recurrent network is feedforward (its masks start at zero).
      (
        "object-attention-mnist", root + "/Checkpoints/object-attention-mnist.safetensors", "conv1@pass1, conv2@pass1",
        28, 42, 1
      ),
    ])
  func centres(_ model: String, _ weights: String, _ layers: String, _ h: Int, _ w: Int, _ step: Int) throws {
    let dir = try scratchFolder()
    try Self.mapping(model, weights: weights, layers: layers, height: h, width: w, step: step).write(
      toFile: dir + "/rf.yaml", atomically: true, encoding: .utf8)
    _ = try ProtocolRunner.run(try ProtocolFile.load(dir + "/rf.yaml"), output: dir + "/out")
    let offsets = try Self.offsets(dir + "/out")
    #expect(offsets.count == layers.split(separator: ",").count)
    for (layer, o) in offsets.sorted(by: { $0.key < $1.key }) {
      print(
        String(
          format: "rf-map %@ %@: channel-mean centre %.3f strides off; units: median %.3f strides, %.0f%% within one",
          model, layer, o.pooled, o.median, 100 * o.within))
      #expect(o.pooled <= 1, "\(model) \(layer)")
      // Single units' fields are asymmetric (their kernels are), but most lie within one stride.
      #expect(o.median <= 0.75, "\(model) \(layer)")
    }
    let pdf = try Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.pdf"))
    #expect(pdf.count > 10_000)
    #expect(FileManager.default.fileExists(atPath: dir + "/out/rf_maps.npy"))
    // The unit table holds each unit's measured field beside its geometric one.
    let units = try csvRows(dir + "/out/units.csv")
    #expect(units[0].suffix(3) == ["measured_centre_row", "measured_centre_col", "measured_size_px"])
    #expect(units.dropFirst().contains { !$0[12].isEmpty && Double($0[12]) != nil })
  }
}

@Suite("V1 property measures of a VGG16 run")
struct V1PropertyRunTests {
  @Test("a random-init VGG16 grating run writes each layer's V1 measure distributions and a report page") func vgg16()
    throws
  {
    let dir = try scratchFolder()
    let text = """
      name: v1
      model: {architecture: vgg16, weights: random}
      stimulus:
        kind: grating
        canvas: [48, 48]
        parameters:
          orientation: {from: 0, to: 150, steps: 6}
          frequency: {from: 0.05, to: 0.2, steps: 3, spacing: log}
          phase: [0, 90, 180, 270]
          aperture: [8, 0]
          x: 24
          y: 24
      attention: {mode: none}
      record: {layers: [features.3, features.15], units: center, responses: false}
      tuning: {axis: orientation}
      measures: [v1]
      """
    try text.write(toFile: dir + "/v1.yaml", atomically: true, encoding: .utf8)
    let outcome = try ProtocolRunner.run(try ProtocolFile.load(dir + "/v1.yaml"), output: dir + "/out")
    #expect(outcome.stimuli == 6 * 3 * 4 * 2)
    let units = try csvRows(dir + "/out/v1_properties.csv")
    #expect(units.count == 1 + 64 + 256)  // one row per centre unit, phase "none"
    let layers = try csvRows(dir + "/out/v1_layers.csv")
    let h = layers[0]
    #expect(h == ["layer", "phase", "measure", "units", "median", "q25", "q75"])
    for layer in ["features.3", "features.15"] {
      for measure in [
        "circular_variance", "orientation_bandwidth", "orth_pref_ratio", "preferred_frequency",
        "modulation_ratio_f1_f0", "surround_suppression_index",
      ] {
        let row = try #require(layers.first { $0[0] == layer && $0[2] == measure })
        #expect(Int(row[3])! > 0, "\(layer) \(measure)")
        #expect(Double(row[5])! <= Double(row[4])! && Double(row[4])! <= Double(row[6])!)
      }
      // Circular variance lies in [0, 1]; the per-unit values match the table's median.
      let cv = units.dropFirst().filter { $0[1] == layer }.compactMap { Double($0[8]) }.sorted()
      #expect(cv.allSatisfy { (0...1).contains($0) })
      let row = layers.first { $0[0] == layer && $0[2] == "circular_variance" }!
      #expect(
        abs(Double(row[4])! - (cv.count % 2 == 1 ? cv[cv.count / 2] : (cv[cv.count / 2 - 1] + cv[cv.count / 2]) / 2))
          < 1e-12)
    }
    #expect(units[0][8] == "circular_variance")
    #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.pdf")).count > 10_000)
  }
}
