import Engine
import ModelInterface
import Stimuli

/// What to record: the sweep, the attention condition, layers and units, and the tuning axis.
public struct RecordingPlan: Sendable {
  public var stimulus: StimulusSpec
  public var condition: AttentionCondition
  public var layers: [String]
  public var units: UnitSelection
  public var tuningAxis: String
  public var reduce: TuningReduce
  public var batchSize: Int

  public init(
    stimulus: StimulusSpec, condition: AttentionCondition, layers: [String], units: UnitSelection = .all,
    tuningAxis: String, reduce: TuningReduce = .max, batchSize: Int = 256
  ) {
    self.stimulus = stimulus
    self.condition = condition
    self.layers = layers
    self.units = units
    self.tuningAxis = tuningAxis
    self.reduce = reduce
    self.batchSize = batchSize
  }
}

/// What a recording produced besides the streamed responses.
public struct RecordingResult: Sendable {
  public var units: UnitTable
  public var tuning: TuningAccumulator
  /// Per stimulus: the glimpse (0-based) that attended the swept object, or -1; nil for models that
  /// do not attend in glimpses.
  public var attendedGlimpse: [Int]?
  /// Per stimulus: predicted class in the attended and the unattended phase.
  public var predictions: [(attended: Int, unattended: Int)]
}

/// The units a plan records on a model (layers checked, selection resolved).
public func resolveUnits(_ plan: RecordingPlan, on model: RecordableModel) throws -> UnitTable {
  let spec = plan.stimulus
  let geometries = try plan.layers.map { try model.geometry(of: $0) }
  var objectMask: [Bool]? = nil
  if plan.units == .covering {
    var mask = [Bool](repeating: false, count: spec.canvasHeight * spec.canvasWidth)
    for i in 0..<spec.count {
      let o = spec.stimulus(i).object
      let peak = o.max() ?? 0
      for j in o.indices where peak > 0 && o[j] > 0.1 * peak { mask[j] = true }
    }
    objectMask = mask
  }
  let table = try UnitTable.resolve(
    plan.units, layers: geometries, objectMask: objectMask, canvasWidth: spec.canvasWidth)
  guard !table.units.isEmpty else { throw RecordingError("the unit selection leaves no units to record") }
  return table
}

/// Runs a plan on a model: renders stimuli batch by batch (in parallel), records both phases, streams
/// responses [stimuli, 2, units] into the .npy at `responsesPath` (when given) and accumulates tuning
/// curves. Memory stays at one batch plus the tuning accumulators, whatever the size of the sweep.
public func record(
  _ plan: RecordingPlan, on model: RecordableModel, responsesPath: String? = nil,
  progress: (Int) -> Void = { _ in }
) throws -> RecordingResult {
  let spec = plan.stimulus
  let input = model.inputGeometry
  guard spec.canvasHeight == input.height && spec.canvasWidth == input.width else {
    throw RecordingError(
      "stimulus canvas \(spec.canvasHeight)x\(spec.canvasWidth) does not match the model's input \(input.height)x\(input.width)"
    )
  }
  guard model.supports(plan.condition) else {
    throw RecordingError(
      "this model does not support attention mode '\(plan.condition.name)'\(plan.condition.modulatedLayer.map { " on layer '\($0)'" } ?? "") (its own conditions: \(model.ownConditions.isEmpty ? "none" : model.ownConditions.joined(separator: ", ")); spatial-gain needs a layer with a spatial map, channel-gain one value per channel)"
    )
  }
  guard let axis = spec.grid.names.firstIndex(of: plan.tuningAxis) else {
    throw RecordingError(
      "tuning axis '\(plan.tuningAxis)' is not a stimulus parameter (\(spec.grid.names.joined(separator: ", ")))")
  }
  let table = try resolveUnits(plan, on: model)
  let responses = try responsesPath.map { try NPYStreamWriter(path: $0, shape: [spec.count, 2, table.units.count]) }
  var tuning = TuningAccumulator(axisValues: spec.grid.values[axis], phases: 2, units: table.units.count)
  var attendedGlimpse: [Int]? = nil
  var predictions: [(Int, Int)] = []
  var start = 0
  while start < spec.count {
    let n = min(plan.batchSize, spec.count - start)
    var stimuli = [Stimulus?](repeating: nil, count: n)
    stimuli.withUnsafeMutableBufferPointer { buf in
      let out = SharedPointer(buf.baseAddress!)
      Parallel.forEachRange(n, minimum: 8) { range, _ in
        for k in range { out.pointer[k] = spec.stimulus(start + k) }
      }
    }
    let batch = stimuli.map { $0! }
    let rec = try model.record(batch, condition: plan.condition, layers: plan.layers)
    // Rows [n, 2, units], gathered from the layer tensors in parallel over stimuli.
    let units = table.units.count
    var chunk = [Float](repeating: 0, count: n * 2 * units)
    chunk.withUnsafeMutableBufferPointer { buf in
      let out = SharedPointer(buf.baseAddress!)
      Parallel.forEachRange(n, minimum: 4) { range, _ in
        for i in range {
          for p in 0..<2 {
            for (k, lr) in table.layerRanges.enumerated() {
              let t = rec.activity[p][k]
              let per = t.count / n
              t.scalars.withUnsafeBufferPointer { v in
                let src = v.baseAddress! + i * per
                let dst = out.pointer + (i * 2 + p) * units
                table.flatIndex.withUnsafeBufferPointer { fi in
                  for u in lr.range { dst[u] = src[fi[u]] }
                }
              }
            }
          }
        }
      }
    }
    chunk.withUnsafeBufferPointer { buf in
      tuning.add(axisIndices: (0..<n).map { spec.grid.indices(start + $0)[axis] }, rows: buf.baseAddress!)
    }
    if let g = rec.attendedGlimpse { attendedGlimpse = (attendedGlimpse ?? []) + g }
    for i in 0..<n { predictions.append((rec.predictions[0][i], rec.predictions[1][i])) }
    try responses?.append(chunk)
    start += n
    progress(start)
  }
  try responses?.finish()
  return RecordingResult(units: table, tuning: tuning, attendedGlimpse: attendedGlimpse, predictions: predictions)
}
