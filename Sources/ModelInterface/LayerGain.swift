import Engine
import Foundation
import Stimuli

/// The multiplicative gain a layer condition applies to a layer's output in one phase, for a batch
/// of stimuli: [N, 1, H, W] for a spatial gain, [1, C, 1, 1] for a channel gain; nil when the phase
/// runs without gain (or the condition is a model's own). `canvasWidth` is the stimuli's width, pixels.
public func layerGain(
  _ condition: AttentionCondition, phase: Int, stimuli: [Stimulus], layer: LayerGeometry, canvasWidth: Int
) -> Tensor<Float>? {
  switch condition {
  case .spatialGain(_, let beta, let sigma):
    let centres = stimuli.map { st in centroid(phase == 0 ? st.object : st.distractor, width: canvasWidth) }
    return spatialGainMap(layer, centres: centres, beta: beta, sigma: sigma)
  case .channelGain(_, let beta, let values):
    guard phase == 0 else { return nil }
    return channelGain(beta: beta, values: values)
  case .featureGain(let layers, let beta, let values, _):
    guard phase == 0, let k = layers.firstIndex(of: layer.name), k < values.count else { return nil }
    return channelGain(beta: beta, values: values[k])
  case .model, .none:
    return nil
  }
}

/// The spatial gain 1 + beta exp(-d^2 / (2 sigma^2)) over a layer's positions for each image, d the
/// distance (input pixels) from the position's receptive-field centre to the image's centre (no gain
/// where the centre is nil), broadcast over channels: [N, 1, H, W].
public func spatialGainMap(
  _ g: LayerGeometry, centres: [(x: Double, y: Double)?], beta: Float, sigma: Double
) -> Tensor<Float> {
  var v = [Float](repeating: 1, count: centres.count * g.height * g.width)
  for (i, c) in centres.enumerated() {
    guard let c else { continue }
    for y in 0..<g.height {
      for x in 0..<g.width {
        let rf = g.receptiveField(y, x)
        let cy = Double(rf.rows.lowerBound + rf.rows.upperBound) / 2
        let cx = Double(rf.cols.lowerBound + rf.cols.upperBound) / 2
        let d2 = (cx - c.x) * (cx - c.x) + (cy - c.y) * (cy - c.y)
        let falloff = Float(exp(-d2 / (2 * sigma * sigma)))
        v[(i * g.height + y) * g.width + x] = 1 + beta * falloff
      }
    }
  }
  return Tensor(shape: [centres.count, 1, g.height, g.width], scalars: v)
}

/// Per-channel gains max(0, 1 + beta * v_k) (Lindsay & Miller 2018's feature-similarity gain form),
/// shaped [1, C, 1, 1] to broadcast over a batch of [N, C, H, W] maps.
public func channelGain(beta: Float, values: [Float]) -> Tensor<Float> {
  Tensor(shape: [1, values.count, 1, 1], scalars: values.map { max(0, 1 + beta * $0) })
}
