import Engine
import ModelInterface
import Stimuli

/// The recording adapter of any registry network built from modules: the named layers' outputs are
/// captured by forward hooks, layer conditions (spatial and channel gain) act through a forward
/// modifier on their layer, and the stimuli run in micro-batches one after another (each op uses every
/// core). Receptive fields come from the entry's window steps; map shapes from one forward pass.
public final class LayerRecorder: RecordableModel {
  public let module: Module
  public let entry: ModelEntry
  public let inputGeometry: InputGeometry
  public let recordableLayers: [LayerGeometry]
  /// Stimuli per forward pass: at most 16, fewer for large inputs (about 200 MB of input per pass
  /// for 224 x 224 RGB at most a few images).
  public let microBatch: Int

  public var ownConditions: [String] { [] }

  public var responseDefinition: String {
    "output of the named module (post-ReLU where the layer is a ReLU or ends in one; see `ephys models \(entry.name)`)"
  }

  /// Wraps `module` (an instance of `entry`'s architecture) for an input of height x width (nil: the
  /// entry's own size); checks that every recordable layer exists and that its map size agrees with
  /// the window steps. `batchLimit` caps the stimuli per forward pass (an imported graph that bakes
  /// its batch size in takes one at a time).
  public init(
    module: Module, entry: ModelEntry, height: Int? = nil, width: Int? = nil, batchLimit: Int? = nil
  ) throws {
    let h = height ?? entry.height
    let w = width ?? entry.width
    guard h == entry.height && w == entry.width || entry.variableSize else {
      throw RecordingError("\(entry.name) takes \(entry.height)x\(entry.width) inputs only, not \(h)x\(w)")
    }
    guard min(h, w) >= entry.minimumSide else {
      throw RecordingError("\(entry.name) needs inputs of at least \(entry.minimumSide) pixels a side, not \(h)x\(w)")
    }
    self.module = module
    self.entry = entry
    inputGeometry = InputGeometry(channels: entry.channels, height: h, width: w, normalization: entry.normalization)
    microBatch = max(1, min(batchLimit ?? 16, 16, 2_000_000 / max(1, entry.channels * h * w)))
    module.eval()
    var shapes: [String: [Int]] = [:]
    var handles: [HookHandle] = []
    for layer in entry.layers {
      guard let m = module.module(named: layer.name) else {
        throw RecordingError("\(entry.name) has no module '\(layer.name)'")
      }
      let name = layer.name
      handles.append(m.registerForwardHook { _, _, y in shapes[name] = y.shape })
    }
    _ = withNoGrad {
      module(
        Tensor<Float>(shape: [1, entry.channels, h, w], scalars: .init(repeating: 0, count: entry.channels * h * w)))
    }
    for handle in handles { handle.remove() }
    if let failure = (module as? FailableForward)?.failure { throw failure }
    recordableLayers = try entry.layers.map { layer in
      guard let shape = shapes[layer.name] else {
        throw RecordingError("\(entry.name): module '\(layer.name)' did not run in a forward pass")
      }
      let (c, mh, mw) = shape.count == 4 ? (shape[1], shape[2], shape[3]) : (shape.dropFirst().reduce(1, *), 1, 1)
      guard let map = try entry.fields(layer.name, height: h, width: w) else {
        throw RecordingError("\(entry.name): no receptive fields for '\(layer.name)' at \(h)x\(w)")
      }
      guard let size = map.outputSize, size.height == mh && size.width == mw else {
        let steps = map.outputSize.map { "\($0.height)x\($0.width)" } ?? "no map"
        throw RecordingError(
          "\(entry.name): '\(layer.name)' gives a \(mh)x\(mw) map but its receptive fields give \(steps)")
      }
      return LayerGeometry(
        name: layer.name, channels: c, height: mh, width: mw, receptiveField: { y, x in map.field(y: y, x: x) },
        centre: { y, x in map.centre(y: y, x: x) })
    }
  }

  public func record(_ stimuli: [Stimulus], condition: AttentionCondition, layers: [String]) throws -> BatchRecording {
    if case .model(let name) = condition {
      throw RecordingError(
        "\(entry.name) has no condition '\(name)' of its own (layer conditions: spatial-gain, channel-gain, feature-gain)"
      )
    }
    let geometries = try layers.map { try geometry(of: $0) }
    let gainLayers = try condition.modulatedLayers.map { try geometry(of: $0) }
    let n = stimuli.count
    var activity: [[Tensor<Float>]] = []
    var predictions: [[Int]] = []
    // Without attention both phases are the same pass: run it once.
    for phase in 0..<(condition == .none ? 1 : 2) {
      var buffers = geometries.map { [Float](repeating: 0, count: n * $0.units) }
      var predicted = [Int](repeating: -1, count: n)
      for start in stride(from: 0, to: n, by: microBatch) {
        let part = Array(stimuli[start..<min(n, start + microBatch)])
        var captured = [Tensor<Float>?](repeating: nil, count: layers.count)
        var handles: [HookHandle] = []
        for g in gainLayers {
          if let target = module.module(named: g.name),
            let gain = layerGain(condition, phase: phase, stimuli: part, layer: g, canvasWidth: inputGeometry.width)
          {
            handles.append(
              target.registerForwardModifier { _, _, y in y * gain.reshaped(Self.broadcastShape(gain, like: y)) })
          }
        }
        for (k, g) in geometries.enumerated() {
          handles.append(module.module(named: g.name)!.registerForwardHook { _, _, y in captured[k] = y })
        }
        let out = withNoGrad { module(inputBatch(part, geometry: inputGeometry)) }
        for handle in handles { handle.remove() }
        if let failure = (module as? FailableForward)?.failure { throw failure }
        for (k, g) in geometries.enumerated() {
          let values = captured[k]!.scalars
          buffers[k].withUnsafeMutableBufferPointer { dst in
            values.withUnsafeBufferPointer { src in
              (dst.baseAddress! + start * g.units).update(from: src.baseAddress!, count: part.count * g.units)
            }
          }
        }
        if out.shape.count == 2 {
          for (i, c) in out.argmax(dim: 1).values.enumerated() { predicted[start + i] = c }
        }
      }
      activity.append(
        zip(geometries, buffers).map { g, b in Tensor(shape: [n] + g.shapeCHW, scalars: b) })
      predictions.append(predicted)
    }
    if condition == .none {
      activity.append(activity[0])
      predictions.append(predictions[0])
    }
    return BatchRecording(activity: activity, predictions: predictions)
  }

  /// A gain of shape [N or 1, C or 1, H, W] reshaped to broadcast over an output of `y`'s rank
  /// (a fully connected layer's [N, F] output takes a channel gain as [1, F]).
  static func broadcastShape(_ gain: Tensor<Float>, like y: Tensor<Float>) -> [Int] {
    y.shape.count == 2 ? [gain.shape[0], gain.shape[1]] : gain.shape
  }
}
