import Foundation

/// A bar with a Gaussian cross-section: orientation in degrees (0 = horizontal, counter-clockwise,
/// image y pointing down), centre (x, y) in pixels from the canvas's top-left corner, Gaussian
/// sigma `width` in pixels across the bar, `length` in pixels along it, peak value `contrast`.
public struct GaussianBar: Sendable, Equatable {
  public var orientation: Double
  public var x, y: Double
  public var width: Double
  public var length: Double
  public var contrast: Double

  public init(orientation: Double, x: Double, y: Double, width: Double, length: Double = 20, contrast: Double = 1) {
    self.orientation = orientation
    self.x = x
    self.y = y
    self.width = width
    self.length = length
    self.contrast = contrast
  }

  /// Renders analytically: each pixel is the mean over a 4x4 grid of sample points of
  /// contrast * exp(-d^2 / (2 width^2)) with d the distance to the bar's axis, for samples whose
  /// position along the axis lies within +-length/2 (so ends and thin bars are anti-aliased).
  public func render(height: Int, width canvasWidth: Int) -> [Float] {
    let theta = orientation * Double.pi / 180
    let ux = cos(theta)
    let uy = -sin(theta)  // along the bar (counter-clockwise on screen)
    let s = 4
    var out = [Float](repeating: 0, count: height * canvasWidth)
    let inv2s2 = 1 / (2 * width * width)
    let half = length / 2
    for py in 0..<height {
      for px in 0..<canvasWidth {
        var acc = 0.0
        for sy in 0..<s {
          for sx in 0..<s {
            let dx = Double(px) + (Double(sx) + 0.5) / Double(s) - 0.5 - x
            let dy = Double(py) + (Double(sy) + 0.5) / Double(s) - 0.5 - y
            let along = dx * ux + dy * uy
            if abs(along) > half { continue }
            let across = -dx * uy + dy * ux
            acc += exp(-across * across * inv2s2)
          }
        }
        out[py * canvasWidth + px] = Float(contrast * acc / Double(s * s))
      }
    }
    return out
  }
}

/// The reference implementation's bar (object-based-attention, analysis/tuning_curves.py `bars`):
/// a 28 x `length` image whose columns are a normal pdf sampled at 28 points over [-10, 10] with
/// standard deviation `sigma` (so one pixel is 20/27 of a unit), scaled to peak 1; rotated by
/// `degrees` counter-clockwise about its centre with nearest-neighbour sampling (PIL's rotate); then
/// placed by PIL's affine transform with offsets (int(-shiftX + length/2 - width/2), shiftY).
/// Reproduced for side-by-side comparison with the analytic bars.
public struct ReferenceBar: Sendable, Equatable {
  public var degrees: Double
  public var sigma: Double
  public var shiftX, shiftY: Double
  public var length: Int

  public init(degrees: Double, sigma: Double, shiftX: Double, shiftY: Double, length: Int = 20) {
    self.degrees = degrees
    self.sigma = sigma
    self.shiftX = shiftX
    self.shiftY = shiftY
    self.length = length
  }

  /// The bar on a `height x width` canvas (float32 values in [0, 1]).
  public func render(height: Int, width: Int) -> [Float] {
    // 1. profile image: rows = 28 samples of the pdf, columns = length copies.
    let rows = 28
    let cols = length
    var profile = [Double](repeating: 0, count: rows)
    for i in 0..<rows {
      let z = -10 + 20 * Double(i) / Double(rows - 1)
      profile[i] = exp(-z * z / (2 * sigma * sigma))  // pdf up to its constant, which the scaling removes
    }
    let peak = profile.max() ?? 1
    let bar = (0..<(rows * cols)).map { Float(profile[$0 / cols] / peak) }
    // 2. PIL rotate (NEAREST, expand = False): an affine map from output to input pixel centres.
    let a = -degrees.truncatingRemainder(dividingBy: 360) * Double.pi / 180
    let cx = Double(cols) / 2
    let cy = Double(rows) / 2
    func r15(_ v: Double) -> Double { (v * 1e15).rounded() / 1e15 }  // PIL rounds the matrix to 15 decimals
    let m = [r15(cos(a)), r15(sin(a)), 0.0, r15(-sin(a)), r15(cos(a)), 0.0]
    var m2 = m[0] * -cx + m[1] * -cy + m[2]
    var m5 = m[3] * -cx + m[4] * -cy + m[5]
    m2 += cx
    m5 += cy
    let rotated = pilAffineNearest(
      bar, width: cols, height: rows, outWidth: cols, outHeight: rows, matrix: [m[0], m[1], m2, m[3], m[4], m5])
    // 3. translate onto the canvas: (1, 0, int(-x + length/2 - W/2), 0, 1, y).
    let c = (-shiftX + Double(length) / 2 - Double(width) / 2).rounded(.towardZero)  // Python's int()
    return pilAffineNearest(
      rotated, width: cols, height: rows, outWidth: width, outHeight: height, matrix: [1, 0, c, 0, 1, shiftY])
  }
}

/// PIL's affine transform with nearest sampling (Geometry.c): output pixel (x, y) reads input
/// (floor(a x' + b y' + c), floor(d x' + e y' + f)) with x' = x + 0.5, y' = y + 0.5; outside reads 0.
func pilAffineNearest(_ src: [Float], width: Int, height: Int, outWidth: Int, outHeight: Int, matrix a: [Double])
  -> [Float]
{
  var out = [Float](repeating: 0, count: outWidth * outHeight)
  for y in 0..<outHeight {
    for x in 0..<outWidth {
      let xi = a[0] * (Double(x) + 0.5) + a[1] * (Double(y) + 0.5) + a[2]
      let yi = a[3] * (Double(x) + 0.5) + a[4] * (Double(y) + 0.5) + a[5]
      // Compared as doubles first: a far-off (or non-finite) coordinate never reaches Int().
      guard xi >= 0, xi < Double(width), yi >= 0, yi < Double(height) else { continue }
      out[y * outWidth + x] = src[Int(yi) * width + Int(xi)]
    }
  }
  return out
}
