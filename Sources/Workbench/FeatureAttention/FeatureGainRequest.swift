import Analysis
import Engine
import Foundation
import ModelInterface
import Models
import Recording
import Stimuli
import Yams

/// What a feature-attention protocol attends to: an orientation (degrees; the values are measured on
/// the protocol's own orientation sweep) or a category (a row of a study's feature_values.npz).
public enum FeatureTarget: Sendable, Equatable, CustomStringConvertible {
  case orientation(Double)
  case category(Int)

  public var description: String {
    switch self {
    case .orientation(let o): return String(format: "orientation %g deg", o)
    case .category(let c): return "category \(c)"
    }
  }
}

/// `attention: {mode: feature-gain, target, values, layers, beta, from}` of a protocol file.
public struct FeatureGainRequest: Sendable, Equatable {
  public var target: FeatureTarget
  public var values: FeatureValueKind
  public var layers: [String]
  public var beta: Double
  /// A study's feature_values.npz (category targets).
  public var from: String?

  /// Parses and checks the attention mapping; logs problems at their key and returns nil.
  static func parse(
    _ am: [String: Node], _ an: Node, _ r: YAMLReader, entry: ModelEntry?, resolve: (String) -> String
  ) -> FeatureGainRequest? {
    for k in ["layer", "sigma"] where am[k] != nil {
      r.log.add(am[k], "attention.\(k)", "not used with mode: feature-gain (it takes layers: [...] or all)")
    }
    let spatial =
      entry?.layers.filter { $0.description.contains("post-ReLU") && $0.description.hasPrefix("conv") }
      .map(\.name) ?? []
    var layers: [String] = []
    if let ln = r.require(am, "layers", "attention", in: an) {
      if case .scalar(let sc) = ln, sc.string == "all" {
        layers = spatial
      } else if let list = r.list(ln, "attention.layers") {
        let names = entry?.layers.map(\.name) ?? []
        layers = list.compactMap { r.choice($0, "attention.layers", names) }
        if layers.count != list.count { return nil }
        if Set(layers).count != layers.count { r.log.add(ln, "attention.layers", "lists a layer twice") }
      }
      if layers.isEmpty, entry != nil { r.log.add(ln, "attention.layers", "names no layer") }
    }
    let beta = am["beta"].flatMap { r.number($0, "attention.beta", min: 0, max: 1e6) } ?? 1
    let values =
      am["values"].flatMap { r.choice($0, "attention.values", FeatureValueKind.allCases.map(\.rawValue)) }
      .flatMap(FeatureValueKind.init) ?? .tuning
    var target: FeatureTarget? = nil
    if let tn = r.require(am, "target", "attention", in: an),
      let tm = r.mapping(tn, "attention.target", allowed: ["orientation", "category"])
    {
      if tm.count != 1 {
        r.log.add(tn, "attention.target", "give one of orientation: DEGREES or category: INDEX")
      } else if let o = tm["orientation"] {
        target = r.number(o, "attention.target.orientation", min: -360, max: 360).map { .orientation($0) }
      } else if let c = tm["category"] {
        target = r.integer(c, "attention.target.category", min: 0, max: 100_000).map { .category($0) }
      }
    }
    var from: String? = nil
    if let fn = am["from"], let f = r.string(fn, "attention.from") {
      from = resolve(f)
      if !FileManager.default.fileExists(atPath: from!) {
        r.log.add(fn, "attention.from", "no such file: \(from!) (a feature_values.npz of `ephys feature-attention`)")
      }
    }
    switch target {
    case .orientation?:
      if values == .gradient {
        r.log.add(
          am["values"], "attention.values",
          "gradient values need a category target with a study's values (from: feature_values.npz); an orientation target takes tuning values measured on the sweep"
        )
      }
      if am["from"] != nil {
        r.log.add(
          am["from"], "attention.from", "not used with an orientation target (values are measured on the sweep)")
      }
    case .category?:
      if am["from"] == nil {
        r.log.add(an, "attention.from", "a category target needs the study's values file (from: feature_values.npz)")
      }
    case nil: break
    }
    guard let target, !layers.isEmpty else { return nil }
    return FeatureGainRequest(target: target, values: values, layers: layers, beta: beta, from: from)
  }

  /// The attention condition with its values: for an orientation target, each listed layer's maps'
  /// tuning values measured on the sweep `spec` without attention (mean response over the stimuli of
  /// each orientation and over positions, z-scored across orientations) at the swept orientation
  /// nearest the target (circular, period 180 degrees); for a category target, the study's values
  /// (`KIND.LAYER` arrays of feature_values.npz, row = category). Also returns a sentence on where the
  /// values came from.
  func resolve(_ spec: StimulusSpec, model: RecordableModel, batchSize: Int, progress: (Int, Int) -> Void) throws
    -> (condition: AttentionCondition, note: String, orientation: Double?)
  {
    var values: [[Float]] = []
    var note = ""
    var used: Double? = nil
    switch target {
    case .category(let c):
      let archive = try readTensorFile(from ?? "")
      for layer in layers {
        let key = "\(self.values.rawValue).\(layer)"
        guard let t = archive[key] else {
          throw RecordingError(
            "\(from ?? ""): no array \(key) (has \(archive.names.prefix(6).joined(separator: ", ")))")
        }
        guard t.shape.count == 2, c < t.shape[0] else {
          throw RecordingError("\(from ?? ""): \(key) is \(t.shape); category \(c) is not one of its rows")
        }
        let all = try t.floats()
        values.append(Array(all[(c * t.shape[1])..<((c + 1) * t.shape[1])]))
      }
      note = "\(self.values.rawValue) values of category \(c) from \(from ?? "")"
    case .orientation(let target):
      guard let axis = spec.grid.names.firstIndex(of: "orientation") else {
        throw RecordingError(
          "attention.target.orientation needs a stimulus that sweeps orientation (it sweeps \(spec.grid.names.joined(separator: ", ")))"
        )
      }
      let orientations = spec.grid.values[axis]
      guard orientations.count >= 2 else {
        throw RecordingError("attention.target.orientation: the sweep has \(orientations.count) orientation")
      }
      func circular(_ a: Double, _ b: Double) -> Double {
        let d = abs((a - b).truncatingRemainder(dividingBy: 180))
        return min(d, 180 - d)
      }
      let nearest = orientations.indices.min {
        circular(orientations[$0], target) < circular(orientations[$1], target)
      }!
      used = orientations[nearest]
      let geometries = try layers.map { try model.geometry(of: $0) }
      var sums = geometries.map { [Double](repeating: 0, count: orientations.count * $0.channels) }
      var counts = [Int](repeating: 0, count: orientations.count)
      for start in stride(from: 0, to: spec.count, by: max(1, batchSize)) {
        let stimuli = (start..<min(spec.count, start + max(1, batchSize))).map { spec.stimulus($0) }
        let rec = try model.record(stimuli, condition: .none, layers: layers)
        for (i, st) in stimuli.enumerated() {
          guard let o = st.parameters["orientation"], let oi = orientations.firstIndex(of: o) else { continue }
          counts[oi] += 1
          for (k, g) in geometries.enumerated() {
            let plane = g.height * g.width
            let base = i * g.channels * plane
            rec.activity[0][k].scalars.withUnsafeBufferPointer { v in
              for ch in 0..<g.channels {
                var s = 0.0
                for p in 0..<plane { s += Double(v[base + ch * plane + p]) }
                sums[k][oi * g.channels + ch] += s / Double(plane)
              }
            }
          }
        }
        progress(min(spec.count, start + batchSize), spec.count)
      }
      for (k, g) in geometries.enumerated() {
        var v = [Float](repeating: 0, count: g.channels)
        for ch in 0..<g.channels {
          let means = orientations.indices.map { sums[k][$0 * g.channels + ch] / Double(max(1, counts[$0])) }
          v[ch] = Float(zScored(means)[nearest])
        }
        values.append(v)
      }
      note = String(
        format:
          "tuning values measured on this sweep without attention (mean response per orientation over the other parameters and positions, z-scored across %d orientations), at %g deg (the swept orientation nearest %g deg)",
        orientations.count, orientations[nearest], target)
    }
    return (.featureGain(layers: layers, beta: Float(beta), values: values, target: target.description), note, used)
  }
}
