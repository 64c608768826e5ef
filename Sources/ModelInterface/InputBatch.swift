import Engine
import Stimuli

/// Stacks rendered stimuli into a model's input [N, C, H, W]: a stimulus's colour planes for a
/// three-channel model when it has them, else its luminance in every channel; then each channel is
/// normalised, (x - mean_c) / std_c (skipped for the identity normalisation, so values stay bit-exact).
public func inputBatch(_ stimuli: [Stimulus], geometry g: InputGeometry) -> Tensor<Float> {
  let plane = g.height * g.width
  var v = [Float]()
  v.reserveCapacity(stimuli.count * g.channels * plane)
  for s in stimuli {
    if g.channels == 3, let colour = s.colour {
      v += colour
    } else {
      for _ in 0..<g.channels { v += s.image }
    }
  }
  if !g.normalization.isIdentity {
    v.withUnsafeMutableBufferPointer { buf in
      for i in 0..<stimuli.count {
        for c in 0..<g.channels {
          let (mean, std) = g.normalization.stats(channel: c)
          let base = buf.baseAddress! + (i * g.channels + c) * plane
          for j in 0..<plane { base[j] = (base[j] - mean) / std }
        }
      }
    }
  }
  return Tensor(shape: [stimuli.count, g.channels, g.height, g.width], scalars: v)
}

/// The centroid (x, y) of an image's mass (input pixels), or nil when it is empty.
public func centroid(_ image: [Float], width: Int) -> (x: Double, y: Double)? {
  var m = 0.0
  var sx = 0.0
  var sy = 0.0
  for (i, v) in image.enumerated() where v > 0 {
    m += Double(v)
    sx += Double(v) * Double(i % width)
    sy += Double(v) * Double(i / width)
  }
  return m > 0 ? (sx / m, sy / m) : nil
}
