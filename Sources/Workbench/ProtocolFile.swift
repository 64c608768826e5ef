import Engine
import Foundation
import ModelInterface
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
  /// The registry name of the model.
  public var architecture: String
  /// The weights file, resolved against the protocol file's folder, or "random" (the registry's
  /// default initialisation from seed 0).
  public var weights: String
  /// An imported network's input normalisation (`model.normalization`; nil: the importer's default).
  public var normalization: InputNormalization? = nil
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
  /// Recurrent models: record every pass of each layer as well (`record.passes: all`).
  public var allPasses: Bool = false
  /// Extra measures: receptive-field maps from a probe sweep, V1 property measures from gratings.
  public var measures: [Measure] = []
  /// Also write the results as one NWB 2.x file, run.nwb (`output: {nwb: true}` or `ephys run --nwb`).
  public var writeNWB: Bool = false
  /// `attention: mode: feature-gain`: what to attend and where its values come from; the runner
  /// measures or reads the values and fills `condition` before recording.
  public var featureGain: FeatureGainRequest? = nil
  /// Set by the runner once the values are resolved: where they came from, and the orientation attended.
  public var featureGainNote: String = ""
  public var featureTargetOrientation: Double? = nil
}

/// Measures a protocol can ask for beside the attention statistics.
public enum Measure: String, Sendable, CaseIterable {
  /// Each unit's measured receptive field from a probe (a `dot`) at every position of an x-y sweep.
  case rfMap = "rf-map"
  /// brain-score's V1 properties from a grating sweep over orientation (and frequency, phase, aperture).
  case v1
}

/// Reads and validates protocol files.
public enum ProtocolFile {
  static let keys = [
    "name", "description", "model", "stimulus", "attention", "record", "tuning", "seed", "output", "measures",
  ]

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
    var architecture = ""
    var weights = ""
    var weightsNode: Node? = nil
    var normalization: InputNormalization? = nil
    var normalizationNode: Node? = nil
    let importers = ModelRegistry.importers.map(\.name)
    if let mn = r.require(m, "model", "", in: root),
      let mm = r.mapping(mn, "model", allowed: ["architecture", "weights", "normalization"] + importers)
    {
      if let nn = mm["normalization"] {
        normalization = Self.normalization(nn, r)
        normalizationNode = nn
      }
      if let importer = importers.first(where: { mm[$0] != nil }), let w = mm[importer] {
        // `model: {onnx: m.onnx}`: an imported network, architecture and weights in one file.
        if mm["architecture"] != nil || mm["weights"] != nil {
          r.log.add(mn, "model", "give either \(importer): FILE or architecture and weights, not both")
        }
        if let v = r.string(w, "model.\(importer)") {
          architecture = importer
          weightsNode = w
          weights = resolve(v)
          if !FileManager.default.fileExists(atPath: weights) {
            r.log.add(w, "model.\(importer)", "no such file: \(weights)")
          }
        }
      } else {
        if let a = r.require(mm, "architecture", "model", in: mn),
          let v = r.choice(a, "model.architecture", ModelRegistry.allNames)
        {
          architecture = v
        }
        if let w = r.require(mm, "weights", "model", in: mn), let v = r.string(w, "model.weights") {
          weightsNode = w
          weights = v == "random" ? v : resolve(v)
          if v != "random" && !FileManager.default.fileExists(atPath: weights) {
            r.log.add(w, "model.weights", "no such file: \(weights) (or 'random' for the default initialisation)")
          }
        }
      }
    }
    if let nn = normalizationNode, !architecture.isEmpty, !importers.contains(architecture) {
      r.log.add(
        nn, "model.normalization",
        "only imported networks take a normalisation; \(architecture) keeps its training's")
    }
    var entry = ModelRegistry.entry(architecture)
    if entry == nil, ModelRegistry.importers.contains(where: { $0.name == architecture }), let w = weightsNode,
      FileManager.default.fileExists(atPath: weights)
    {
      // An imported network: its layers and geometry come from the file itself.
      do { entry = try ModelRegistry.entry(architecture, file: weights, normalization: normalization) } catch {
        r.log.add(w, "model.weights", "\(error)")
      }
    }
    let layerNames = entry?.layers.map(\.name) ?? []
    // Layer names are checked against the model's; without a model (its error is logged above) a
    // list of its layers would be empty noise, so only their form is checked.
    let model = entry
    func layerName(_ node: Node, _ path: String) -> String? {
      model == nil ? r.string(node, path) : r.choice(node, path, layerNames)
    }

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

    // attention: the model's own conditions and the layer conditions every CNN has
    var condition = AttentionCondition.model(entry?.conditions.first ?? "")
    // An unknown architecture is reported once; its mode is then checked against every model's.
    let ownModes =
      entry?.conditions
      ?? ModelRegistry.entries.flatMap(\.conditions).reduce(into: [String]()) {
        if !$0.contains($1) { $0.append($1) }
      }
    let modes = ownModes + AttentionCondition.layerConditions
    let an = m["attention"]
    if an == nil, entry != nil, entry?.conditions.isEmpty ?? false {
      r.log.add(root, "attention", "\(architecture) needs an attention mode (\(modes.joined(separator: ", ")))")
    }
    var featureGain: FeatureGainRequest? = nil
    if let an,
      let am = r.mapping(
        an, "attention", allowed: ["mode", "layer", "beta", "sigma", "values", "target", "layers", "from"])
    {
      var isFeatureGain = false
      if case .scalar(let sc)? = am["mode"] { isFeatureGain = sc.string == "feature-gain" }
      if !isFeatureGain {
        for k in ["target", "layers", "from"] where am[k] != nil {
          r.log.add(am[k], "attention.\(k)", "only used with mode: feature-gain")
        }
      }
      let mode = am["mode"].flatMap { r.choice($0, "attention.mode", modes) } ?? entry?.conditions.first ?? ""
      if am["mode"] == nil, entry?.conditions.isEmpty ?? false {
        r.log.add(an, "attention.mode", "is required for \(architecture) (\(modes.joined(separator: ", ")))")
      }
      switch mode {
      case "spatial-gain", "channel-gain":
        let layer = am["layer"].flatMap { layerName($0, "attention.layer") }
        if am["layer"] == nil {
          r.log.add(
            an, "attention.layer", "\(mode) needs the layer to modulate (\(layerNames.joined(separator: ", ")))")
        }
        let beta = am["beta"].flatMap { r.number($0, "attention.beta", min: 0, max: 1e6) } ?? 0.3
        if mode == "spatial-gain" {
          if am["values"] != nil { r.log.add(am["values"], "attention.values", "only used with mode: channel-gain") }
          let sigma =
            am["sigma"].flatMap { r.number($0, "attention.sigma", min: 0, max: 1e6, exclusiveMin: true) } ?? 4
          condition = .spatialGain(layer: layer ?? "", beta: Float(beta), sigma: sigma)
        } else {
          if am["sigma"] != nil { r.log.add(am["sigma"], "attention.sigma", "only used with mode: spatial-gain") }
          var values: [Float] = []
          if let vn = am["values"] {
            values = channelValues(vn, r, resolve: resolve)
          } else {
            r.log.add(an, "attention.values", "channel-gain needs one value per channel (a list or a .npy file)")
          }
          if let entry, let layer, !values.isEmpty,
            let row = entry.layerTable().first(where: { $0.layer == layer }), row.channels != values.count
          {
            r.log.add(
              am["values"], "attention.values",
              "gives \(values.count) values but \(layer) has \(row.channels) channels")
          }
          condition = .channelGain(layer: layer ?? "", beta: Float(beta), values: values)
        }
      case "feature-gain":
        featureGain = FeatureGainRequest.parse(am, an, r, entry: entry, resolve: resolve)
        condition = .featureGain(
          layers: featureGain?.layers ?? [], beta: Float(featureGain?.beta ?? 1), values: [],
          target: featureGain?.target.description ?? "")
      case "none":
        for k in ["layer", "beta", "sigma", "values"] where am[k] != nil {
          r.log.add(am[k], "attention.\(k)", "not used with mode: none (no attention)")
        }
        condition = .none
      default:
        for k in ["layer", "beta", "sigma", "values"] where am[k] != nil {
          r.log.add(
            am[k], "attention.\(k)",
            "only used with mode: \(AttentionCondition.layerConditions.joined(separator: " or "))")
        }
        condition = .model(mode)
      }
    }

    // record
    var layers: [String] = []
    var units = UnitSelection.object
    var responses = true
    var batch = 256
    var allPasses = false
    if let rn = r.require(m, "record", "", in: root),
      let rm = r.mapping(rn, "record", allowed: ["layers", "units", "activation", "responses", "batch", "passes"])
    {
      if let pn = rm["passes"], let v = r.choice(pn, "record.passes", ["last", "all"]) {
        allPasses = v == "all"  // checked against the loaded model, whose passes the checkpoint sets
      }
      if let ln = r.require(rm, "layers", "record", in: rn), let l = r.list(ln, "record.layers") {
        // A recurrent model's layer at one pass is LAYER@passT (checked against the model's passes at run time).
        layers = l.compactMap { node in
          if case .scalar(let sc) = node, case (let base, let pass?) = splitPassLayerName(sc.string),
            entry == nil || layerNames.contains(base),
            pass >= 1
          {
            return sc.string
          }
          return layerName(node, "record.layers")
        }
        if l.isEmpty { r.log.add(ln, "record.layers", "names no layer") }
      }
      if let a = rm["activation"] { _ = r.choice(a, "record.activation", ["post-relu"]) }
      if let b = rm["batch"], let v = r.integer(b, "record.batch", min: 1, max: 8192) { batch = v }
      if let b = rm["responses"], let v = r.bool(b, "record.responses") { responses = v }
      if let un = rm["units"] {
        if case .scalar = un {
          switch r.choice(un, "record.units", ["object", "all", "center", "covering"]) {
          case "center": units = .center
          case "covering": units = .covering
          case "all": units = .all
          default: units = .object
          }
        } else if let l = r.list(un, "record.units") {
          var ids: [UnitID] = []
          for item in l {
            guard let parts = r.list(item, "record.units"), parts.count == 4 else {
              r.log.add(item, "record.units", "each unit is [layer, channel, y, x]")
              continue
            }
            if let name = layerName(parts[0], "record.units"),
              let c = r.integer(parts[1], "record.units", min: 0),
              let y = r.integer(parts[2], "record.units", min: 0), let x = r.integer(parts[3], "record.units", min: 0)
            {
              ids.append(UnitID(layer: name, channel: c, y: y, x: x))
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

    // measures
    var measures: [Measure] = []
    if let mn = m["measures"], let l = r.list(mn, "measures") {
      measures = l.compactMap { r.choice($0, "measures", Measure.allCases.map(\.rawValue)).flatMap(Measure.init) }
      let swept = Set(stimulus?.parameters.filter { $0.1.count > 1 }.map(\.0) ?? [])
      if measures.contains(.rfMap), let st = stimulus {
        if st.kind != .dot || !swept.contains("x") || !swept.contains("y") {
          r.log.add(mn, "measures", "rf-map needs a dot stimulus (kind: dot) swept over x and y")
        }
      }
      if measures.contains(.v1), let st = stimulus {
        if ![StimulusKind.grating, .gabor].contains(st.kind) || !swept.contains("orientation") {
          r.log.add(
            mn, "measures",
            "v1 needs a grating or gabor stimulus swept over orientation (and frequency, phase, aperture)")
        }
      }
    }

    let seed = m["seed"].flatMap { r.integer($0, "seed", min: 0) } ?? 0
    // `output: FOLDER` or `output: {folder: FOLDER, nwb: true}`.
    var output = "Reports/\(name.isEmpty ? "protocol" : name)"
    var nwb = false
    if let on = m["output"] {
      if case .mapping = on {
        if let om = r.mapping(on, "output", allowed: ["folder", "nwb"]) {
          if let f = om["folder"].flatMap({ r.string($0, "output.folder") }) { output = f }
          if let b = om["nwb"], let v = r.bool(b, "output.nwb") { nwb = v }
        }
      } else if let f = r.string(on, "output") {
        output = f
      }
    }
    if nwb && !responses {
      r.log.add(m["output"], "output.nwb", "NWB output holds every trial's responses: it needs record.responses: true")
    }

    if let stimulus, let entry, log.issues.isEmpty {
      let input = inputCanvas(architecture, weights: weights, stimulus: stimulus)
      if let c = stimulus.canvas, !entry.variableSize, c.height != input.height || c.width != input.width {
        r.log.add(
          m["stimulus"], "stimulus.canvas",
          "\(c.height)x\(c.width) does not match the \(architecture) model's input \(entry.height)x\(entry.width)")
      }
      if let c = stimulus.canvas, entry.variableSize, min(c.height, c.width) < entry.minimumSide {
        r.log.add(
          m["stimulus"], "stimulus.canvas",
          "\(c.height)x\(c.width) is smaller than \(architecture) takes (at least \(entry.minimumSide) pixels a side)")
      }
      if stimulus.colours != nil && entry.channels != 3 {
        r.log.add(
          m["stimulus"], "stimulus.colour",
          "\(architecture) takes \(entry.channels)-channel input; colours need a three-channel model")
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
      normalization: normalization, stimulus: stimulus,
      stimulusSource: stimulusSource, condition: condition, layers: layers, units: units, writeResponses: responses,
      batchSize: batch, tuningAxis: axis, reduce: reduce, seed: UInt64(seed), output: output, allPasses: allPasses,
      measures: measures, writeNWB: nwb, featureGain: featureGain)
  }

  /// `model.normalization`: imagenet, none, or {mean: [...], std: [...]} (one value for every channel
  /// or one per channel; finite means, positive deviations); nil with an issue logged otherwise.
  static func normalization(_ node: Node, _ r: YAMLReader) -> InputNormalization? {
    let key = "model.normalization"
    func values(_ n: Node, _ path: String) -> [Double]? {
      if case .scalar = n { return r.number(n, path).map { [$0] } }
      guard let items = r.list(n, path) else { return nil }
      guard !items.isEmpty else {
        r.log.add(n, path, "needs one value, or one per channel")
        return nil
      }
      let v = items.enumerated().compactMap { r.number($1, "\(path)[\($0)]") }
      return v.count == items.count ? v : nil
    }
    if case .scalar = node {
      guard let text = r.string(node, key) else { return nil }
      guard text == "imagenet" || text == "none", let n = InputNormalization(named: text) else {
        r.log.add(node, key, "'\(text)' is not one of imagenet, none, or {mean: [...], std: [...]}")
        return nil
      }
      return n
    }
    guard let mm = r.mapping(node, key, allowed: ["mean", "std"]),
      let meanNode = r.require(mm, "mean", key, in: node), let stdNode = r.require(mm, "std", key, in: node),
      let mean = values(meanNode, key + ".mean"), let std = values(stdNode, key + ".std")
    else { return nil }
    let n = InputNormalization(mean: mean.map(Float.init), std: std.map(Float.init))
    guard n.isValid else {
      r.log.add(node, key, "needs finite means and positive standard deviations")
      return nil
    }
    return n
  }

  /// The input canvas (height, width) a protocol runs at, pixels: the stimulus's canvas for a model
  /// that takes any size, else the model's own size.
  public static func inputCanvas(_ architecture: String, weights: String, stimulus: StimulusRequest? = nil) -> (
    height: Int, width: Int
  ) {
    // Validated names are registered (an imported network's file was read during validation).
    guard let entry = try? ModelRegistry.entry(architecture, file: weights) else { return (28, 42) }
    if entry.variableSize, let c = stimulus?.canvas { return c }
    return (entry.height, entry.width)
  }

  /// Channel-gain values: a list of numbers or a .npy file (resolved against the protocol's folder).
  static func channelValues(_ node: Node, _ r: YAMLReader, resolve: (String) -> String) -> [Float] {
    if case .scalar = node, let path = r.string(node, "attention.values") {
      let file = resolve(path)
      do {
        let values = try NPY.read(file).floats()
        guard values.allSatisfy(\.isFinite), !values.isEmpty else {
          r.log.add(node, "attention.values", "\(file) holds no values or values that are not finite")
          return []
        }
        return values
      } catch {
        r.log.add(node, "attention.values", "cannot read \(file): \(error)")
        return []
      }
    }
    guard let list = r.list(node, "attention.values") else { return [] }
    guard list.count <= 1_000_000 else {
      r.log.add(node, "attention.values", "lists \(list.count) values, more than any layer has channels")
      return []
    }
    let values = list.compactMap { r.number($0, "attention.values", min: -1e6, max: 1e6) }
    return values.count == list.count ? values.map(Float.init) : []
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
