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
