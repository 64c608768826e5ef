import Engine
import Foundation
import ImageIO

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
  /// Two superimposed gratings `angle` degrees apart.
  case plaid
  /// A Gaussian dot (receptive-field mapping probe).
  case dot

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
    case .plaid:
      return [
        ("orientation", 0), ("angle", 90), ("frequency", 0.1), ("phase", 0), ("contrast", 1), ("mean", 0.5),
        ("x", 14), ("y", 14), ("aperture", 0),
      ]
    case .dot:
      return [("x", 14), ("y", 14), ("size", 1.5), ("contrast", 1), ("mean", 0)]
    }
  }

  /// Parameters measured in pixels (or degrees of visual angle): positions, widths, lengths, envelopes.
  public static let spatialParameters: Set<String> = ["x", "y", "width", "length", "sigma", "aperture", "size"]

  /// Parameter names in canonical order.
  public var parameterNames: [String] { parameterDefaults.map(\.0) }
}

/// A second object on the canvas that competes for attention.
public struct Distractor: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// A square digit image (values in [0, 1], 28 x 28 for MNIST) with its class, drawn as a square
    /// as large as the region's shorter side at the region's top-left corner.
    case digit(image: [Float], label: Int)
    /// A greyscale picture (values in [0, 1], `height x width`, e.g. from an image file), drawn at the
    /// region's size.
    case picture(pixels: [Float], height: Int, width: Int)
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
    var patch: [Float]
    var ph = height
    var pw = width
    switch kind {
    case .digit(let image, _):
      // A square digit as large as the region's shorter side, at its top-left corner.
      let side = Int(Double(image.count).squareRoot().rounded())
      ph = min(height, width)
      pw = ph
      patch = resampleBilinear(image, channels: 1, height: side, width: side, toHeight: ph, toWidth: pw)
    case .picture(let pixels, let h, let w):
      patch = resampleBilinear(pixels, channels: 1, height: h, width: w, toHeight: height, toWidth: width)
    case .bar(let b):
      patch = b.render(height: height, width: width)
    case .grating(let g):
      patch = g.render(height: height, width: width)
    case .noise(let amplitude, let seed):
      var rng = RandomGenerator(seed: seed)
      patch = (0..<(height * width)).map { _ in Float(rng.nextUnit() * amplitude) }
    }
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

/// How the stimulus and the distractor combine.
public enum Combination: String, Sendable, CaseIterable {
  /// Plain sum (the reference's tuning protocol; values may exceed 1 where they overlap).
  case sum
  /// Sum clipped to [0, 1].
  case clamp
}

/// The colours of a stimulus's objects: RGB multipliers in [0, 1] of the swept object's and the
/// distractor's luminance (white = [1, 1, 1]).
public struct StimulusColours: Sendable, Equatable {
  public var object: [Double]
  public var distractor: [Double]

  public init(object: [Double], distractor: [Double] = [1, 1, 1]) {
    self.object = object
    self.distractor = distractor
  }
}

/// A parametric stimulus sweep: what is drawn, the parameter grid, the canvas, an optional
/// distractor, background noise U[0, noise) where the image is 0 (seeded per stimulus), optional
/// colours, and the unit of the spatial parameters.
public struct StimulusSpec: Sendable, Equatable {
  public var kind: StimulusKind
  public var parameters: [(name: String, values: ParameterValues)]
  public var canvasHeight, canvasWidth: Int
  public var distractor: Distractor?
  public var combination: Combination
  public var noise: Double
  public var seed: UInt64
  /// Colours of the objects (nil: luminance only, the same plane in every channel).
  public var colours: StimulusColours?
  /// Pixels per degree of visual angle when positions, sizes, widths and lengths are in degrees and
  /// spatial frequencies in cycles per degree (nil: pixels and cycles per pixel). Tables keep the
  /// values as given; rendering converts them.
  public var pixelsPerDegree: Double?
  /// Trials: each condition is shown `repeats` times (a `repeat` parameter, slowest in the grid), each
  /// repeat with its own draws of the noise below, so conditions have independent trials.
  public var repeats: Int = 1
  /// Standard deviation of Gaussian pixel noise added to every pixel of the composite, drawn per
  /// stimulus (and so per repeat) from the seed; 0 = none.
  public var trialNoise: Double = 0
  /// Position jitter: the swept object's x and y move by U[-jitter, jitter] pixels (or degrees) per
  /// stimulus, drawn from the seed; 0 = none.
  public var jitter: Double = 0

  public init(
    kind: StimulusKind, parameters: [(String, ParameterValues)], canvasHeight: Int, canvasWidth: Int,
    distractor: Distractor? = nil, combination: Combination = .sum, noise: Double = 0, seed: UInt64 = 0,
    colours: StimulusColours? = nil, pixelsPerDegree: Double? = nil
  ) {
    self.colours = colours
    self.pixelsPerDegree = pixelsPerDegree
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
      && a.combination == b.combination && a.noise == b.noise && a.seed == b.seed && a.colours == b.colours
      && a.pixelsPerDegree == b.pixelsPerDegree && a.repeats == b.repeats && a.trialNoise == b.trialNoise
      && a.jitter == b.jitter
  }

  /// The full-factorial grid (parameters in canonical order; the last varies fastest), with a
  /// `repeat` parameter first (slowest) when there are several repeats.
  public var grid: ParameterGrid {
    let repeatAxis: [(String, ParameterValues)] =
      repeats > 1 ? [("repeat", .range(from: 0, to: Double(repeats - 1), steps: repeats))] : []
    return ParameterGrid(repeatAxis + parameters.map { ($0.name, $0.values) })
  }

  /// Stimuli per repeat (the conditions of the sweep).
  public var conditionCount: Int { count / max(1, repeats) }

  /// Number of stimuli.
  public var count: Int { grid.count }

  /// Parameters that take more than one value.
  public var sweptParameters: [String] {
    (repeats > 1 ? ["repeat"] : []) + parameters.filter { $0.values.values.count > 1 }.map(\.name)
  }
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
  /// The composite in colour, planar RGB [3, H, W], when the sweep has colours (nil: luminance only).
  public var colour: [Float]?

  public init(
    index: Int, parameters: [String: Double], image: [Float], object: [Float], distractor: [Float],
    colour: [Float]? = nil
  ) {
    self.index = index
    self.parameters = parameters
    self.image = image
    self.object = object
    self.distractor = distractor
    self.colour = colour
  }
}

extension StimulusSpec {
  /// Renders stimulus `i` of the sweep.
  public func stimulus(_ i: Int) -> Stimulus {
    let given = grid.combination(i)
    var p = pixelsPerDegree.map { degreesToPixels(given, pixelsPerDegree: $0) } ?? given
    if jitter > 0, p["x"] != nil {
      var rng = RandomGenerator(seed: seed &+ 0x5EED_0F_7177E5 &+ UInt64(i) &* 0x9E37_79B9)
      let scale = jitter * (pixelsPerDegree ?? 1)
      p["x"]! += (2 * rng.nextUnit() - 1) * scale
      p["y"]! += (2 * rng.nextUnit() - 1) * scale
    }
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
    case .plaid:
      object = Plaid(
        Grating(
          orientation: p["orientation"]!, frequency: p["frequency"]!, phase: p["phase"]!, contrast: p["contrast"]!,
          mean: p["mean"]!, x: p["x"]!, y: p["y"]!, aperture: p["aperture"]! > 0 ? p["aperture"]! : nil),
        angle: p["angle"]!
      ).render(height: h, width: w)
    case .dot:
      object = GaussianDot(x: p["x"]!, y: p["y"]!, size: p["size"]!, contrast: p["contrast"]!).render(
        height: h, width: w)
    }
    let other = distractor?.render(canvasHeight: h, canvasWidth: w) ?? [Float](repeating: 0, count: h * w)
    var image = zip(object, other).map { $0 + $1 }
    if combination == .clamp { image = image.map { min(1, max(0, $0)) } }
    if noise > 0 {
      var rng = RandomGenerator(seed: seed &+ UInt64(i) &* 0x9E37_79B9)
      for j in image.indices where image[j] <= 0 { image[j] += Float(rng.nextUnit() * noise) }
    }
    if trialNoise > 0 {
      var rng = RandomGenerator(seed: seed &+ 0x7121_A1 &+ UInt64(i) &* 0x9E37_79B9)
      for j in image.indices { image[j] += Float(rng.normal() * trialNoise) }
    }
    var colour: [Float]? = nil
    if let colours {
      // Each channel: the objects weighted by their colours, combined as the luminance image is, plus
      // the same background noise.
      var planes = [Float](repeating: 0, count: 3 * h * w)
      for c in 0..<3 {
        let a = Float(colours.object[c])
        let b = Float(colours.distractor[c])
        for j in 0..<(h * w) {
          var grey = object[j] + other[j]
          var v = object[j] * a + other[j] * b
          if combination == .clamp {
            grey = min(1, max(0, grey))
            v = min(1, max(0, v))
          }
          planes[c * h * w + j] = v + (image[j] - grey)
        }
      }
      colour = planes
    }
    return Stimulus(index: i, parameters: given, image: image, object: object, distractor: other, colour: colour)
  }
}

/// `parameters` (by name) converted from degrees of visual angle to pixels: the spatial parameters
/// (`StimulusKind.spatialParameters`) times `ppd`, `frequency` (cycles per degree) divided by it.
public func degreesToPixels(_ parameters: [String: Double], pixelsPerDegree ppd: Double) -> [String: Double] {
  var out = parameters
  for (name, v) in parameters {
    if StimulusKind.spatialParameters.contains(name) { out[name] = v * ppd }
    if name == "frequency" { out[name] = v / ppd }
  }
  return out
}

extension GaussianBar {
  /// The bar with position, width and length given in degrees converted to pixels.
  public func inPixels(pixelsPerDegree ppd: Double) -> GaussianBar {
    let p = degreesToPixels(["x": x, "y": y, "width": width, "length": length], pixelsPerDegree: ppd)
    return GaussianBar(
      orientation: orientation, x: p["x"]!, y: p["y"]!, width: p["width"]!, length: p["length"]!, contrast: contrast)
  }
}

extension Grating {
  /// The grating with position, envelope and aperture in degrees and frequency in cycles per degree
  /// converted to pixels.
  public func inPixels(pixelsPerDegree ppd: Double) -> Grating {
    let p = degreesToPixels(["x": x, "y": y, "frequency": frequency], pixelsPerDegree: ppd)
    return Grating(
      orientation: orientation, frequency: p["frequency"]!, phase: phase, contrast: contrast, mean: mean, x: p["x"]!,
      y: p["y"]!, envelopeSigma: envelopeSigma.map { $0 * ppd }, aperture: aperture.map { $0 * ppd })
  }
}

extension StimulusSpec {
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
