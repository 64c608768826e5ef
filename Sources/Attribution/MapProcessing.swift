import Engine
import Foundation
import Kernels

/// What turns a layer's map into an image-sized one: resizing, TorchRay's Gaussian smoothing, and
/// the maximum point the Pointing Game reads.
public enum MapProcessing {
  /// Resizes maps [N, h, w] to [N, height, width] with PyTorch's F.interpolate (bilinear with
  /// align_corners false, as TorchRay; or bicubic).
  public static func resized(_ maps: Tensor<Float>, height: Int, width: Int, mode: UpsampleMode = .bilinear)
    -> Tensor<Float>
  {
    let (n, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
    if h == height && w == width { return maps }
    let planes = Tensor(shape: [n, 1, h, w], scalars: maps.scalars)
    let out = withNoGrad { interpolate(planes, size: Pair(height, width), mode: mode, alignCorners: false) }
    return Tensor(shape: [n, height, width], scalars: out.scalars)
  }

  /// TorchRay's `imsmooth`: a separable Gaussian, taps f_i ∝ exp(-(i / (sqrt(2) sigma + eps))^2)
  /// for |i| <= ceil(4 sigma), normalised to sum 1, eps = 2^-23; zero padding, so the output keeps
  /// the size. `sigma` in pixels (the Pointing Game uses 0.02 * max(H, W)).
  public static func smoothed(_ maps: Tensor<Float>, sigma: Double) -> Tensor<Float> {
    precondition(sigma >= 0, "smoothing sigma must be >= 0")
    let (n, h, w) = (maps.shape[0], maps.shape[1], maps.shape[2])
    let radius = Int((4 * sigma).rounded(.up))
    if radius == 0 { return maps }
    let scale = Float(2.0.squareRoot() * sigma) + Float.ulpOfOne
    var taps = (-radius...radius).map { i -> Float in
      let t = Float(i) / scale
      return Float(exp(Double(-t * t)))
    }
    let total = taps.reduce(0, +)
    taps = taps.map { $0 / total }
    var out = [Float](repeating: 0, count: maps.count)
    var column = [Float](repeating: 0, count: h * w)
    for i in 0..<n {
      let plane = i * h * w
      // Vertical pass, then horizontal, as TorchRay's two 1-D convolutions.
      for y in 0..<h {
        for x in 0..<w {
          var s: Float = 0
          for (k, t) in taps.enumerated() {
            let yy = y + k - radius
            if yy >= 0 && yy < h { s += t * maps.scalars[plane + yy * w + x] }
          }
          column[y * w + x] = s
        }
      }
      for y in 0..<h {
        for x in 0..<w {
          var s: Float = 0
          for (k, t) in taps.enumerated() {
            let xx = x + k - radius
            if xx >= 0 && xx < w { s += t * column[y * w + xx] }
          }
          out[plane + y * w + x] = s
        }
      }
    }
    return Tensor(shape: maps.shape, scalars: out)
  }

  /// The first maximum (row-major) of map `index` of [N, h, w]: (row, column). NaN never wins.
  public static func maximumPoint(_ maps: Tensor<Float>, index: Int) -> (y: Int, x: Int) {
    let (h, w) = (maps.shape[1], maps.shape[2])
    let base = index * h * w
    var best = 0
    var top = -Float.infinity
    for j in 0..<(h * w) {
      let v = maps.scalars[base + j]
      if v > top {
        top = v
        best = j
      }
    }
    return (best / w, best % w)
  }
}
