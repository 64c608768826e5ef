import Engine
import Foundation

/// What `ephys submit` did (or, with a dry run, would do).
public struct SlurmSubmitOutcome: Sendable {
  public var runFolder: String
  public var shardScript: String
  public var mergeScript: String
  /// Shards submitted now; shards finished before (kept); shards still queued from an earlier submission.
  public var submitted: [Int]
  public var finished: [Int]
  public var stillQueued: [Int]
  /// The sbatch command lines (run, or printed for a dry run).
  public var commands: [String]
  public var submission: SlurmSubmission?
}

extension SlurmRun {
  /// Submits the unfinished shards of `p` as one sbatch job array plus a merge job that runs after
  /// them (`afterany`: the merge itself refuses a missing shard, naming it), recording the jobs in
  /// `runFolder/submission.json`. Finished shards (those with a `shard.json` from the same inputs)
  /// are kept; shards still queued from an earlier submission are left to run, and an earlier merge
  /// job still waiting is cancelled (the new one waits for everything). `dryRun` writes the scripts and
  /// returns the commands without submitting.
  public static func submit(
    _ p: ProtocolSpec, options: SlurmOptions, runFolder: String? = nil, output: String? = nil,
    seed: UInt64? = nil, ephys: String, dryRun: Bool = false
  ) throws -> SlurmSubmitOutcome {
    let cwd = FileManager.default.currentDirectoryPath
    func absolute(_ path: String) -> String {
      URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: cwd + "/")).standardizedFileURL.path
    }
    let out = absolute(output ?? p.output)
    let dir = absolute(runFolder ?? (output ?? p.output) + ".slurm")
    if let problem = OutputFolder.problem(out) { throw OutputFolderError(message: problem) }
    guard (1...64).contains(options.cpus) else { throw ShardError("--cpus must be between 1 and 64") }
    // The cut must be possible before anything is queued.
    let canvas = ProtocolFile.inputCanvas(p.architecture, weights: p.weights, stimulus: p.stimulus)
    let spec = try ProtocolRunner.materialize(
      p.stimulus, height: canvas.height, width: canvas.width, seed: seed ?? p.seed)
    _ = try ShardCut(index: 1, count: options.shards).stimuli(total: spec.count, batch: p.batchSize)
    let inputs = try RunInputs(p, seed: seed ?? p.seed)

    var record = SlurmRunRecord(
      protocolPath: inputs.protocolPath, protocolSHA256: inputs.protocolSHA256, output: out, seed: seed, ephys: ephys,
      workingDirectory: cwd, options: options)
    if let earlier = try SlurmRunRecord.read(dir) {
      var differences: [String] = []
      if earlier.protocolPath != record.protocolPath { differences.append("protocol \(earlier.protocolPath)") }
      if earlier.protocolSHA256 != record.protocolSHA256 { differences.append("protocol contents (edited since)") }
      if earlier.options.shards != options.shards { differences.append("\(earlier.options.shards) shards") }
      if earlier.output != out { differences.append("output \(earlier.output)") }
      if earlier.seed != seed { differences.append("seed \(earlier.seed.map(String.init) ?? "of the protocol")") }
      guard differences.isEmpty else {
        throw ShardError(
          "\(dir) holds a submission of another run (\(differences.joined(separator: ", "))); choose another --run-dir or delete it"
        )
      }
      record.submissions = earlier.submissions
    } else if FileManager.default.fileExists(atPath: dir),
      let entries = try? FileManager.default.contentsOfDirectory(atPath: dir), !entries.isEmpty
    {
      throw ShardError("\(dir) exists and is not a Slurm run folder of Ephys; choose another --run-dir")
    }

    // Which shards are finished (from these inputs), which still queued, which to submit.
    var finished: [Int] = []
    for k in 1...options.shards {
      guard let m = try? ShardManifest.read(shardFolder(dir, k)), m.shard == k else { continue }
      let differences = m.inputs.differences(from: inputs)
      guard differences.isEmpty else {
        throw ShardError(
          "\(shardFolder(dir, k)) was recorded from other inputs (\(differences.joined(separator: "; "))); delete it or the run folder"
        )
      }
      finished.append(k)
    }
    let queued = dryRun || record.submissions.isEmpty ? [] : try queue()
    var stillQueued: [Int] = []
    var liveArrays: Set<String> = []
    for k in 1...options.shards where !finished.contains(k) {
      if let job = record.submissions.last(where: { $0.shards.contains(k) })?.arrayJob,
        queued.contains(where: { $0.arrayJob == job && $0.task == k })
      {
        stillQueued.append(k)
        liveArrays.insert(job)
      }
    }
    let toSubmit = (1...options.shards).filter { !finished.contains($0) && !stillQueued.contains($0) }

    try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
    let name = URL(fileURLWithPath: p.name).lastPathComponent.filter {
      $0.isLetter || $0.isNumber || "-_.".contains($0)
    }
    let shardScriptPath = dir + "/shards.sbatch"
    let mergeScriptPath = dir + "/merge.sbatch"
    try writeFileAtomically(Array(shardScript(record, runFolder: dir, name: name).utf8), to: shardScriptPath)
    try writeFileAtomically(Array(mergeScript(record, runFolder: dir, name: name).utf8), to: mergeScriptPath)
    try record.write(into: dir)

    var outcome = SlurmSubmitOutcome(
      runFolder: dir, shardScript: shardScriptPath, mergeScript: mergeScriptPath, submitted: toSubmit,
      finished: finished, stillQueued: stillQueued, commands: [], submission: nil)
    let arrayArguments = ["--array=\(arrayList(toSubmit))"]
    func dependency(_ ids: [String]) -> [String] {
      ids.isEmpty ? [] : ["--dependency=afterany:" + ids.joined(separator: ":")]
    }
    if dryRun {
      if !toSubmit.isEmpty {
        outcome.commands.append((["sbatch"] + arrayArguments + [shardScriptPath]).joined(separator: " "))
      }
      let ids = (toSubmit.isEmpty ? [] : ["<array job>"]) + liveArrays.sorted()
      outcome.commands.append((["sbatch"] + dependency(ids) + [mergeScriptPath]).joined(separator: " "))
      return outcome
    }
    // An earlier merge still waiting would run before the resubmitted shards: cancel it.
    if let previous = record.submissions.last?.mergeJob, queued.contains(where: { $0.arrayJob == previous }) {
      let r = try ClusterCommand.run("scancel", [previous])
      guard r.status == 0 else { throw ShardError("scancel \(previous) failed: \(r.err)") }
      outcome.commands.append("scancel \(previous)")
    }
    var arrayJob: String? = nil
    if !toSubmit.isEmpty {
      arrayJob = try sbatch(arrayArguments, script: shardScriptPath)
      outcome.commands.append((["sbatch"] + arrayArguments + [shardScriptPath]).joined(separator: " "))
    }
    // Recorded before the merge is submitted, so a failure there still leaves the shards' job known.
    let formatter = ISO8601DateFormatter()
    var submission = SlurmSubmission(
      arrayJob: arrayJob, shards: toSubmit, mergeJob: nil, submitted: formatter.string(from: Date()))
    record.submissions.append(submission)
    try record.write(into: dir)
    let after = dependency((arrayJob.map { [$0] } ?? []) + liveArrays.sorted())
    submission.mergeJob = try sbatch(after, script: mergeScriptPath)
    outcome.commands.append((["sbatch"] + after + [mergeScriptPath]).joined(separator: " "))
    record.submissions[record.submissions.count - 1] = submission
    try record.write(into: dir)
    outcome.submission = submission
    return outcome
  }
}
