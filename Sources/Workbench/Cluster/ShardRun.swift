import Engine
import Foundation
import ModelInterface
import Recording

/// What a shard run recorded.
public struct ShardOutcome: Sendable {
  public var folder: String
  public var manifest: ShardManifest
  /// Wall time of the recording, seconds.
  public var seconds: Double
}

extension ProtocolRunner {
  /// The default folder of shard `cut` of a protocol: `OUTPUT.shard-K-of-N` beside its output.
  public static func defaultShardFolder(_ p: ProtocolSpec, cut: ShardCut) -> String {
    p.output + ".shard-\(cut.index)-of-\(cut.count)"
  }

  /// Records shard `cut` of `p` into a shard folder: `rows.npy` ([stimuli of the shard, 2, units], the
  /// rows a single run streams into responses.npy), `trials.npy` (int64 [stimuli, 3]: attended glimpse
  /// or -1, predicted class attended, unattended) and `shard.json`, written last. The folder appears
  /// only when the shard has succeeded (as a run's output folder does), so a killed shard leaves
  /// nothing that looks finished. Statistics and reports are left to `merge`.
  public static func runShard(
    _ p: ProtocolSpec, cut: ShardCut, output: String? = nil, seed: UInt64? = nil,
    notice: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }
  ) throws -> ShardOutcome {
    let seed = seed ?? p.seed
    let folder = output ?? defaultShardFolder(p, cut: cut)
    if let problem = OutputFolder.problem(folder) { throw OutputFolderError(message: problem) }
    let inputs = try RunInputs(p, seed: seed)
    let loaded = try load(p, seed: seed)
    let (plan, table) = (loaded.plan, loaded.prepared.table)
    let range = try cut.stimuli(total: loaded.sweep.count, batch: plan.batchSize)
    let units = table.units.count
    let temporary = try OutputFolder.begin(folder, notice: notice)
    do {
      try checkFreeSpace("the shard's rows.npy", rows: range.count, units: units, in: temporary)
      let clock = ContinuousClock()
      let t0 = clock.now
      let rows = try NPYStreamWriter(path: temporary + "/rows.npy", shape: [range.count, 2, units])
      let trials = try NPYStreamWriter(path: temporary + "/trials.npy", shape: [range.count, 3], dtype: .i64)
      var hasGlimpses = false
      try Recording.recordRows(
        plan, on: loaded.net, table: table, stimuli: range,
        each: { b in
          try rows.append(b.rows)
          // Glimpses count only where attention is the model's own (as in a single run's glimpses.csv).
          let glimpses = plan.condition.isModelCondition ? b.attendedGlimpse : nil
          hasGlimpses = glimpses != nil
          var t = [Int](repeating: -1, count: b.count * 3)
          for i in 0..<b.count {
            if let glimpses { t[i * 3] = glimpses[i] }
            t[i * 3 + 1] = b.predictions[i].attended
            t[i * 3 + 2] = b.predictions[i].unattended
          }
          try trials.append(ints: t)
        }, progress: { progress($0, range.count) })
      try rows.finish()
      try trials.finish()
      let manifest = ShardManifest(
        ephysVersion: ephysVersion, inputs: inputs, protocolFile: p.file, shard: cut.index, shards: cut.count,
        stimuliTotal: loaded.sweep.count,
        batchSize: plan.batchSize, firstStimulus: range.lowerBound, stimuli: range.count, units: units,
        hasGlimpses: hasGlimpses)
      try manifest.write(into: temporary)
      let elapsed = seconds(clock.now - t0)
      try OutputFolder.commit(temporary, to: folder)
      return ShardOutcome(folder: folder, manifest: manifest, seconds: elapsed)
    } catch {
      OutputFolder.abandon(temporary)
      throw error
    }
  }
}
