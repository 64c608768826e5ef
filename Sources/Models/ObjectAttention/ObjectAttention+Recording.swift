import Engine
import Foundation
import ImageIO
import ModelInterface
import Stimuli

/// The object-attention network's recording adapter: its own conditions (`glimpses`, `cue`) and the
/// layer conditions every CNN has, on its post-ReLU, pre-pool conv outputs at the last pass of a glimpse.
extension ObjectAttentionNet: RecordableModel {
  public var inputGeometry: InputGeometry {
    InputGeometry(
      channels: config.channels[0], height: config.inputHeight, width: config.inputWidth, normalization: .none)
  }

  /// conv1 ... convL (post-ReLU, pre-pool), receptive fields from the registry entry's window steps.
  public var recordableLayers: [LayerGeometry] {
    let sizes = config.blockInputSizes
    let entry = ModelRegistry.entry("object-attention-\(config.variant.rawValue)")
    return (0..<config.blocks).map { l in
      let s = config.convSize(sizes[l])
      let name = "conv\(l + 1)"
      let map = entry?.receptiveFields(name, height: config.inputHeight, width: config.inputWidth)
      return LayerGeometry(
        name: name, channels: config.channels[l + 1], height: s.h, width: s.w,
        receptiveField: { y, x in map!.field(y: y, x: x) }, centre: { y, x in map!.centre(y: y, x: x) })
    }
  }

  public var ownConditions: [String] { ["glimpses", "cue"] }

  public var unitDefinition: String { "one (channel, y, x) position of a conv layer's output map" }

  public var responseDefinition: String { "post-ReLU, pre-pool conv output at the last pass of the recorded glimpse" }

  public func phaseDefinition(_ condition: AttentionCondition) -> String {
    switch condition {
    case .model("glimpses"):
      return
        "attended = the glimpse (of the model's own 2, with IOR) in which the swept object was selected; unattended = the glimpse that selected the distractor"
    case .model("cue"):
      return
        "attended = glimpse 1 with the distractor's region pre-inhibited (cue on the swept object); unattended = glimpse 1 with the swept object's region pre-inhibited"
    default:
      return condition.layerPhaseDefinition ?? condition.name
    }
  }

  public var summaryDetails: [String: Any] {
    ["strength": config.strength, "passes": config.passes, "glimpses": 2, "ior_threshold": config.iorThreshold]
  }

  /// The MNIST variant's gating evaluation: inhibition statistics on the held-out test composites
  /// (inhibition.csv, one row per image) and attention visualisations of the first four (attention_N.png).
  public func writeModelOutputs(into dir: String) throws -> [String: String] {
    guard config.variant == .mnist else { return [:] }
    let task = try ObjectAttentionTask.mnist(config: config)
    var result = ObjectEvaluation()
    for b in 0..<task.test.count { evaluate(try task.test.make(b), into: &result, visualize: 4) }
    var lines = ["image,inhibition_attended,inhibition_outside"]
    for (i, (a, o)) in zip(result.inhibitionAttended, result.inhibitionOutside).enumerated() {
      lines.append("\(i),\(a),\(o)")
    }
    try writeFileAtomically(Array((lines.joined(separator: "\n") + "\n").utf8), to: dir + "/inhibition.csv")
    for (i, v) in result.visuals.enumerated() {
      try attentionFigure(v, config: config).writePNG(to: dir + "/attention_\(i).png")
    }
    return [
      "inhibition.csv": "gating evaluation on the held-out composites: inhibition on the attended object and outside",
      "attention_N.png": "input, gated input, mask and IOR mask per glimpse for four test composites",
    ]
  }

  /// Passes per glimpse: "convL@passT" records pass T (1-based) of the recorded glimpse.
  public var passes: Int { config.passes }

  public func record(_ stimuli: [Stimulus], condition: AttentionCondition, layers: [String]) throws -> BatchRecording {
    let names = config.convLayerNames
    let requests = try layers.map { name -> PassLayer in
      let (base, pass) = splitPassLayerName(name)
      guard let i = names.firstIndex(of: base) else {
        throw RecordingError("layer '\(name)' is not one of \(names.joined(separator: ", "))")
      }
      if let pass, !(1...config.passes).contains(pass) {
        throw RecordingError("layer '\(name)': the network runs passes 1 to \(config.passes)")
      }
      return PassLayer(index: i, pass: pass)
    }
    let idx = requests.map(\.index)
    for layer in condition.modulatedLayers where !names.contains(layer) {
      throw RecordingError("\(condition.name) layer '\(layer)' is not one of \(names.joined(separator: ", "))")
    }
    let shape = inputGeometry
    eval()
    switch condition {
    case .model("glimpses"):
      return recordInMicroBatches(stimuli, layers: idx) { recordGlimpses($0, layers: requests) }
    case .model("cue"):
      return recordInMicroBatches(stimuli, layers: idx) { part in
        let x = inputBatch(part, geometry: shape)
        var activity: [[Tensor<Float>]] = []
        var predictions: [[Int]] = []
        for cueObject in [true, false] {
          // Pre-inhibit the other object's region: the IOR masks are 1 there from the first pass on.
          let regions = part.map { st in cueObject ? st.distractor : st.object }
          let (r, outputs) = capturedGlimpse(x, ior: cueMasks(regions, batch: part.count), layers: requests)
          activity.append(outputs)
          predictions.append(r.last.logits.argmax(dim: 1).values)
        }
        return BatchRecording(activity: activity, predictions: predictions)
      }
    case .model(let other):
      throw RecordingError("the object-attention network has no condition '\(other)' (glimpses, cue)")
    case .spatialGain, .channelGain, .featureGain, .none:
      // The gain is a module-wide forward modifier, so this condition runs the whole batch at once.
      return withNoGrad { recordLayerGain(stimuli, layers: requests, condition: condition) }
    }
  }

  /// A recorded conv layer (index into conv1...convL) at a pass (1-based; nil = the glimpse's last).
  struct PassLayer {
    var index: Int
    var pass: Int?
  }

  /// Runs one glimpse and returns it with the requested layers' outputs, each from its pass.
  func capturedGlimpse(_ x: Tensor<Float>, ior: [Tensor<Float>], layers: [PassLayer]) -> (Glimpse, [Tensor<Float>]) {
    var captured = [Tensor<Float>?](repeating: nil, count: layers.count)
    let g = glimpse(x, ior: ior) { t, p in
      for (k, l) in layers.enumerated() where l.pass == t + 1 { captured[k] = p.convOutputs[l.index] }
    }
    return (g, layers.enumerated().map { k, l in captured[k] ?? g.last.convOutputs[l.index] })
  }

  /// A layer condition (spatial or channel gain on a conv layer's output), both phases.
  func recordLayerGain(_ stimuli: [Stimulus], layers: [PassLayer], condition: AttentionCondition) -> BatchRecording {
    let shape = inputGeometry
    let x = inputBatch(stimuli, geometry: shape)
    var activity: [[Tensor<Float>]] = []
    var predictions: [[Int]] = []
    // Without attention both phases are the same glimpse: run it once.
    for phase in 0..<(condition == .none ? 1 : 2) {
      var handles: [HookHandle] = []
      for layer in condition.modulatedLayers {
        if let l = config.convLayerNames.firstIndex(of: layer),
          let gain = layerGain(
            condition, phase: phase, stimuli: stimuli, layer: recordableLayers[l], canvasWidth: shape.width)
        {
          handles.append(reluProbes[l].registerForwardModifier { _, _, y in y * gain })
        }
      }
      let (r, outputs) = capturedGlimpse(x, ior: emptyIOR(batch: stimuli.count), layers: layers)
      for handle in handles { handle.remove() }
      activity.append(outputs)
      predictions.append(r.last.logits.argmax(dim: 1).values)
    }
    if condition == .none {
      activity.append(activity[0])
      predictions.append(predictions[0])
    }
    return BatchRecording(activity: activity, predictions: predictions)
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
    let glimpseModel = SharedBuffer<Int>(count: 1, value: 0)
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
      if let glimpses = part.attendedGlimpse {
        glimpseModel[0] = 1
        for (i, g) in glimpses.enumerated() { attendedGlimpse[range.lowerBound + i] = g }
      }
    }
    let activity = (0..<2).map { p in
      idx.enumerated().map { k, l in Tensor<Float>(shape: [n] + geometries[l].shapeCHW, scalars: phases[p][k].array()) }
    }
    let predicted = predictions.array()
    return BatchRecording(
      activity: activity, predictions: [Array(predicted[0..<n]), Array(predicted[n...])],
      attendedGlimpse: glimpseModel[0] == 1 ? attendedGlimpse.array() : nil)
  }

  /// Stimuli per micro-batch in sweeps: small enough that a micro-batch's activations stay in one core's
  /// L2 cache, large enough for efficient GEMMs.
  static let microBatch = 16

  /// The `.glimpses` condition on a batch: two glimpses with IOR; the phase of each image's glimpse is
  /// given by the object it selected (phase 0: the swept object, 1: the distractor).
  func recordGlimpses(_ stimuli: [Stimulus], layers: [PassLayer]) -> BatchRecording {
    let idx = layers.map(\.index)
    let shape = inputGeometry
    let m = stimuli.count
    let s = config.strength
    let x = inputBatch(stimuli, geometry: shape)
    func blended(_ part: (Stimulus) -> [Float]) -> Tensor<Float> {
      inputBatch(
        stimuli.map { st in
          var b = st
          b.image = zip(st.image, part(st)).map { (1 - s) * $0 + s * $1 }
          b.colour = nil
          return b
        }, geometry: shape)
    }
    let objectTarget = blended(\.object)
    let distractorTarget = blended(\.distractor)
    let geometries = recordableLayers
    var ior = emptyIOR(batch: m)
    var selected = [[Bool]](repeating: [false, false], count: m)
    var phases = (0..<2).map { _ in idx.map { l in [Float](repeating: 0, count: m * geometries[l].units) } }
    var attendedGlimpse = [Int](repeating: -1, count: m)
    var predictions = [[Int]](repeating: [Int](repeating: -1, count: m), count: 2)
    for g in 0..<2 {
      let (r, outputs) = capturedGlimpse(x, ior: ior, layers: layers)
      let choice = ObjectAttentionNet.selectObjects(
        gated: r.last.gatedInput, targets: [objectTarget, distractorTarget], alreadySelected: &selected)
      let pred = r.last.logits.argmax(dim: 1).values
      for i in 0..<m {
        let phase = choice[i] == 0 ? 0 : 1
        if phase == 0 { attendedGlimpse[i] = g }
        predictions[phase][i] = pred[i]
        for (k, l) in idx.enumerated() {
          let per = geometries[l].units
          outputs[k].scalars.withUnsafeBufferPointer { src in
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
    return BatchRecording(activity: activity, predictions: predictions, attendedGlimpse: attendedGlimpse)
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
