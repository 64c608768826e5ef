import Engine
import Foundation

/// Resources of the sbatch job array (`ephys submit --slurm`): one task per shard.
public struct SlurmOptions: Codable, Sendable, Equatable {
  public var shards: Int
  public var partition: String?
  /// Wall-time limit per shard in Slurm's syntax (e.g. "2:00:00").
  public var time: String?
  /// CPUs per shard (also the shard's engine threads).
  public var cpus: Int
  /// Memory per shard in Slurm's syntax (e.g. "4G").
  public var memory: String?

  public init(shards: Int, partition: String? = nil, time: String? = nil, cpus: Int = 2, memory: String? = nil) {
    self.shards = shards
    self.partition = partition
    self.time = time
    self.cpus = cpus
    self.memory = memory
  }
}

/// One `ephys submit`: the job array of the shards it submitted and the merge job after them.
public struct SlurmSubmission: Codable, Sendable {
  /// The array job's id, nil when every shard was already finished or queued.
  public var arrayJob: String?
  public var shards: [Int]
  public var mergeJob: String?
  /// When it was submitted (ISO 8601, UTC).
  public var submitted: String
}

/// `submission.json` of a Slurm run folder: what is being run, and every submission so far.
public struct SlurmRunRecord: Codable, Sendable {
  public static let fileName = "submission.json"
  public var format = "ephys-slurm 1"
  public var protocolPath: String
  public var protocolSHA256: String
  public var output: String
  public var seed: UInt64?
  public var ephys: String
  public var workingDirectory: String
  public var options: SlurmOptions
  public var submissions: [SlurmSubmission] = []

  /// The record of the run folder `dir`, or nil when it has none.
  public static func read(_ dir: String) throws -> SlurmRunRecord? {
    let path = dir + "/" + fileName
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let bytes = try readFileBytes(path)
    guard bytes.count < 16 << 20 else { throw ShardError("\(path): \(bytes.count) bytes is too large") }
    do { return try JSONDecoder().decode(SlurmRunRecord.self, from: Data(bytes)) } catch {
      throw ShardError("\(path): not a readable Slurm run record (\(error))")
    }
  }

  /// Writes the record into `dir` atomically.
  public func write(into dir: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeFileAtomically(Array(try encoder.encode(self)), to: dir + "/" + SlurmRunRecord.fileName)
  }
}

/// Sharded protocol runs on a Slurm cluster: a run folder holds `submission.json`, the two sbatch
/// scripts, one folder per shard (`shard-K`, finished when it holds `shard.json`) and the jobs' logs.
public enum SlurmRun {
  /// The folder of shard `k` in run folder `dir`.
  public static func shardFolder(_ dir: String, _ k: Int) -> String { dir + "/shard-\(k)" }

  /// A string as one single-quoted shell word.
  static func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  /// The sbatch header lines shared by both scripts.
  static func header(_ r: SlurmRunRecord, name: String, log: String, cpus: Int) -> [String] {
    var lines = [
      "#!/bin/bash",
      "#SBATCH --job-name=\(name)",
      "#SBATCH --output=\(log)",
      "#SBATCH --cpus-per-task=\(cpus)",
      "#SBATCH --chdir=\(r.workingDirectory)",
    ]
    if let p = r.options.partition { lines.append("#SBATCH --partition=\(p)") }
    if let t = r.options.time { lines.append("#SBATCH --time=\(t)") }
    if let m = r.options.memory { lines.append("#SBATCH --mem=\(m)") }
    return lines
  }

  /// The job-array script: task K records shard K of N into `shard-K` (the array's index list is given
  /// to sbatch when submitting, so a resubmission runs only the unfinished shards).
  public static func shardScript(_ r: SlurmRunRecord, runFolder dir: String, name: String) -> String {
    var lines = header(r, name: "ephys-\(name)", log: dir + "/logs/shard-%a.log", cpus: r.options.cpus)
    lines += [
      "# Written by `ephys submit`: shard $SLURM_ARRAY_TASK_ID of \(r.options.shards) of \(r.protocolPath).",
      "set -euo pipefail",
      "export EPHYS_THREADS=\"${SLURM_CPUS_PER_TASK:-\(r.options.cpus)}\"",
      "exec \(quoted(r.ephys)) run \(quoted(r.protocolPath)) --shard \"${SLURM_ARRAY_TASK_ID}/\(r.options.shards)\" --out \(quoted(dir + "/shard-"))\"${SLURM_ARRAY_TASK_ID}\""
        + (r.seed.map { " --seed \($0)" } ?? ""),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The merge script: every shard folder merged into the run's output.
  public static func mergeScript(_ r: SlurmRunRecord, runFolder dir: String, name: String) -> String {
    var lines = header(r, name: "ephys-\(name)-merge", log: dir + "/logs/merge-%j.log", cpus: r.options.cpus)
    let shards = (1...r.options.shards).map { quoted(shardFolder(dir, $0)) }.joined(separator: " ")
    lines += [
      "# Written by `ephys submit`: merges the \(r.options.shards) shards of \(r.protocolPath).",
      "set -euo pipefail",
      "export EPHYS_THREADS=\"${SLURM_CPUS_PER_TASK:-\(r.options.cpus)}\"",
      "exec \(quoted(r.ephys)) merge \(shards) --out \(quoted(r.output))",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// An sbatch `--array` list of shard numbers, runs collapsed ("1-3,5").
  public static func arrayList(_ shards: [Int]) -> String {
    var parts: [String] = []
    var i = 0
    let s = shards.sorted()
    while i < s.count {
      var j = i
      while j + 1 < s.count && s[j + 1] == s[j] + 1 { j += 1 }
      parts.append(i == j ? "\(s[i])" : "\(s[i])-\(s[j])")
      i = j + 1
    }
    return parts.joined(separator: ",")
  }

  /// The job id `sbatch --parsable` printed ("123" or "123;cluster").
  static func jobID(_ out: String) throws -> String {
    let id = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
    guard !id.isEmpty, id.allSatisfy(\.isNumber) else { throw ShardError("sbatch printed no job id: '\(out)'") }
    return id
  }

  /// Submits `script` with extra sbatch arguments; returns the job id.
  static func sbatch(_ arguments: [String], script: String) throws -> String {
    let r = try ClusterCommand.run("sbatch", ["--parsable"] + arguments + [script])
    guard r.status == 0 else {
      throw ShardError(
        "sbatch \((arguments + [script]).joined(separator: " ")) failed: \(r.err.isEmpty ? r.out : r.err)")
    }
    return try jobID(r.out)
  }
}
