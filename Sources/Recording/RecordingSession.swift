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
  /// Stimulus parameters whose full grid of mean responses is kept (V1 property measures); empty:
  /// tuning curves only.
  public var keep: [String] = []

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
  /// The pixels each object of the sweep covers (what the units' receptive-field classes come from).
  public var footprint: SweepFootprint
  /// Mean responses per combination of the `keep` parameters (V1 property measures), when asked for.
  public var conditions: ConditionAccumulator?
  /// Warnings about the selection (units on the distractor, silent units, ...) for the run's output.
  public var warnings: [String] = []
  /// Per stimulus: the glimpse (0-based) that attended the swept object, or -1; nil for models that
  /// do not attend in glimpses.
  public var attendedGlimpse: [Int]?
  /// Per stimulus: predicted class in the attended and the unattended phase.
  public var predictions: [(attended: Int, unattended: Int)]

  public init(
    units: UnitTable, tuning: TuningAccumulator, footprint: SweepFootprint, conditions: ConditionAccumulator?,
    warnings: [String], attendedGlimpse: [Int]?, predictions: [(attended: Int, unattended: Int)]
  ) {
    self.units = units
    self.tuning = tuning
    self.footprint = footprint
    self.conditions = conditions
    self.warnings = warnings
    self.attendedGlimpse = attendedGlimpse
    self.predictions = predictions
  }
}

/// The units a plan records on a model (layers checked, selection resolved, receptive fields
/// classified against the sweep's footprint), with warnings about what the selection holds.
public func resolveUnits(_ plan: RecordingPlan, on model: RecordableModel, footprint: SweepFootprint) throws -> (
  UnitTable, [String]
) {
  let geometries = try plan.layers.map { try model.geometry(of: $0) }
  let table = try UnitTable.resolve(plan.units, layers: geometries, footprint: footprint)
  let hasDistractor = footprint.distractor.contains(true)
  guard !table.units.isEmpty else {
    let why =
      plan.units == .object
      ? " (no unit's receptive field covers the swept object without also covering the distractor\(hasDistractor ? "" : ": the swept object covers no pixel above 10% of its peak") ; use units: all to record every unit, stratified by receptive-field class)"
      : ""
    throw RecordingError("the unit selection leaves no units to record\(why)")
  }
  var warnings: [String] = []
  if let classes = table.classes {
    for (layer, range) in table.layerRanges {
      var counts: [ReceptiveFieldClass: Int] = [:]
      for i in range { counts[classes[i], default: 0] += 1 }
      if range.isEmpty {
        warnings.append("\(layer): no unit's receptive field covers the swept object alone; the layer has no units")
        continue
      }
      let onDistractor = (counts[.distractor] ?? 0) + (counts[.both] ?? 0)
      if onDistractor > 0 && plan.units != .all {
        warnings.append(
          "\(layer): \(onDistractor) of \(range.count) selected units have a receptive field on the distractor (\(counts[.distractor] ?? 0) on it only, \(counts[.both] ?? 0) on both objects); results are reported per receptive-field class"
        )
      }
      if counts[.neither] == range.count {
        warnings.append("\(layer): no selected unit's receptive field covers the swept object")
      }
    }
  }
  return (table, warnings)
}

/// What a plan records on a model, checked before any stimulus is rendered: the sweep's footprint,
/// the unit table (with warnings about it) and the tuning axis.
public struct PreparedRecording: Sendable {
  public var footprint: SweepFootprint
  public var table: UnitTable
  public var warnings: [String]
  /// Index of the tuning axis among the sweep's parameters.
  public var axis: Int
}

/// Checks a plan against a model (canvas, attention condition, tuning axis) and resolves its units.
public func prepare(_ plan: RecordingPlan, on model: RecordableModel) throws -> PreparedRecording {
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
  let footprint = SweepFootprint(spec)
  let (table, warnings) = try resolveUnits(plan, on: model, footprint: footprint)
  return PreparedRecording(footprint: footprint, table: table, warnings: warnings, axis: axis)
}

/// One batch of recorded rows: stimuli `first ..< first + count`, their responses [count, 2, units]
/// (attended phase first), the glimpse that attended the swept object (models that attend in
/// glimpses) and the predicted class in each phase.
public struct RecordedBatch: Sendable {
  public var first: Int
  public var count: Int
  public var rows: [Float]
  public var attendedGlimpse: [Int]?
  public var predictions: [(attended: Int, unattended: Int)]

  public init(
    first: Int, count: Int, rows: [Float], attendedGlimpse: [Int]?, predictions: [(attended: Int, unattended: Int)]
  ) {
    self.first = first
    self.count = count
    self.rows = rows
    self.attendedGlimpse = attendedGlimpse
    self.predictions = predictions
  }
}

/// Stimuli `range` of a sweep, rendered in parallel.
public func renderStimuli(_ spec: StimulusSpec, _ range: Range<Int>) -> [Stimulus] {
  var stimuli = [Stimulus?](repeating: nil, count: range.count)
  stimuli.withUnsafeMutableBufferPointer { buf in
    let out = SharedPointer(buf.baseAddress!)
    Parallel.forEachRange(range.count, minimum: 8) { r, _ in
      for k in r { out.pointer[k] = spec.stimulus(range.lowerBound + k) }
    }
  }
  return stimuli.map { $0! }
}

/// Renders stimuli `range` of the plan's sweep batch by batch (in parallel), runs both phases on the
/// model and hands each batch's rows to `each`, in stimulus order. Batches start at `range`'s lower
/// bound and hold `plan.batchSize` stimuli (the last may hold fewer): a shard whose range starts on a
/// batch boundary of the whole sweep therefore runs exactly the batches a single run does.
public func recordRows(
  _ plan: RecordingPlan, on model: RecordableModel, table: UnitTable, stimuli range: Range<Int>,
  each: (RecordedBatch) throws -> Void, progress: (Int) -> Void = { _ in }
) throws {
  let spec = plan.stimulus
  // Per layer: the map offset of its first unit when its units are consecutive map entries.
  let contiguous: [Int?] = table.layerRanges.map { lr in
    guard let first = lr.range.first else { return nil }
    let base = table.flatIndex[first]
    return lr.range.allSatisfy { table.flatIndex[$0] == base + ($0 - first) } ? base : nil
  }
  var start = range.lowerBound
  while start < range.upperBound {
    let n = min(plan.batchSize, range.upperBound - start)
    let batch = renderStimuli(spec, start..<(start + n))
    let rec = try model.record(batch, condition: plan.condition, layers: plan.layers)
    // Rows [n, 2, units], gathered from the layer tensors in parallel over stimuli: a copy per layer
    // where its units are a contiguous run of the map (units: all), else an indexed gather.
    let units = table.units.count
    var chunk = [Float](repeating: 0, count: n * 2 * units)
    chunk.withUnsafeMutableBufferPointer { buf in
      let out = SharedPointer(buf.baseAddress!)
      Parallel.forEachRange(n, minimum: 4) { r, _ in
        for p in 0..<2 {
          for (k, lr) in table.layerRanges.enumerated() {
            let t = rec.activity[p][k]
            let per = t.count / n
            t.scalars.withUnsafeBufferPointer { v in
              table.flatIndex.withUnsafeBufferPointer { fi in
                for i in r {
                  let src = v.baseAddress! + i * per
                  let dst = out.pointer + (i * 2 + p) * units
                  if let offset = contiguous[k] {
                    (dst + lr.range.lowerBound).update(from: src + offset, count: lr.range.count)
                  } else {
                    for u in lr.range { dst[u] = src[fi[u]] }
                  }
                }
              }
            }
          }
        }
      }
    }
    try each(
      RecordedBatch(
        first: start, count: n, rows: chunk, attendedGlimpse: rec.attendedGlimpse,
        predictions: (0..<n).map { (rec.predictions[0][$0], rec.predictions[1][$0]) }))
    start += n
    progress(start - range.lowerBound)
  }
}

/// Everything a recording accumulates from its rows: tuning curves, condition means, the responses
/// file, glimpses and predictions. Rows must arrive in stimulus order; each unit's sums then run in
/// the same order whatever the batches, so a run and a merge of its shards give the same bytes.
public struct RecordingAccumulator {
  let spec: StimulusSpec
  let axisCount: Int
  let axis: Int
  let repeatAxis: Int?
  public private(set) var tuning: TuningAccumulator
  public private(set) var conditions: ConditionAccumulator?
  var attendedGlimpse: [Int]? = nil
  var predictions: [(attended: Int, unattended: Int)] = []
  let responses: NPYStreamWriter?
  /// The next stimulus expected.
  public private(set) var next = 0

  /// Accumulators for `plan` over `prepared`'s units; responses [stimuli, 2, units] stream into the
  /// .npy at `responsesPath` when given.
  public init(_ plan: RecordingPlan, prepared: PreparedRecording, responsesPath: String?) throws {
    let spec = plan.stimulus
    self.spec = spec
    let units = prepared.table.units.count
    responses = try responsesPath.map { try NPYStreamWriter(path: $0, shape: [spec.count, 2, units]) }
    axis = prepared.axis
    axisCount = spec.grid.values[axis].count
    tuning = TuningAccumulator(
      axisValues: spec.grid.values[axis], phases: 2, units: units, trials: spec.repeats,
      moments: plan.reduce == .mean)
    repeatAxis = spec.repeats > 1 ? spec.grid.names.firstIndex(of: "repeat") : nil
    conditions = plan.keep.isEmpty ? nil : ConditionAccumulator(spec: spec, keep: plan.keep, units: units)
  }

  func slot(_ i: Int) -> Int {
    let idx = spec.grid.indices(i)
    return (repeatAxis.map { idx[$0] } ?? 0) * axisCount + idx[axis]
  }

  /// Adds a batch (the next stimuli of the sweep, in order).
  public mutating func add(_ b: RecordedBatch) throws {
    guard b.first == next, b.rows.count == b.count * 2 * tuning.units else {
      throw RecordingError(
        "rows of stimuli \(b.first)..<\(b.first + b.count) arrived where stimulus \(next) was expected (or with the wrong width)"
      )
    }
    let first = b.first
    b.rows.withUnsafeBufferPointer { buf in
      tuning.add(axisIndices: (0..<b.count).map { slot(first + $0) }, rows: buf.baseAddress!)
      conditions?.add(stimuli: first..<(first + b.count), rows: buf.baseAddress!)
    }
    if let g = b.attendedGlimpse {
      if attendedGlimpse == nil { attendedGlimpse = [] }
      attendedGlimpse!.append(contentsOf: g)  // in place: no copy of the glimpses so far per batch
    }
    predictions += b.predictions
    try responses?.append(b.rows)
    next += b.count
  }

  /// The finished recording (every stimulus must have been added); moves the responses file into place.
  public func finish(_ prepared: PreparedRecording) throws -> RecordingResult {
    guard next == spec.count else {
      throw RecordingError("only \(next) of \(spec.count) stimuli were recorded")
    }
    try responses?.finish()
    return RecordingResult(
      units: prepared.table, tuning: tuning, footprint: prepared.footprint, conditions: conditions,
      warnings: prepared.warnings, attendedGlimpse: attendedGlimpse, predictions: predictions)
  }
}

/// Runs a plan on a model: renders stimuli batch by batch (in parallel), records both phases, streams
/// responses [stimuli, 2, units] into the .npy at `responsesPath` (when given) and accumulates tuning
/// curves. Memory stays at one batch plus the tuning accumulators, whatever the size of the sweep.
public func record(
  _ plan: RecordingPlan, on model: RecordableModel, responsesPath: String? = nil,
  progress: (Int) -> Void = { _ in }
) throws -> RecordingResult {
  let prepared = try prepare(plan, on: model)
  var accumulator = try RecordingAccumulator(plan, prepared: prepared, responsesPath: responsesPath)
  try recordRows(
    plan, on: model, table: prepared.table, stimuli: 0..<plan.stimulus.count, each: { try accumulator.add($0) },
    progress: progress)
  return try accumulator.finish(prepared)
}
