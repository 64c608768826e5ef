/// A job, or one task of a job array, in Slurm's queue.
public struct QueuedJob: Sendable, Equatable {
  /// The array's job id (the job's own id for a job that is not an array).
  public var arrayJob: String
  /// The array task id, nil for a job that is not an array.
  public var task: Int?
  /// Slurm's state, e.g. PENDING, RUNNING, COMPLETING.
  public var state: String
}

extension SlurmRun {
  /// The caller's jobs in Slurm's queue, one line per array task (`squeue --me --array`).
  public static func queue() throws -> [QueuedJob] {
    let r = try ClusterCommand.run("squeue", ["--noheader", "--array", "--me", "--format=%F|%K|%T"])
    guard r.status == 0 else { throw ShardError("squeue failed: \(r.err.isEmpty ? r.out : r.err)") }
    return r.out.split(separator: "\n").compactMap { line in
      let f = line.split(separator: "|", omittingEmptySubsequences: false).map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      guard f.count == 3, !f[0].isEmpty else { return nil }
      return QueuedJob(arrayJob: f[0], task: Int(f[1]), state: f[2])
    }
  }
}

/// Where a shard or the merge of a Slurm run stands.
public enum JobState: String, Sendable, Codable {
  case done, pending, running, failed
  case notSubmitted = "not submitted"
}
