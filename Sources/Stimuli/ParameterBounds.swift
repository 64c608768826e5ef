/// The values a stimulus parameter may take, by what it means: positions within a few canvases of
/// the largest canvas, sizes positive and at most that canvas, angles within ten turns, and so on.
/// Protocol validation checks every number against these before anything is rendered, so no value
/// can overflow an integer, turn a range into infinities, or ask for an absurd amount of memory.
public struct ParameterBounds: Sendable, Equatable {
  /// Smallest allowed value (excluded when `lowerExclusive`).
  public var lower: Double
  /// Largest allowed value.
  public var upper: Double
  /// Whether `lower` itself is refused (sizes and frequencies must be > 0).
  public var lowerExclusive: Bool
  /// What the parameter is measured in, for messages.
  public var unit: String

  /// Whether `v` is finite and within the bounds.
  public func contains(_ v: Double) -> Bool {
    v.isFinite && (lowerExclusive ? v > lower : v >= lower) && v <= upper
  }

  /// "must be in (0, 1024] pixels" and the like.
  public var requirement: String {
    func f(_ v: Double) -> String { formatNumber(v) }
    return "must be in \(lowerExclusive ? "(" : "[")\(f(lower)), \(f(upper))] \(unit)"
  }
}

/// Limits of a stimulus sweep.
public enum StimulusLimits {
  /// Largest canvas side, pixels.
  public static let maxCanvas = 1024
  /// Most stimuli in one sweep (a run records every one of them).
  public static let maxStimuli = 10_000_000

  /// The bounds of parameter `name` (of any stimulus kind or distractor).
  public static func bounds(_ name: String) -> ParameterBounds {
    let canvas = Double(maxCanvas)
    switch name {
    case "orientation", "phase":
      return ParameterBounds(lower: -3600, upper: 3600, lowerExclusive: false, unit: "degrees")
    case "x", "y":
      return ParameterBounds(lower: -4 * canvas, upper: 4 * canvas, lowerExclusive: false, unit: "pixels")
    case "width", "length", "sigma", "size":
      return ParameterBounds(lower: 0, upper: canvas, lowerExclusive: true, unit: "pixels")
    case "aperture":
      return ParameterBounds(lower: 0, upper: canvas, lowerExclusive: false, unit: "pixels")
    case "frequency":
      return ParameterBounds(lower: 0, upper: 100, lowerExclusive: true, unit: "cycles per pixel")
    case "contrast":  // negative: dark bars and OFF dots
      return ParameterBounds(lower: -1000, upper: 1000, lowerExclusive: false, unit: "(image units)")
    case "amplitude":
      return ParameterBounds(lower: 0, upper: 1000, lowerExclusive: false, unit: "(image units)")
    default:  // mean luminance and anything new: finite and moderate
      return ParameterBounds(lower: -1000, upper: 1000, lowerExclusive: false, unit: "(image units)")
    }
  }

  /// The number of stimuli of a grid with these value counts, or nil when it exceeds `maxStimuli`
  /// (computed without overflow).
  public static func stimulusCount(_ counts: [Int]) -> Int? {
    var total = 1
    for c in counts {
      let (p, overflow) = total.multipliedReportingOverflow(by: c)
      guard !overflow, p <= maxStimuli else { return nil }
      total = p
    }
    return total
  }
}
