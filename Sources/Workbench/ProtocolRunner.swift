import Datasets
import Engine
import Foundation
import ImageIO
import ModelInterface
import Models
import Recording
import Reports
import Stimuli

/// What a protocol run produced (also written to summary.json).
public struct RunOutcome: Sendable {
  public var folder: String
  public var stimuli: Int
  public var units: Int
  public var silentUnits: [String: Int]
  /// Wall time of the recording (stimuli through the model, responses written), seconds.
  public var recordingSeconds: Double = 0
  /// Wall time of the statistics, fits, gating evaluation, tables and report, seconds.
  public var analysisSeconds: Double = 0
  /// Wall time of writing run.nwb (0 without NWB output), seconds.
  public var nwbSeconds: Double = 0
  /// Files of the model's own evaluation (e.g. object attention's gating evaluation), with one line on each.
  public var modelFiles: [String: String] = [:]
  /// Every report page's drawn elements with their boxes: `reportLayoutProblems` lists labels or
  /// legends that leave the page or overlap data or other text (tests require none).
  public var reportLayout: [[DrawnElement]] = []
  /// Warnings about the unit selection and caveats about the design, also in summary.json and the report.
  public var warnings: [String] = []
  public var caveats: [String] = []
}

/// Runs validated protocols and writes their results.
public enum ProtocolRunner {
  /// Turns a stimulus request into a renderable sweep on a `height x width` canvas: looks up digit
  /// distractors (by class: the first held-out test digit of that class; by index: the MNIST subset's
  /// digit at that position) and places the distractor.
  public static func materialize(_ r: StimulusRequest, height: Int, width: Int, seed: UInt64) throws -> StimulusSpec {
    if let c = r.canvas, c.height != height || c.width != width {
      throw RecordingError("stimulus canvas \(c.height)x\(c.width) does not match the model's input \(height)x\(width)")
    }
    guard (4...StimulusLimits.maxCanvas).contains(height), (4...StimulusLimits.maxCanvas).contains(width) else {
      throw RecordingError(
        "a canvas of \(height)x\(width) pixels is outside 4...\(StimulusLimits.maxCanvas) on each side")
    }
    if let problem = ProtocolFile.regionProblem(r, height: height, width: width) {
      throw RecordingError("stimulus distractor region \(problem)")
    }
    var distractor: Distractor? = nil
    if let d = r.distractor {
      // Named regions: a square of side `size` (default 28 pixels on canvases up to 64 pixels a side, half
      // the shorter side on larger ones), vertically centred at the left or right edge.
      let side = min(height, width, r.distractorSize ?? (max(height, width) <= 64 ? 28 : min(height, width) / 2))
      var region: (Int, Int, Int, Int)
      switch r.regionName ?? "right" {
      case "left": region = ((height - side) / 2, 0, side, side)
      case "whole": region = (0, 0, height, width)
      default: region = ((height - side) / 2, width - side, side, side)
      }
      if let explicit = r.region { region = explicit }
      let kind: Distractor.Kind
      switch d {
      case .digit(let classLabel, let index):
        let mnist = try MNIST.defaultSubset()
        let plane = MNIST.side * MNIST.side
        let chosen: (image: [Float], label: Int)
        if let index {
          guard index < mnist.count else {
            throw RecordingError("distractor index \(index) is outside the MNIST subset (\(mnist.count) digits)")
          }
          chosen = (Array(mnist.pixels[(index * plane)..<((index + 1) * plane)]), mnist.labels[index])
        } else {
          let test = mnist.split(validation: 0.1, test: 0.2, seed: 7).test
          guard let i = test.labels.firstIndex(of: classLabel ?? 0) else {
            throw RecordingError("no held-out test digit of class \(classLabel ?? 0)")
          }
          chosen = (Array(test.pixels[(i * plane)..<((i + 1) * plane)]), classLabel ?? 0)
        }
        kind = .digit(image: chosen.image, label: chosen.label)
      case .bar(let b): kind = .bar(r.pixelsPerDegree.map { b.inPixels(pixelsPerDegree: $0) } ?? b)
      case .grating(let g): kind = .grating(r.pixelsPerDegree.map { g.inPixels(pixelsPerDegree: $0) } ?? g)
      case .noise(let a): kind = .noise(amplitude: a, seed: seed)
      case .image(let path):
        let picture = try RasterImage.read(path)
        kind = .picture(pixels: picture.luminance(), height: picture.height, width: picture.width)
      }
      distractor = Distractor(kind: kind, top: region.0, left: region.1, height: region.2, width: region.3)
    }
    var spec = StimulusSpec(
      kind: r.kind, parameters: r.parameters, canvasHeight: height, canvasWidth: width, distractor: distractor,
      combination: r.combination, noise: r.noise, seed: seed, colours: r.colours, pixelsPerDegree: r.pixelsPerDegree)
    spec.repeats = r.repeats
    spec.trialNoise = r.trialNoise
    spec.jitter = r.jitter
    return spec
  }

  /// Loads the protocol's model from the registry, wrapped in its recording adapter at the
  /// protocol's input size.
  public static func loadModel(_ p: ProtocolSpec) throws -> RecordableModel {
    guard let entry = try ModelRegistry.entry(p.architecture, file: p.weights, normalization: p.normalization) else {
      throw RecordingError("no model called '\(p.architecture)' (\(ModelRegistry.allNames.joined(separator: ", ")))")
    }
    let input = ProtocolFile.inputCanvas(p.architecture, weights: p.weights, stimulus: p.stimulus)
    return try entry.recordable(weights: p.weights, height: input.height, width: input.width)
  }

  /// Runs `p`, writing every result into a temporary folder that replaces `output` only once the
  /// run has succeeded (nothing is written on failure; see `OutputFolder` for what may be replaced).
  /// `progress(done, total)` reports stimuli, `statisticsProgress(done, total)` units analysed;
  /// `notice` receives messages such as leftovers cleaned.
  public static func run(
    _ p: ProtocolSpec, output: String? = nil, seed: UInt64? = nil, notice: (String) -> Void = { _ in },
    progress: (Int, Int) -> Void = { _, _ in }, statisticsProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> RunOutcome {
    let seed = seed ?? p.seed
    let folder = output ?? p.output
    if let problem = OutputFolder.problem(folder) { throw OutputFolderError(message: problem) }
    let net = try loadModel(p)
    let input = net.inputGeometry
    let spec = try materialize(p.stimulus, height: input.height, width: input.width, seed: seed)
    let temporary = try OutputFolder.begin(folder, notice: notice)
    do {
      if p.writeResponses { try checkDiskSpace(for: spec, layers: p.layers, net: net, in: temporary) }
      let outcome = try runInto(
        temporary, p, spec: spec, net: net, seed: seed, progress: progress, statisticsProgress: statisticsProgress)
      try OutputFolder.commit(temporary, to: folder)
      var moved = outcome
      moved.folder = folder
      return moved
    } catch {
      OutputFolder.abandon(temporary)
      throw error
    }
  }

  /// Refuses, before recording, a responses file larger than the free space where it goes
  /// (stimuli x 2 phases x units x 4 bytes; the unit count is an upper bound: every unit of the layers).
  static func checkDiskSpace(for spec: StimulusSpec, layers: [String], net: RecordableModel, in dir: String) throws {
    let units = net.recordableLayers.filter { layers.contains($0.name) }.reduce(0) { $0 + $1.units }
    try checkFreeSpace(
      "responses.npy", rows: spec.count, units: units, in: dir, hint: "; set record.responses: false to skip it")
  }

  /// Refuses, before recording, a rows file ([rows, 2 phases, units] float32) larger than the free
  /// space in `dir`.
  static func checkFreeSpace(_ file: String, rows: Int, units: Int, in dir: String, hint: String = "") throws {
    let (perRow, o1) = units.multipliedReportingOverflow(by: 2 * 4)
    let (bytes, o2) = perRow.multipliedReportingOverflow(by: rows)
    let free = (try? FileManager.default.attributesOfFileSystem(forPath: dir))?[.systemFreeSize] as? Int ?? Int.max
    guard !o1, !o2, bytes < free else {
      throw RecordingError(
        "\(file) would need \(o1 || o2 ? "more than any disk holds" : ReadBudget.describe(bytes)) (\(rows) stimuli x 2 phases x up to \(units) units x 4 bytes), but \(ReadBudget.describe(free)) are free\(hint)"
      )
    }
  }

  static func runInto(
    _ dir: String, _ p: ProtocolSpec, spec: StimulusSpec, net: RecordableModel, seed: UInt64,
    progress: (Int, Int) -> Void, statisticsProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> RunOutcome {
    let (p, plan) = try recordingPlan(p, spec: spec, net: net, progress: progress)
    return try finishRun(
      dir, p, plan: plan, spec: spec, net: net, seed: seed, statisticsProgress: statisticsProgress
    ) { responsesPath in
      try Recording.record(plan, on: net, responsesPath: responsesPath) { progress($0, spec.count) }
    }
  }

  /// The recording plan of a protocol on a loaded model: feature-gain values resolved (which runs the
  /// model on the sweep), every pass's layers added for `record.passes: all`, the parameters whose grid
  /// the measures need kept. Returns the protocol with its resolved attention condition.
  static func recordingPlan(
    _ p: ProtocolSpec, spec: StimulusSpec, net: RecordableModel, progress: (Int, Int) -> Void
  ) throws -> (ProtocolSpec, RecordingPlan) {
    var p = p
    if let request = p.featureGain {
      let resolved = try request.resolve(spec, model: net, batchSize: p.batchSize) { done, total in
        progress(done, total)
      }
      p.condition = resolved.condition
      p.featureGainNote = resolved.note
      p.featureTargetOrientation = resolved.orientation
    }
    var layers = p.layers
    if p.allPasses {
      guard net.passes > 1 else {
        throw RecordingError("record.passes: all needs a recurrent model; \(p.architecture) runs one pass")
      }
      // The plain layer is the last pass; passes 1 ... T-1 are recorded as LAYER@passT.
      layers += p.layers.flatMap { l in (1..<net.passes).map { passLayerName(l, pass: $0) } }
    }
    var plan = RecordingPlan(
      stimulus: spec, condition: p.condition, layers: layers, units: p.units, tuningAxis: p.tuningAxis,
      reduce: p.reduce, batchSize: p.batchSize)
    plan.keep = keptParameters(p, spec: spec)
    return (p, plan)
  }

  /// Records (by `recordAll`, given the responses path or nil) and then writes every output of the run
  /// into `dir`: the same code whether the rows come from the model now or from recorded shards.
  static func finishRun(
    _ dir: String, _ p: ProtocolSpec, plan: RecordingPlan, spec: StimulusSpec, net: RecordableModel, seed: UInt64,
    statisticsProgress: (Int, Int) -> Void = { _, _ in }, recordAll: (String?) throws -> RecordingResult
  ) throws -> RunOutcome {
    let clock = ContinuousClock()
    let t0 = clock.now
    var result = try recordAll(p.writeResponses ? dir + "/responses.npy" : nil)
    // Which glimpse attended the object means something only when attention is the model's own
    // (a spatial gain on a glimpse model leaves both glimpses to the model).
    if !p.condition.isModelCondition { result.attendedGlimpse = nil }
    let blank =
      p.measures.contains(.rfMap)
      ? try blankResponses(spec, net: net, layers: plan.layers, units: result.units) : nil
    let t1 = clock.now
    let silent = silentUnits(result)
    let warnings = result.warnings + silentWarnings(result, silent: silent)
    let caveats = designCaveats(p, spec: spec, result: result)
    let (modelFiles, layout) = try writeOutputs(
      dir, p, spec: spec, net: net, result: result, seed: seed, blank: blank, warnings: warnings, caveats: caveats,
      statisticsProgress: statisticsProgress)
    let t2 = clock.now
    if p.writeNWB {
      let text = (try? String(contentsOfFile: p.file, encoding: .utf8)) ?? "(protocol file not readable: \(p.file))"
      try RunNWB.write(
        dir, spec: spec, protocolText: text, description: p.description.isEmpty ? p.name : p.description,
        hasAttention: p.condition != .none)
    }
    return RunOutcome(
      folder: dir, stimuli: spec.count, units: result.units.units.count, silentUnits: silent,
      recordingSeconds: seconds(t1 - t0), analysisSeconds: seconds(t2 - t1), nwbSeconds: seconds(clock.now - t2),
      modelFiles: modelFiles, reportLayout: layout,
      warnings: warnings, caveats: caveats)
  }

  /// A protocol ready to record: its model, its sweep, its plan (feature gains resolved, in the returned
  /// protocol) and its units: what a shard, a merge and the benchmark all start from.
  struct LoadedProtocol {
    var spec: ProtocolSpec
    var net: RecordableModel
    var sweep: StimulusSpec
    var plan: RecordingPlan
    var prepared: PreparedRecording
  }

  /// Loads `p`'s model, materializes its sweep with `seed`, resolves its plan and its units.
  static func load(_ p: ProtocolSpec, seed: UInt64) throws -> LoadedProtocol {
    let net = try loadModel(p)
    let input = net.inputGeometry
    let sweep = try materialize(p.stimulus, height: input.height, width: input.width, seed: seed)
    let (resolved, plan) = try recordingPlan(p, spec: sweep, net: net, progress: { _, _ in })
    return LoadedProtocol(
      spec: resolved, net: net, sweep: sweep, plan: plan, prepared: try Recording.prepare(plan, on: net))
  }

  /// The stimulus parameters whose full grid a protocol's measures need: x and y for receptive-field
  /// maps; orientation, frequency, phase and aperture (those swept) for V1 properties.
  static func keptParameters(_ p: ProtocolSpec, spec: StimulusSpec) -> [String] {
    var keep: [String] = []
    let swept = Set(spec.sweptParameters)
    if p.measures.contains(.rfMap) { keep += ["x", "y"] + (swept.contains("contrast") ? ["contrast"] : []) }
    if p.measures.contains(.v1) { keep += ["orientation", "frequency", "phase", "aperture"].filter(swept.contains) }
    return keep
  }

  /// Each recorded unit's response to a blank canvas (the sweep's first stimulus at contrast 0,
  /// without noise): the baseline of receptive-field maps.
  static func blankResponses(_ spec: StimulusSpec, net: RecordableModel, layers: [String], units: UnitTable) throws
    -> [Float]
  {
    var blank = spec
    blank.parameters = spec.parameters.map {
      ($0.name, $0.name == "contrast" ? .fixed(0) : .fixed($0.values.values[0]))
    }
    blank.repeats = 1
    blank.trialNoise = 0
    blank.noise = 0
    blank.distractor = nil
    let rec = try net.record([blank.stimulus(0)], condition: .none, layers: layers)
    var out = [Float](repeating: 0, count: units.units.count)
    for (k, lr) in units.layerRanges.enumerated() {
      let values = rec.activity[0][k].scalars
      for u in lr.range { out[u] = values[units.flatIndex[u]] }
    }
    return out
  }

  /// Layers whose recorded units are all silent: a warning each.
  static func silentWarnings(_ r: RecordingResult, silent: [String: Int]) -> [String] {
    r.units.layerRanges.compactMap { layer, range in
      !range.isEmpty && silent[layer] == range.count
        ? "\(layer): every selected unit is silent (no response in either phase); the layer has nothing to analyse"
        : nil
    }
  }

  /// Design caveats computed from the run: attention confounded with glimpse order, swept objects on
  /// the distractor, phases identical by construction.
  static func designCaveats(_ p: ProtocolSpec, spec: StimulusSpec, result r: RecordingResult) -> [String] {
    var out: [String] = []
    if let g = r.attendedGlimpse, !g.isEmpty {
      let second = Double(g.filter { $0 == 1 }.count) / Double(g.count)
      for (k, share) in [(1, 1 - second), (2, second)] where share >= 0.9 {
        out.append(
          String(
            format:
              "attention is confounded with glimpse order: the swept object was attended in glimpse %d for %.0f%% of stimuli, so attended-vs-unattended differences include the effects of glimpse order (inhibition of return, recurrent state)",
            k, 100 * share))
      }
    }
    if r.footprint.overlappingStimuli > 0 {
      out.append(
        String(
          format:
            "%d of %d stimuli (%.0f%%) put part of the swept object on the distractor (pixels above 10%% of both objects' peaks); units there see both objects",
          r.footprint.overlappingStimuli, r.footprint.stimuli,
          100 * Double(r.footprint.overlappingStimuli) / Double(max(1, r.footprint.stimuli))))
    }
    if p.condition == .none {
      out.append("attention mode none: the two phases are the same forward pass, so there are no attention statistics")
    }
    return out
  }

  /// Units that never respond (A + U = 0 at every axis value), per layer: excluded from analyses and counted.
  static func silentUnits(_ r: RecordingResult) -> [String: Int] {
    let (values, _) = r.tuning.curves(.max)
    let u = r.units.units.count
    let a = r.tuning.axisValues.count
    var out: [String: Int] = [:]
    for (layer, range) in r.units.layerRanges {
      out[layer] =
        range.filter { unit in
          (0..<a).allSatisfy { ax in values[(ax * 2) * u + unit] <= 0 && values[(ax * 2 + 1) * u + unit] <= 0 }
        }.count
    }
    return out
  }
}

/// A duration in seconds.
func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
