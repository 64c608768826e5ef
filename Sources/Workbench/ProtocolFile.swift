import Foundation
import Models
import Recording
import Stimuli
import Yams

/// A validated electrophysiology protocol: which model and weights, which stimulus sweep, how
/// attention is directed, what is recorded, the tuning axis and the seed.
public struct ProtocolSpec: Sendable {
  public var name: String
  public var description: String
  /// The protocol file.
  public var file: String
  public var architecture: String
  /// The weights file, resolved against the protocol file's folder.
  public var weights: String
  public var stimulus: StimulusRequest
  /// Where the stimulus came from (a file path or "inline").
  public var stimulusSource: String
  public var condition: AttentionCondition
  public var layers: [String]
  public var units: UnitSelection
  public var writeResponses: Bool
  public var batchSize: Int
  public var tuningAxis: String
  public var reduce: TuningReduce
  public var seed: UInt64
  /// Output folder, resolved against the current directory.
  public var output: String
}

/// Reads and validates protocol files.
public enum ProtocolFile {
  static let architectures = ["object-attention-mnist", "object-attention-coco"]
  static let layersByArchitecture = [
    "object-attention-mnist": ["conv1", "conv2"], "object-attention-coco": ["conv1", "conv2", "conv3", "conv4"],
  ]
  static let keys = ["name", "description", "model", "stimulus", "attention", "record", "tuning", "seed", "output"]

  /// Parses `path`; throws `ProtocolErrors` listing every problem (file, line, column, key) found in
  /// the protocol and the stimulus file it names.
  public static func load(_ path: String) throws -> ProtocolSpec {
    let log = IssueLog(file: path)
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      throw ProtocolErrors(issues: [
        ProtocolIssue(
          file: path, line: 1, column: 1, key: "", message: "cannot be read (missing file or not UTF-8 text)")
      ])
    }
    guard let root = composeYAML(text, log: log) else { throw ProtocolErrors(issues: log.sorted) }
    let r = YAMLReader(log: log)
    let base = URL(fileURLWithPath: path).deletingLastPathComponent()
    func resolve(_ p: String) -> String {
      p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
    }
    guard let m = r.mapping(root, "", allowed: keys) else { throw ProtocolErrors(issues: log.sorted) }

    let name = r.require(m, "name", "", in: root).flatMap { r.string($0, "name") } ?? ""
    if !name.isEmpty && name.contains(where: { "/\\".contains($0) }) {
      r.log.add(m["name"], "name", "must not contain path separators")
    }
    let description = m["description"].flatMap { r.string($0, "description") } ?? ""

    // model
    var architecture = "object-attention-mnist"
    var weights = ""
    if let mn = r.require(m, "model", "", in: root),
      let mm = r.mapping(mn, "model", allowed: ["architecture", "weights"])
    {
      if let a = r.require(mm, "architecture", "model", in: mn),
        let v = r.choice(a, "model.architecture", architectures)
      {
        architecture = v
      }
      if let w = r.require(mm, "weights", "model", in: mn), let v = r.string(w, "model.weights") {
        weights = resolve(v)
        if !FileManager.default.fileExists(atPath: weights) {
          r.log.add(w, "model.weights", "no such file: \(weights)")
        }
      }
    }
    let layerNames = layersByArchitecture[architecture] ?? []

    // stimulus: a file or inline
    var stimulus: StimulusRequest? = nil
    var stimulusSource = "inline"
    if let sn = r.require(m, "stimulus", "", in: root) {
      if case .scalar = sn, let rel = r.string(sn, "stimulus") {
        let file = resolve(rel)
        stimulusSource = file
        let sub = IssueLog(file: file)
        if FileManager.default.fileExists(atPath: file) {
          stimulus = StimulusFile.load(file, log: sub)
        } else {
          r.log.add(sn, "stimulus", "no such file: \(file)")
        }
        log.issues += sub.issues
      } else {
        stimulus = StimulusFile.parse(sn, "stimulus", r)
      }
    }

    // attention
    var condition = AttentionCondition.glimpses
    if let an = m["attention"], let am = r.mapping(an, "attention", allowed: ["mode", "layer", "beta", "sigma"]) {
      let mode =
        am["mode"].flatMap { r.choice($0, "attention.mode", ["glimpses", "cue", "spatial-gain"]) } ?? "glimpses"
      switch mode {
      case "cue": condition = .cue
      case "spatial-gain":
        let layer = am["layer"].flatMap { r.choice($0, "attention.layer", layerNames) }
        if am["layer"] == nil {
          r.log.add(
            an, "attention.layer", "spatial-gain needs the layer to modulate (\(layerNames.joined(separator: ", ")))")
        }
        let beta = am["beta"].flatMap { r.number($0, "attention.beta", min: 0) } ?? 0.3
        let sigma = am["sigma"].flatMap { r.number($0, "attention.sigma", min: 0, exclusiveMin: true) } ?? 4
        condition = .spatialGain(layer: layer ?? "conv1", beta: Float(beta), sigma: sigma)
      default:
        for k in ["layer", "beta", "sigma"] where am[k] != nil {
          r.log.add(am[k], "attention.\(k)", "only used with mode: spatial-gain")
        }
      }
    }

    // record
    var layers: [String] = []
    var units = UnitSelection.all
    var responses = true
    var batch = 256
    if let rn = r.require(m, "record", "", in: root),
      let rm = r.mapping(rn, "record", allowed: ["layers", "units", "activation", "responses", "batch"])
    {
      if let ln = r.require(rm, "layers", "record", in: rn), let l = r.list(ln, "record.layers") {
        layers = l.compactMap { r.choice($0, "record.layers", layerNames) }
        if l.isEmpty { r.log.add(ln, "record.layers", "names no layer") }
      }
      if let a = rm["activation"] { _ = r.choice(a, "record.activation", ["post-relu"]) }
      if let b = rm["batch"], let v = r.integer(b, "record.batch", min: 1, max: 8192) { batch = v }
      if let b = rm["responses"], let v = r.bool(b, "record.responses") { responses = v }
      if let un = rm["units"] {
        if case .scalar = un {
          switch r.choice(un, "record.units", ["all", "center", "covering"]) {
          case "center": units = .center
          case "covering": units = .covering
          default: units = .all
          }
        } else if let l = r.list(un, "record.units") {
          var ids: [UnitID] = []
          for item in l {
            guard let parts = r.list(item, "record.units"), parts.count == 4 else {
              r.log.add(item, "record.units", "each unit is [layer, channel, y, x]")
              continue
            }
            if let layer = r.choice(parts[0], "record.units", layerNames),
              let c = r.integer(parts[1], "record.units", min: 0),
              let y = r.integer(parts[2], "record.units", min: 0), let x = r.integer(parts[3], "record.units", min: 0)
            {
              ids.append(UnitID(layer: layer, channel: c, y: y, x: x))
            }
          }
          units = .list(ids)
        }
      }
    }

    // tuning
    var axis = "orientation"
    var reduce = TuningReduce.max
    if let tn = r.require(m, "tuning", "", in: root), let tm = r.mapping(tn, "tuning", allowed: ["axis", "reduce"]) {
      let params = stimulus?.kind.parameterNames ?? []
      if let a = r.require(tm, "axis", "tuning", in: tn),
        let v = r.choice(a, "tuning.axis", params.isEmpty ? ["orientation"] : params)
      {
        axis = v
        if let st = stimulus, st.parameters.first(where: { $0.0 == v })?.1.values.count ?? 1 < 2 {
          r.log.add(a, "tuning.axis", "'\(v)' is not swept in the stimulus (give it a range or a list)")
        }
      }
      if let rd = tm["reduce"], let v = r.choice(rd, "tuning.reduce", TuningReduce.allCases.map(\.rawValue)) {
        reduce = TuningReduce(rawValue: v)!
      }
    }

    let seed = m["seed"].flatMap { r.integer($0, "seed", min: 0) } ?? 0
    let output = m["output"].flatMap { r.string($0, "output") } ?? "Reports/\(name.isEmpty ? "protocol" : name)"

    if let stimulus, log.issues.isEmpty {
      let input = inputCanvas(architecture)
      if let c = stimulus.canvas, c.height != input.height || c.width != input.width {
        r.log.add(
          m["stimulus"], "stimulus.canvas",
          "\(c.height)x\(c.width) does not match the \(architecture) model's input \(input.height)x\(input.width)")
      }
      if let problem = regionProblem(stimulus, height: input.height, width: input.width),
        var issue = stimulus.regionLocation
      {
        issue.message = problem
        log.issues.append(issue)
      }
    }
    guard log.issues.isEmpty, let stimulus else { throw ProtocolErrors(issues: log.sorted) }
    return ProtocolSpec(
      name: name, description: description, file: path, architecture: architecture, weights: weights,
      stimulus: stimulus,
      stimulusSource: stimulusSource, condition: condition, layers: layers, units: units, writeResponses: responses,
      batchSize: batch, tuningAxis: axis, reduce: reduce, seed: UInt64(seed), output: output)
  }

  /// The input canvas (height, width) of an architecture, pixels.
  public static func inputCanvas(_ architecture: String) -> (height: Int, width: Int) {
    let entry = ModelRegistry.entry(architecture)
    return (entry?.height ?? 28, entry?.width ?? 42)  // validated architectures are always registered
  }

  /// Why an explicit distractor region does not fit a `height x width` canvas, if it does not.
  public static func regionProblem(_ request: StimulusRequest, height: Int, width: Int) -> String? {
    guard let (top, left, h, w) = request.region else { return nil }
    guard top + h <= height, left + w <= width else {
      return
        "[top \(top), left \(left), height \(h), width \(w)] reaches past the \(height)x\(width) canvas (rows 0-\(height - 1), columns 0-\(width - 1))"
    }
    return nil
  }

  /// Reads a stimulus file on its own (for `ephys stimuli`).
  public static func loadStimulus(_ path: String) throws -> StimulusRequest {
    let log = IssueLog(file: path)
    guard FileManager.default.fileExists(atPath: path), let s = StimulusFile.load(path, log: log), log.issues.isEmpty
    else {
      throw ProtocolErrors(
        issues: log.issues.isEmpty
          ? [ProtocolIssue(file: path, line: 1, column: 1, key: "", message: "cannot be read")] : log.issues)
    }
    return s
  }
}
