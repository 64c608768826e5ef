import Engine
import Foundation

/// How a swept bar is drawn.
public enum BarRendering: String, Sendable, CaseIterable {
  /// Exact Gaussian profile, anti-aliased (parameters in canvas pixels).
  case analytic
  /// The reference code's sampled, nearest-rotated bar (parameters in its units: sigma in
  /// 20/27-pixel units, x and y as its shifts).
  case reference
}

/// What is swept.
public enum StimulusKind: Sendable, Equatable {
  case gaussianBar(BarRendering)
  case grating
  case gabor

  /// Parameters each kind takes, with defaults for those a spec leaves out.
  public var parameterDefaults: [(String, Double)] {
    switch self {
    case .gaussianBar(.analytic):
      return [("orientation", 0), ("x", 8), ("y", 14), ("width", 1.5), ("length", 20), ("contrast", 1)]
    case .gaussianBar(.reference):
      return [("orientation", 0), ("x", -12.5), ("y", 0), ("width", 1.5), ("length", 20)]
    case .grating:
      return [
        ("orientation", 0), ("frequency", 0.1), ("phase", 0), ("contrast", 1), ("mean", 0.5), ("x", 14), ("y", 14),
        ("aperture", 0),
      ]
    case .gabor:
      return [
        ("orientation", 0), ("frequency", 0.1), ("phase", 0), ("contrast", 1), ("mean", 0.5), ("x", 14), ("y", 14),
        ("sigma", 4), ("aperture", 0),
      ]
    }
  }

  /// Parameter names in canonical order.
  public var parameterNames: [String] { parameterDefaults.map(\.0) }
}

/// A second object on the canvas that competes for attention.
public struct Distractor: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// A 28 x 28 digit image (values in [0, 1]) with its class.
    case digit(image: [Float], label: Int)
    case bar(GaussianBar)
    case grating(Grating)
    /// Uniform noise U[0, amplitude) over the region, drawn from `seed`.
    case noise(amplitude: Double, seed: UInt64)
  }
  public var kind: Kind
  /// Region on the canvas: top-left corner (row, column) and size.
  public var top, left, height, width: Int

  public init(kind: Kind, top: Int, left: Int, height: Int, width: Int) {
    self.kind = kind
    self.top = top
    self.left = left
    self.height = height
    self.width = width
  }

  /// The distractor alone on a `canvasHeight x canvasWidth` canvas.
  public func render(canvasHeight: Int, canvasWidth: Int) -> [Float] {
    var out = [Float](repeating: 0, count: canvasHeight * canvasWidth)
    let patch: [Float]
    switch kind {
    case .digit(let image, _):
      patch = image
    case .bar(let b):
      patch = b.render(height: height, width: width)
    case .grating(let g):
      patch = g.render(height: height, width: width)
    case .noise(let amplitude, let seed):
      var rng = RandomGenerator(seed: seed)
      patch = (0..<(height * width)).map { _ in Float(rng.nextUnit() * amplitude) }
    }
    let ph = kind.isDigit ? 28 : height
    let pw = kind.isDigit ? 28 : width
    for y in 0..<ph {
      for x in 0..<pw {
        let cy = top + y
        let cx = left + x
        if cy >= 0 && cy < canvasHeight && cx >= 0 && cx < canvasWidth {
          out[cy * canvasWidth + cx] = patch[y * pw + x]
        }
      }
    }
    return out
  }
}

extension Distractor.Kind {
  var isDigit: Bool {
    if case .digit = self { return true }
    return false
  }
}

/// How the stimulus and the distractor combine.
public enum Combination: String, Sendable, CaseIterable {
  /// Plain sum (the reference's tuning protocol; values may exceed 1 where they overlap).
  case sum
  /// Sum clipped to [0, 1].
  case clamp
}

/// A parametric stimulus sweep: what is drawn, the parameter grid, the canvas, an optional
/// distractor, and background noise U[0, noise) where the image is 0 (seeded per stimulus).
public struct StimulusSpec: Sendable, Equatable {
  public var kind: StimulusKind
  public var parameters: [(name: String, values: ParameterValues)]
  public var canvasHeight, canvasWidth: Int
  public var distractor: Distractor?
  public var combination: Combination
  public var noise: Double
  public var seed: UInt64

  public init(
    kind: StimulusKind, parameters: [(String, ParameterValues)], canvasHeight: Int, canvasWidth: Int,
    distractor: Distractor? = nil, combination: Combination = .sum, noise: Double = 0, seed: UInt64 = 0
  ) {
    self.kind = kind
    // Every parameter of the kind appears, in canonical order; unspecified ones take defaults.
    let given = Dictionary(parameters.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    self.parameters = kind.parameterDefaults.map { (name, d) in (name, given[name] ?? .fixed(d)) }
    self.canvasHeight = canvasHeight
    self.canvasWidth = canvasWidth
    self.distractor = distractor
    self.combination = combination
    self.noise = noise
    self.seed = seed
  }

  public static func == (a: StimulusSpec, b: StimulusSpec) -> Bool {
    a.kind == b.kind && a.parameters.map(\.name) == b.parameters.map(\.name)
      && a.parameters.map(\.values) == b.parameters.map(\.values)
      && a.canvasHeight == b.canvasHeight && a.canvasWidth == b.canvasWidth && a.distractor == b.distractor
      && a.combination == b.combination && a.noise == b.noise && a.seed == b.seed
  }

  /// The full-factorial grid (parameters in canonical order; the last varies fastest).
  public var grid: ParameterGrid { ParameterGrid(parameters.map { ($0.name, $0.values) }) }

  /// Number of stimuli.
  public var count: Int { grid.count }

  /// Parameters that take more than one value.
  public var sweptParameters: [String] { parameters.filter { $0.values.values.count > 1 }.map(\.name) }
}

/// One rendered stimulus: the composite shown to the model and its parts.
public struct Stimulus: Sendable {
  /// Position in the sweep.
  public var index: Int
  /// Parameter values by name.
  public var parameters: [String: Double]
  /// The composite (stimulus + distractor + noise), row-major canvas.
  public var image: [Float]
  /// The swept object alone.
  public var object: [Float]
  /// The distractor alone (zeros when there is none).
  public var distractor: [Float]
}

extension StimulusSpec {
  /// Renders stimulus `i` of the sweep.
  public func stimulus(_ i: Int) -> Stimulus {
    let p = grid.combination(i)
    let h = canvasHeight
    let w = canvasWidth
    let object: [Float]
    switch kind {
    case .gaussianBar(.analytic):
      object = GaussianBar(
        orientation: p["orientation"]!, x: p["x"]!, y: p["y"]!, width: p["width"]!, length: p["length"]!,
        contrast: p["contrast"]!
      )
      .render(height: h, width: w)
    case .gaussianBar(.reference):
      object = ReferenceBar(
        degrees: p["orientation"]!, sigma: p["width"]!, shiftX: p["x"]!, shiftY: p["y"]!, length: Int(p["length"]!)
      )
      .render(height: h, width: w)
    case .grating, .gabor:
      object = Grating(
        orientation: p["orientation"]!, frequency: p["frequency"]!, phase: p["phase"]!, contrast: p["contrast"]!,
        mean: p["mean"]!, x: p["x"]!, y: p["y"]!, envelopeSigma: kind == .gabor ? p["sigma"]! : nil,
        aperture: p["aperture"]! > 0 ? p["aperture"]! : nil
      ).render(height: h, width: w)
    }
    let other = distractor?.render(canvasHeight: h, canvasWidth: w) ?? [Float](repeating: 0, count: h * w)
    var image = zip(object, other).map { $0 + $1 }
    if combination == .clamp { image = image.map { min(1, max(0, $0)) } }
    if noise > 0 {
      var rng = RandomGenerator(seed: seed &+ UInt64(i) &* 0x9E37_79B9)
      for j in image.indices where image[j] <= 0 { image[j] += Float(rng.nextUnit() * noise) }
    }
    return Stimulus(index: i, parameters: p, image: image, object: object, distractor: other)
  }

  /// The condition table as CSV: one row per stimulus, every parameter a column.
  public func conditionTableCSV() -> String {
    let g = grid
    var lines = ["stimulus," + g.names.joined(separator: ",")]
    for i in 0..<g.count {
      let p = g.combination(i)
      lines.append("\(i)," + g.names.map { formatNumber(p[$0]!) }.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// A number in the shortest form that reads back exactly.
public func formatNumber(_ v: Double) -> String {
  if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
  return "\(v)"
}
