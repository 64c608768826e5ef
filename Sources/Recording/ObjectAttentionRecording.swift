import Engine
import Foundation
import Models
import Stimuli

extension ObjectAttentionNet: RecordableModel {
  public var inputShape: (channels: Int, height: Int, width: Int) {
    (config.channels[0], config.inputHeight, config.inputWidth)
  }

  /// conv1 ... convL (post-ReLU, pre-pool). Receptive fields follow the k = 4 convs and 2 x 2 pools.
  public var recordableLayers: [LayerGeometry] {
    let sizes = config.blockInputSizes
    return (0..<config.blocks).map { l in
      let s = config.convSize(sizes[l])
      let level = l
      return LayerGeometry(name: "conv\(l + 1)", channels: config.channels[l + 1], height: s.h, width: s.w) { y, x in
        var r = (y, y + 3)
        var c = (x, x + 3)
        for _ in 0..<level {
          r = (2 * r.0, 2 * r.1 + 1 + 3)
          c = (2 * c.0, 2 * c.1 + 1 + 3)
        }
        return (r.0...r.1, c.0...c.1)
      }
    }
  }

  public func supports(_ condition: AttentionCondition) -> Bool { true }

  public func record(_ stimuli: [Stimulus], condition: AttentionCondition, layers: [String]) throws -> BatchRecording {
    let names = config.convLayerNames
    let idx = try layers.map { name -> Int in
      guard let i = names.firstIndex(of: name) else {
        throw RecordingError("layer '\(name)' is not one of \(names.joined(separator: ", "))")
      }
      return i
    }
    if case .spatialGain(let layer, _, _) = condition, !names.contains(layer) {
      throw RecordingError("spatial-gain layer '\(layer)' is not one of \(names.joined(separator: ", "))")
    }
    let shape = inputShape
    eval()
    switch condition {
    case .glimpses:
      return recordInMicroBatches(stimuli, layers: idx) { recordGlimpses($0, layers: idx) }
    case .cue:
      return recordInMicroBatches(stimuli, layers: idx) { part in
        let x = batchTensor(part.map(\.image), channels: shape.channels, height: shape.height, width: shape.width)
        var activity: [[Tensor<Float>]] = []
        var predictions: [[Int]] = []
        for cueObject in [true, false] {
          // Pre-inhibit the other object's region: the IOR masks are 1 there from the first pass on.
          let regions = part.map { st in cueObject ? st.distractor : st.object }
          let r = glimpse(x, ior: cueMasks(regions, batch: part.count))
          activity.append(idx.map { r.last.convOutputs[$0] })
          predictions.append(r.last.logits.argmax(dim: 1).values)
        }
        return BatchRecording(
          activity: activity, attendedGlimpse: [Int](repeating: -1, count: part.count), predictions: predictions)
      }
    case .spatialGain(let layer, let beta, let sigma):
      // The gain is a module-wide forward modifier, so this condition runs the whole batch at once.
      return withNoGrad { recordSpatialGain(stimuli, layers: idx, layer: layer, beta: beta, sigma: sigma) }
    }
  }

  /// The `.spatialGain` condition: a multiplicative Gaussian gain (1 + beta G, sigma in pixels) on `layer`'s
  /// output around the attended object's centroid, the object's and then the distractor's.
  func recordSpatialGain(_ stimuli: [Stimulus], layers idx: [Int], layer: String, beta: Float, sigma: Double)
    -> BatchRecording
  {
    let shape = inputShape
    let n = stimuli.count
    let x = batchTensor(stimuli.map(\.image), channels: shape.channels, height: shape.height, width: shape.width)
    let l = config.convLayerNames.firstIndex(of: layer)!
    let geometry = recordableLayers[l]
    var activity: [[Tensor<Float>]] = []
    var predictions: [[Int]] = []
    for attendObject in [true, false] {
      let centres = stimuli.map { st in centroid(attendObject ? st.object : st.distractor, width: shape.width) }
      let gain = gainMap(geometry, centres: centres, beta: beta, sigma: sigma)
      let handle = reluProbes[l].registerForwardModifier { _, _, y in y * gain }
      let r = glimpse(x, ior: emptyIOR(batch: n))
      handle.remove()
      activity.append(idx.map { r.last.convOutputs[$0] })
      predictions.append(r.last.logits.argmax(dim: 1).values)
    }
    return BatchRecording(
      activity: activity, attendedGlimpse: [Int](repeating: -1, count: n), predictions: predictions)
  }

  /// Runs `body` on micro-batches of `stimuli` on all workers (see `forEachMicroBatch`) and joins the
  /// micro-batches' recordings (activity [m, C, H, W] per phase and layer) in stimulus order.
  func recordInMicroBatches(
    _ stimuli: [Stimulus], layers idx: [Int], _ body: ([Stimulus]) -> BatchRecording
  ) -> BatchRecording {
    let n = stimuli.count
    let geometries = recordableLayers
    let phases = (0..<2).map { _ in idx.map { l in SharedBuffer<Float>(count: n * geometries[l].units, value: 0) } }
    let attendedGlimpse = SharedBuffer<Int>(count: n, value: -1)
    let predictions = SharedBuffer<Int>(count: 2 * n, value: -1)
    forEachMicroBatch(n, size: Self.microBatch) { range in
      let part = body(Array(stimuli[range]))
      for p in 0..<2 {
        for (k, l) in idx.enumerated() {
          let per = geometries[l].units
          part.activity[p][k].scalars.withUnsafeBufferPointer { src in
            (phases[p][k].base + range.lowerBound * per).update(
              from: src.baseAddress!, count: range.count * per)
          }
        }
        for (i, v) in part.predictions[p].enumerated() { predictions[p * n + range.lowerBound + i] = v }
      }
      for (i, g) in part.attendedGlimpse.enumerated() { attendedGlimpse[range.lowerBound + i] = g }
    }
    let activity = (0..<2).map { p in
      idx.enumerated().map { k, l in Tensor<Float>(shape: [n] + geometries[l].shapeCHW, scalars: phases[p][k].array()) }
    }
    let predicted = predictions.array()
    return BatchRecording(
      activity: activity, attendedGlimpse: attendedGlimpse.array(),
      predictions: [Array(predicted[0..<n]), Array(predicted[n...])])
  }

  /// Stimuli per micro-batch in sweeps: small enough that a micro-batch's activations stay in one core's
  /// L2 cache, large enough for efficient GEMMs.
  static let microBatch = 16

  /// The `.glimpses` condition on a batch: two glimpses with IOR; the phase of each image's glimpse is
  /// given by the object it selected (phase 0: the swept object, 1: the distractor).
  func recordGlimpses(_ stimuli: [Stimulus], layers idx: [Int]) -> BatchRecording {
    let shape = inputShape
    let m = stimuli.count
    let s = config.strength
    let x = batchTensor(stimuli.map(\.image), channels: shape.channels, height: shape.height, width: shape.width)
    let objectTarget = batchTensor(
      stimuli.map { st in zip(st.image, st.object).map { (1 - s) * $0 + s * $1 } }, channels: shape.channels,
      height: shape.height, width: shape.width)
    let distractorTarget = batchTensor(
      stimuli.map { st in zip(st.image, st.distractor).map { (1 - s) * $0 + s * $1 } }, channels: shape.channels,
      height: shape.height, width: shape.width)
    let geometries = recordableLayers
    var ior = emptyIOR(batch: m)
    var selected = [[Bool]](repeating: [false, false], count: m)
    var phases = (0..<2).map { _ in idx.map { l in [Float](repeating: 0, count: m * geometries[l].units) } }
    var attendedGlimpse = [Int](repeating: -1, count: m)
    var predictions = [[Int]](repeating: [Int](repeating: -1, count: m), count: 2)
    for g in 0..<2 {
      let r = glimpse(x, ior: ior)
      let choice = ObjectAttentionNet.selectObjects(
        gated: r.last.gatedInput, targets: [objectTarget, distractorTarget], alreadySelected: &selected)
      let pred = r.last.logits.argmax(dim: 1).values
      for i in 0..<m {
        let phase = choice[i] == 0 ? 0 : 1
        if phase == 0 { attendedGlimpse[i] = g }
        predictions[phase][i] = pred[i]
        for (k, l) in idx.enumerated() {
          let per = geometries[l].units
          r.last.convOutputs[l].scalars.withUnsafeBufferPointer { src in
            phases[phase][k].withUnsafeMutableBufferPointer { dst in
              (dst.baseAddress! + i * per).update(from: src.baseAddress! + i * per, count: per)
            }
          }
        }
      }
      ior = r.nextIOR
    }
    let activity = (0..<2).map { p in
      idx.enumerated().map { k, l in Tensor<Float>(shape: [m] + geometries[l].shapeCHW, scalars: phases[p][k]) }
    }
    return BatchRecording(activity: activity, attendedGlimpse: attendedGlimpse, predictions: predictions)
  }

  /// IOR masks that are 1 over each image's `regions` (pixels above 10% of the region's peak):
  /// at the input directly, and for deeper masks wherever more than half of a position's receptive
  /// field lies in the region.
  func cueMasks(_ regions: [[Float]], batch n: Int) -> [Tensor<Float>] {
    let sizes = config.blockInputSizes
    let w = config.inputWidth
    let h = config.inputHeight
    let binary = regions.map { r -> [Bool] in
      let peak = r.max() ?? 0
      return r.map { peak > 0 && $0 > 0.1 * peak }
    }
    var masks: [Tensor<Float>] = []
    for l in 0..<config.blocks {
      let c = l == 0 ? 1 : config.channels[l]
      let s = sizes[l]
      var v = [Float](repeating: 0, count: n * c * s.h * s.w)
      for i in 0..<n {
        for y in 0..<s.h {
          for x in 0..<s.w {
            let on: Bool
            if l == 0 {
              on = binary[i][y * w + x]
            } else {
              // Block l's input position (y, x) sees input rows/cols through l conv+pool stages.
              var r = (y, y)
              var cc = (x, x)
              for _ in 0..<l {
                r = (2 * r.0, 2 * r.1 + 1 + 3)
                cc = (2 * cc.0, 2 * cc.1 + 1 + 3)
              }
              var inside = 0
              var total = 0
              for yy in r.0...min(r.1, h - 1) {
                for xx in cc.0...min(cc.1, w - 1) {
                  total += 1
                  if binary[i][yy * w + xx] { inside += 1 }
                }
              }
              on = inside * 2 > total
            }
            if on { for ch in 0..<c { v[((i * c + ch) * s.h + y) * s.w + x] = 1 } }
          }
        }
      }
      masks.append(Tensor(shape: [n, c, s.h, s.w], scalars: v))
    }
    return masks
  }
}

/// The spatial gain 1 + beta exp(-d^2 / (2 sigma^2)) over a layer's positions for each image
/// (no gain where the centre is nil), broadcast over channels: [N, 1, H, W].
func gainMap(_ g: LayerGeometry, centres: [(x: Double, y: Double)?], beta: Float, sigma: Double) -> Tensor<Float> {
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

extension LayerGeometry {
  /// [C, H, W].
  public var shapeCHW: [Int] { [channels, height, width] }
}
