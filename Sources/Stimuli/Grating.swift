import Foundation

/// A sinusoidal grating, optionally windowed by a Gaussian envelope (a Gabor) and a circular
/// aperture: value = mean + contrast/2 * cos(2 pi f (u) + phase) * envelope, where u is the position
/// across the stripes (orientation in degrees, 0 = vertical stripes varying along x), f in cycles per
/// pixel, phase in degrees, envelope exp(-r^2 / (2 sigma^2)) about the centre (sigma = nil: none),
/// aperture radius in pixels (nil: the whole canvas). Values are clipped to [0, 1].
public struct Grating: Sendable, Equatable {
  public var orientation: Double
  public var frequency: Double
  public var phase: Double
  public var contrast: Double
  public var mean: Double
  public var x, y: Double
  public var envelopeSigma: Double?
  public var aperture: Double?

  public init(
    orientation: Double, frequency: Double, phase: Double = 0, contrast: Double = 1, mean: Double = 0.5,
    x: Double, y: Double, envelopeSigma: Double? = nil, aperture: Double? = nil
  ) {
    self.orientation = orientation
    self.frequency = frequency
    self.phase = phase
    self.contrast = contrast
    self.mean = mean
    self.x = x
    self.y = y
    self.envelopeSigma = envelopeSigma
    self.aperture = aperture
  }

  /// Renders on a `height x width` canvas (pixel centres sampled). Outside the aperture the value is
  /// `mean` (for a Gabor, the envelope takes the value there to `mean` smoothly).
  public func render(height: Int, width: Int) -> [Float] {
    let t = orientation * Double.pi / 180
    let ux = cos(t)
    let uy = -sin(t)
    var out = [Float](repeating: Float(mean), count: height * width)
    for py in 0..<height {
      for px in 0..<width {
        let dx = Double(px) - x
        let dy = Double(py) - y
        let r2 = dx * dx + dy * dy
        if let a = aperture, r2 > a * a { continue }
        let u = dx * ux + dy * uy
        var v = cos(2 * Double.pi * frequency * u + phase * Double.pi / 180)
        if let s = envelopeSigma { v *= exp(-r2 / (2 * s * s)) }
        out[py * width + px] = Float(min(1, max(0, mean + contrast / 2 * v)))
      }
    }
    return out
  }
}

/// A plaid: two superimposed gratings of the same frequency, phase and contrast whose orientations
/// differ by `angle` degrees: value = mean + contrast/4 (cos(2 pi f u1 + phase) + cos(2 pi f u2 + phase))
/// inside the aperture (so each component has half the plaid's contrast), clipped to [0, 1].
public struct Plaid: Sendable, Equatable {
  public var first: Grating
  public var angle: Double

  public init(_ first: Grating, angle: Double) {
    self.first = first
    self.angle = angle
  }

  /// Renders on a `height x width` canvas (pixel centres sampled).
  public func render(height: Int, width: Int) -> [Float] {
    // The components are summed before clipping (each rendered alone would be clipped at 0).
    let t1 = first.orientation * Double.pi / 180
    let t2 = (first.orientation + angle) * Double.pi / 180
    let phase = first.phase * Double.pi / 180
    var out = [Float](repeating: Float(first.mean), count: height * width)
    for py in 0..<height {
      for px in 0..<width {
        let dx = Double(px) - first.x
        let dy = Double(py) - first.y
        if let r = first.aperture, dx * dx + dy * dy > r * r { continue }
        let u1 = dx * cos(t1) - dy * sin(t1)
        let u2 = dx * cos(t2) - dy * sin(t2)
        var v = cos(2 * Double.pi * first.frequency * u1 + phase) + cos(2 * Double.pi * first.frequency * u2 + phase)
        if let s = first.envelopeSigma { v *= exp(-(dx * dx + dy * dy) / (2 * s * s)) }
        out[py * width + px] = Float(min(1, max(0, first.mean + first.contrast / 4 * v)))
      }
    }
    return out
  }
}

/// A Gaussian dot on a uniform background: mean + contrast * exp(-r^2 / (2 size^2)) about (x, y)
/// (pixels), the probe of receptive-field mapping; a negative contrast draws a dark (OFF) dot.
public struct GaussianDot: Sendable, Equatable {
  public var x, y, size, contrast, mean: Double

  public init(x: Double, y: Double, size: Double, contrast: Double = 1, mean: Double = 0) {
    self.x = x
    self.y = y
    self.size = size
    self.contrast = contrast
    self.mean = mean
  }

  /// Renders on a `height x width` canvas (pixel centres sampled; exactly `mean` beyond 4 sizes).
  public func render(height: Int, width: Int) -> [Float] {
    var out = [Float](repeating: Float(mean), count: height * width)
    let reach = 4 * size
    for py in max(0, Int((y - reach).rounded(.down)))..<min(height, Int((y + reach).rounded(.up)) + 1) {
      for px in max(0, Int((x - reach).rounded(.down)))..<min(width, Int((x + reach).rounded(.up)) + 1) {
        let d2 = (Double(px) - x) * (Double(px) - x) + (Double(py) - y) * (Double(py) - y)
        if d2 <= reach * reach { out[py * width + px] = Float(mean + contrast * exp(-d2 / (2 * size * size))) }
      }
    }
    return out
  }
}
