import Foundation
import Stimuli
import Yams

/// A distractor as written in a stimulus file, before digits are looked up in the data set.
public enum DistractorRequest: Sendable, Equatable {
  /// An MNIST digit: by class (the first held-out test digit of that class) or by index into the
  /// MNIST subset.
  case digit(classLabel: Int?, index: Int?)
  case bar(GaussianBar)
  case grating(Grating)
  case noise(amplitude: Double)
  /// A PNG or JPEG file (resolved path), shown in luminance at the region's size.
  case image(path: String)
}

/// A stimulus sweep as written in a file: everything except the digit images.
public struct StimulusRequest: Sendable {
  public var kind: StimulusKind
  public var parameters: [(String, ParameterValues)]
  public var canvas: (height: Int, width: Int)?
  public var distractor: DistractorRequest?
  /// Region as (top, left, height, width), or nil for the default (the right 28 columns).
  public var region: (Int, Int, Int, Int)?
  public var regionName: String?
  /// Where an explicit region was written (file, line, column, key), for errors found once the
  /// canvas is known.
  var regionLocation: ProtocolIssue?
  public var combination: Combination
  public var noise: Double
  /// Colours of the swept object and the distractor (nil: luminance only).
  public var colours: StimulusColours? = nil
  /// Pixels per degree when spatial parameters are in degrees of visual angle (nil: pixels).
  public var pixelsPerDegree: Double? = nil
  /// Side of a digit distractor, pixels (nil: the region's shorter side).
  public var distractorSize: Int? = nil
  /// Trials per condition, their Gaussian pixel noise (sd) and position jitter (see `StimulusSpec`).
  public var repeats: Int = 1
  public var trialNoise: Double = 0
  public var jitter: Double = 0
}

enum StimulusFile {
  static let keys = [
    "kind", "rendering", "canvas", "parameters", "distractor", "combine", "noise", "description", "colour", "units",
    "pixels_per_degree", "repeats", "trial_noise", "jitter",
  ]
  static let kinds = ["gaussian-bar", "grating", "gabor", "plaid", "dot"]

  /// Reads a stimulus mapping (from its own file or inline in a protocol).
  static func parse(_ node: Node, _ path: String, _ r: YAMLReader) -> StimulusRequest? {
    guard let m = r.mapping(node, path, allowed: keys) else { return nil }
    func p(_ k: String) -> String { path.isEmpty ? k : path + "." + k }
    guard let kindNode = r.require(m, "kind", path, in: node), let kindName = r.choice(kindNode, p("kind"), kinds)
    else { return nil }
    var kind: StimulusKind
    switch kindName {
    case "grating": kind = .grating
    case "gabor": kind = .gabor
    case "plaid": kind = .plaid
    case "dot": kind = .dot
    default: kind = .gaussianBar(.analytic)
    }
    if let rn = m["rendering"] {
      if case .gaussianBar = kind, let v = r.choice(rn, p("rendering"), BarRendering.allCases.map(\.rawValue)) {
        kind = .gaussianBar(BarRendering(rawValue: v)!)
      } else if case .gaussianBar = kind {
      } else {
        r.log.add(rn, p("rendering"), "only gaussian-bar stimuli have a rendering")
      }
    }
    var canvas: (Int, Int)? = nil
    if let c = m["canvas"], let l = r.list(c, p("canvas")) {
      if l.count == 2, let h = r.integer(l[0], p("canvas"), min: 4, max: StimulusLimits.maxCanvas),
        let w = r.integer(l[1], p("canvas"), min: 4, max: StimulusLimits.maxCanvas)
      {
        canvas = (h, w)
      } else if l.count != 2 {
        r.log.add(c, p("canvas"), "expected [height, width]")
      }
    }
    var parameters: [(String, ParameterValues)] = []
    if let pn = m["parameters"] {
      let names = kind.parameterNames
      if let pm = r.mapping(pn, p("parameters"), allowed: names) {
        for name in names {
          guard let v = pm[name] else { continue }
          let key = p("parameters") + "." + name
          if let values = parameterValues(v, key, r, bounds: StimulusLimits.bounds(name)) {
            parameters.append((name, values))
          }
        }
        let counts = parameters.map { $0.1.count }
        if StimulusLimits.stimulusCount(counts) == nil {
          r.log.add(
            pn, p("parameters"),
            "\(counts.map(String.init).joined(separator: " x ")) values make more than \(StimulusLimits.maxStimuli) stimuli, the most one run takes: sweep fewer values or split the sweep into several protocols"
          )
        }
      }
    }
    var request = StimulusRequest(
      kind: kind, parameters: parameters, canvas: canvas, distractor: nil, region: nil, regionName: nil,
      combination: .sum, noise: 0)
    if let c = m["combine"], let v = r.choice(c, p("combine"), Combination.allCases.map(\.rawValue)) {
      request.combination = Combination(rawValue: v)!
    }
    if let n = m["noise"], let v = r.number(n, p("noise"), min: 0, max: 1) { request.noise = v }
    if let n = m["trial_noise"], let v = r.number(n, p("trial_noise"), min: 0, max: 10) { request.trialNoise = v }
    if let n = m["jitter"], let v = r.number(n, p("jitter"), min: 0, max: Double(StimulusLimits.maxCanvas)) {
      request.jitter = v
      if !kind.parameterNames.contains("x") {
        r.log.add(n, p("jitter"), "this stimulus kind has no position to jitter")
      }
    }
    if let n = m["repeats"], let v = r.integer(n, p("repeats"), min: 1, max: 10_000) {
      request.repeats = v
      if v > 1 && request.noise == 0 && request.trialNoise == 0 && request.jitter == 0 {
        r.log.add(
          n, p("repeats"),
          "\(v) repeats without trial_noise, noise or jitter would be \(v) identical trials of a deterministic network; add trial_noise (e.g. 0.05) or jitter"
        )
      }
      let counts = parameters.map { $0.1.count } + [v]
      if StimulusLimits.stimulusCount(counts) == nil {
        r.log.add(
          n, p("repeats"), "with the parameters' values this makes more than \(StimulusLimits.maxStimuli) stimuli")
      }
    }
    if let d = m["distractor"] { parseDistractor(d, p("distractor"), r, into: &request) }
    if let c = m["colour"], let cm = r.mapping(c, p("colour"), allowed: ["object", "distractor"]) {
      func rgb(_ k: String) -> [Double]? {
        guard let n = cm[k] else { return nil }
        guard let l = r.list(n, p("colour." + k)), l.count == 3 else {
          r.log.add(n, p("colour." + k), "expected [red, green, blue], each in 0...1")
          return nil
        }
        let v = l.compactMap { r.number($0, p("colour." + k), min: 0, max: 1) }
        return v.count == 3 ? v : nil
      }
      let object = rgb("object") ?? [1, 1, 1]
      request.colours = StimulusColours(object: object, distractor: rgb("distractor") ?? [1, 1, 1])
    }
    let units = m["units"].flatMap { r.choice($0, p("units"), ["pixels", "degrees"]) } ?? "pixels"
    if units == "degrees" {
      if case .gaussianBar(.reference) = kind {
        r.log.add(m["units"], p("units"), "the reference rendering takes its own units; use pixels")
      }
      if let n = m["pixels_per_degree"] {
        request.pixelsPerDegree = r.number(n, p("pixels_per_degree"), min: 0, max: 10_000, exclusiveMin: true)
      } else {
        r.log.add(m["units"], p("pixels_per_degree"), "degrees need pixels_per_degree (e.g. 32)")
      }
    } else if m["pixels_per_degree"] != nil {
      r.log.add(m["pixels_per_degree"], p("pixels_per_degree"), "only used with units: degrees")
    }
    return request
  }

  /// A parameter's values: a number, a list of numbers or a range {from, to, steps}; every value
  /// (and both ends of a range) within `bounds`.
  static func parameterValues(_ node: Node, _ key: String, _ r: YAMLReader, bounds: ParameterBounds)
    -> ParameterValues?
  {
    switch node {
    case .scalar:
      return r.bounded(node, key, bounds).map { .fixed($0) }
    case .sequence(let s):
      guard s.count <= StimulusLimits.maxStimuli else {
        r.log.add(node, key, "lists \(s.count) values, more than \(StimulusLimits.maxStimuli)")
        return nil
      }
      let values = s.compactMap { r.bounded($0, key, bounds) }
      if s.isEmpty { r.log.add(node, key, "an empty list gives no stimuli") }
      return values.count == s.count && !s.isEmpty ? .list(values) : nil
    case .mapping:
      guard let m = r.mapping(node, key, allowed: ["from", "to", "steps", "spacing"]) else { return nil }
      guard let f = r.require(m, "from", key, in: node), let t = r.require(m, "to", key, in: node),
        let st = r.require(m, "steps", key, in: node)
      else { return nil }
      guard let a = r.bounded(f, key + ".from", bounds), let b = r.bounded(t, key + ".to", bounds),
        let n = r.integer(st, key + ".steps", min: 1, max: 100_000)
      else { return nil }
      if let sp = m["spacing"], r.choice(sp, key + ".spacing", ["linear", "log"]) == "log" {
        guard a > 0, b > 0 else {
          r.log.add(sp, key + ".spacing", "log spacing needs positive from and to (here \(a) and \(b))")
          return nil
        }
        return .logRange(from: a, to: b, steps: n)
      }
      return .range(from: a, to: b, steps: n)
    case .alias:
      r.log.add(node, key, "aliases are not supported")
      return nil
    }
  }

  static func parseDistractor(_ node: Node, _ path: String, _ r: YAMLReader, into request: inout StimulusRequest) {
    let allowed = [
      "kind", "class", "index", "region", "orientation", "x", "y", "width", "length", "contrast", "frequency", "phase",
      "mean", "sigma", "amplitude", "size", "file",
    ]
    guard let m = r.mapping(node, path, allowed: allowed) else { return }
    func p(_ k: String) -> String { path + "." + k }
    func num(_ k: String, _ d: Double) -> Double {
      guard let n = m[k] else { return d }
      return r.bounded(n, p(k), StimulusLimits.bounds(k)) ?? d
    }
    guard let kn = r.require(m, "kind", path, in: node),
      let kind = r.choice(kn, p("kind"), ["digit", "bar", "grating", "noise", "image"])
    else { return }
    if let sn = m["size"] {
      if kind == "digit" {
        request.distractorSize = r.integer(sn, p("size"), min: 1, max: StimulusLimits.maxCanvas)
      } else {
        r.log.add(sn, p("size"), "only digit distractors take a size (other kinds fill their region)")
      }
    }
    if m["file"] != nil && kind != "image" { r.log.add(m["file"], p("file"), "only used with kind: image") }
    switch kind {
    case "digit":
      let c = m["class"].flatMap { r.integer($0, p("class"), min: 0, max: 9) }
      let i = m["index"].flatMap { r.integer($0, p("index"), min: 0) }
      if c == nil && i == nil && m["class"] == nil && m["index"] == nil {
        r.log.add(node, path, "a digit distractor needs 'class' or 'index'")
      }
      if m["class"] != nil && m["index"] != nil { r.log.add(node, path, "give either 'class' or 'index', not both") }
      request.distractor = .digit(classLabel: c, index: i)
    case "bar":
      request.distractor = .bar(
        GaussianBar(
          orientation: num("orientation", 90), x: num("x", 14), y: num("y", 14),
          width: num("width", 1.5), length: num("length", 20), contrast: num("contrast", 1)))
    case "grating":
      request.distractor = .grating(
        Grating(
          orientation: num("orientation", 0), frequency: num("frequency", 0.15), phase: num("phase", 0),
          contrast: num("contrast", 1), mean: num("mean", 0), x: num("x", 14), y: num("y", 14),
          envelopeSigma: m["sigma"] != nil ? num("sigma", 4) : nil))
    case "image":
      if let fn = r.require(m, "file", path, in: node), let f = r.string(fn, p("file")) {
        let file = f.hasPrefix("/") ? f : r.base.appendingPathComponent(f).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: file) {
          request.distractor = .image(path: file)
        } else {
          r.log.add(fn, p("file"), "no such file: \(file)")
        }
      }
    default:
      request.distractor = .noise(amplitude: num("amplitude", 0.5))
    }
    if let rn = m["region"] {
      if case .scalar = rn {
        request.regionName = r.choice(rn, p("region"), ["left", "right", "whole"])
      } else if let l = r.list(rn, p("region")) {
        let v = l.enumerated().compactMap { (i, n) in
          r.integer(n, p("region"), min: i < 2 ? 0 : 1, max: StimulusLimits.maxCanvas)
        }
        if v.count == 4 && l.count == 4 {
          request.region = (v[0], v[1], v[2], v[3])
          request.regionLocation = ProtocolIssue(
            file: r.log.file, line: rn.mark?.line ?? 1, column: rn.mark?.column ?? 1, key: p("region"), message: "")
        } else if l.count != 4 {
          r.log.add(rn, p("region"), "expected left, right, whole or [top, left, height, width]")
        }
      }
    }
  }

  /// Reads a stimulus file from disk.
  static func load(_ path: String, log: IssueLog) -> StimulusRequest? {
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
      log.add(nil, "", "cannot be read")
      return nil
    }
    guard let root = composeYAML(text, log: log) else { return nil }
    return parse(root, "", YAMLReader(log: log))
  }
}
