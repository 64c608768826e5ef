import Engine
import Foundation
import ModelInterface
import Recording

extension ProtocolRunner {
  /// The manifests of `dirs`, checked to be one complete cut of one run: readable, from the same
  /// protocol, stimulus file, weights (by SHA-256), seed, Ephys version, cut and unit count, every shard
  /// 1 ... N present once. Every problem is reported at once, naming the shard folders.
  public static func checkShards(_ dirs: [String]) throws -> [(dir: String, manifest: ShardManifest)] {
    guard !dirs.isEmpty else { throw ShardError("no shard folders given") }
    var problems: [String] = []
    var found: [(dir: String, manifest: ShardManifest)] = []
    for d in dirs {
      do { found.append((d, try ShardManifest.read(d))) } catch { problems.append("\(error)") }
    }
    if let (firstDir, first) = found.first {
      for (d, m) in found.dropFirst() {
        var differences = m.inputs.differences(from: first.inputs)
        func check(_ name: String, _ a: Int, _ b: Int) { if a != b { differences.append("\(name) \(a) vs \(b)") } }
        check("shards", m.shards, first.shards)
        check("stimuli", m.stimuliTotal, first.stimuliTotal)
        check("batch size", m.batchSize, first.batchSize)
        check("units", m.units, first.units)
        if m.ephysVersion != first.ephysVersion {
          differences.append("Ephys version \(m.ephysVersion) vs \(first.ephysVersion)")
        }
        if !differences.isEmpty {
          problems.append(
            "\(d) (shard \(m.shard)/\(m.shards)) is not from the same run as \(firstDir): \(differences.joined(separator: "; "))"
          )
        }
      }
      let byIndex = Dictionary(grouping: found, by: { $0.manifest.shard })
      for (k, group) in byIndex.sorted(by: { $0.key < $1.key }) where group.count > 1 {
        problems.append(
          "shard \(k)/\(first.shards) is given \(group.count) times: \(group.map(\.dir).joined(separator: ", "))")
      }
      let missing = (1...max(1, first.shards)).filter { byIndex[$0] == nil }
      if !missing.isEmpty && problems.isEmpty {
        problems.append(
          "shard\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) of \(first.shards) \(missing.count == 1 ? "is" : "are") missing"
        )
      }
      // Each shard must hold exactly its part of the cut.
      for (d, m) in found where m.shards == first.shards {
        if let cut = try? ShardCut(index: m.shard, count: m.shards),
          let range = try? cut.stimuli(total: m.stimuliTotal, batch: m.batchSize),
          range != m.firstStimulus..<(m.firstStimulus + m.stimuli)
        {
          problems.append(
            "\(d): shard \(m.shard)/\(m.shards) should hold stimuli \(range.lowerBound)..<\(range.upperBound), its manifest says \(m.firstStimulus)..<\(m.firstStimulus + m.stimuli)"
          )
        }
      }
    }
    guard problems.isEmpty else { throw ShardError(problems.joined(separator: "\n")) }
    return found.sorted { $0.manifest.shard < $1.manifest.shard }
  }

  /// Merges finished shards into the outputs of a single run of their protocol (byte-identical to
  /// `run` on the same machine): checks the shards (`checkShards`), checks that the protocol, stimulus
  /// file and weights on disk are still the ones the shards recorded, then streams the shards' rows in
  /// stimulus order through the same accumulators and writes the same files. Memory stays at one batch
  /// of rows plus the accumulators; the output replaces `output` (default: the protocol's) only on success.
  /// `progress(stimuli done, total)` follows the replay, `statisticsProgress(units done, total)` the
  /// statistics.
  public static func merge(
    _ dirs: [String], output: String? = nil, nwb: Bool = false, notice: (String) -> Void = { _ in },
    progress: (Int, Int) -> Void = { _, _ in }, statisticsProgress: (Int, Int) -> Void = { _, _ in }
  ) throws -> RunOutcome {
    let shards = try checkShards(dirs)
    let inputs = shards[0].manifest.inputs
    var p: ProtocolSpec
    do { p = try ProtocolFile.load(inputs.protocolPath) } catch {
      throw ShardError("the shards' protocol \(inputs.protocolPath) no longer loads: \(error)")
    }
    let now = try RunInputs(p, seed: inputs.seed)
    let changed = now.differences(from: inputs)
    guard changed.isEmpty else {
      throw ShardError(
        "the inputs changed since the shards were recorded (now vs then): \(changed.joined(separator: "; ")); record the shards again"
      )
    }
    if nwb { p.writeNWB = true }
    let named = shards[0].manifest.protocolFile
    if URL(fileURLWithPath: named).standardizedFileURL.path == inputs.protocolPath { p.file = named }
    let folder = output ?? p.output
    if let problem = OutputFolder.problem(folder) { throw OutputFolderError(message: problem) }
    let loaded = try load(p, seed: inputs.seed)
    let (net, spec, plan, prepared) = (loaded.net, loaded.sweep, loaded.plan, loaded.prepared)
    let first = shards[0].manifest
    guard spec.count == first.stimuliTotal, prepared.table.units.count == first.units, plan.batchSize == first.batchSize
    else {
      throw ShardError(
        "the protocol now gives \(spec.count) stimuli, \(prepared.table.units.count) units, batches of \(plan.batchSize); the shards hold \(first.stimuliTotal), \(first.units), \(first.batchSize)"
      )
    }
    let temporary = try OutputFolder.begin(folder, notice: notice)
    do {
      if p.writeResponses { try checkDiskSpace(for: spec, layers: plan.layers, net: net, in: temporary) }
      var outcome = try finishRun(
        temporary, loaded.spec, plan: plan, spec: spec, net: net, seed: inputs.seed,
        statisticsProgress: statisticsProgress
      ) { responsesPath in
        var accumulator = try RecordingAccumulator(plan, prepared: prepared, responsesPath: responsesPath)
        for (dir, m) in shards {
          try replayShard(dir, m, batchSize: plan.batchSize, into: &accumulator)
          progress(accumulator.next, spec.count)
        }
        return try accumulator.finish(prepared)
      }
      try OutputFolder.commit(temporary, to: folder)
      outcome.folder = folder
      return outcome
    } catch {
      OutputFolder.abandon(temporary)
      throw error
    }
  }

  /// Streams one shard's rows and trials, batch by batch, into `accumulator`.
  static func replayShard(
    _ dir: String, _ m: ShardManifest, batchSize: Int, into accumulator: inout RecordingAccumulator
  ) throws {
    let rows = try NPYStreamReader(path: dir + "/rows.npy") { shape in
      shape == [m.stimuli, 2, m.units]
        ? nil : "has shape \(shape); the shard's manifest says [\(m.stimuli), 2, \(m.units)]"
    }
    let trials = try NPY.read(dir + "/trials.npy")
    guard trials.dtype == .i64, trials.shape == [m.stimuli, 3] else {
      throw ShardError(
        "\(dir)/trials.npy: expected int64 [\(m.stimuli), 3], found \(trials.dtype) \(trials.shape)")
    }
    let t = try trials.ints()
    var buffer: [Float] = []
    var done = 0
    while done < m.stimuli {
      let n = min(batchSize, m.stimuli - done)
      try rows.read(rows: n, into: &buffer)
      let range = done..<(done + n)
      try accumulator.add(
        RecordedBatch(
          first: m.firstStimulus + done, count: n, rows: buffer,
          attendedGlimpse: m.hasGlimpses ? range.map { t[$0 * 3] } : nil,
          predictions: range.map { (t[$0 * 3 + 1], t[$0 * 3 + 2]) }))
      done += n
    }
  }
}
