import Foundation

/// Where every shard and the merge of a Slurm run folder stand (`ephys status RUN_DIR`).
public struct SlurmRunStatus: Sendable {
  public struct Line: Sendable {
    public var state: JobState
    /// The job (array id and task, or merge job id), the log, or what to do.
    public var detail: String
  }
  public var record: SlurmRunRecord
  public var shards: [Line]
  public var merge: Line
  /// Nil when the queue was read; else why not (states then come from the folders alone).
  public var queueProblem: String?

  /// Shards in each state.
  public func count(_ s: JobState) -> Int { shards.filter { $0.state == s }.count }
}

extension SlurmRun {
  /// A job state from Slurm's (PENDING -> pending; RUNNING, CONFIGURING, COMPLETING -> running).
  static func state(_ slurm: String) -> JobState {
    switch slurm {
    case "PENDING", "REQUEUED", "SUSPENDED", "REQUEUE_HOLD", "RESV_DEL_HOLD": return .pending
    case "RUNNING", "CONFIGURING", "COMPLETING", "STAGE_OUT", "SIGNALING", "RESIZING": return .running
    default: return .failed
    }
  }

  /// The status of run folder `dir`: a shard is done when its folder holds a readable `shard.json` of its
  /// number; pending or running while its latest array task is in the queue; failed when it was submitted,
  /// left the queue and did not finish (killed, cancelled, out of time or memory: see its log).
  public static func status(_ dir: String) throws -> SlurmRunStatus {
    guard let record = try SlurmRunRecord.read(dir) else {
      throw ShardError(
        "\(dir) is not a Slurm run folder (no \(SlurmRunRecord.fileName)); `ephys submit --slurm` makes one")
    }
    var queued: [QueuedJob] = []
    var problem: String? = nil
    do { queued = try queue() } catch { problem = "\(error)" }
    var lines: [SlurmRunStatus.Line] = []
    var newestShard = Date.distantPast
    for k in 1...max(1, record.options.shards) {
      let folder = shardFolder(dir, k)
      if let m = try? ShardManifest.read(folder), m.shard == k {
        let date =
          (try? FileManager.default.attributesOfItem(atPath: folder + "/" + ShardManifest.fileName))?[
            .modificationDate] as? Date ?? .distantPast
        newestShard = max(newestShard, date)
        lines.append(.init(state: .done, detail: "\(m.stimuli) stimuli from \(m.firstStimulus)"))
        continue
      }
      guard let job = record.submissions.last(where: { $0.shards.contains(k) })?.arrayJob else {
        lines.append(.init(state: .notSubmitted, detail: "not submitted yet"))
        continue
      }
      if let q = queued.first(where: { $0.arrayJob == job && $0.task == k }) {
        lines.append(.init(state: state(q.state), detail: "job \(job)_\(k) \(q.state.lowercased())"))
      } else {
        lines.append(
          .init(
            state: problem == nil ? .failed : .pending,
            detail: problem == nil
              ? "job \(job)_\(k) ended without finishing the shard (see \(dir)/logs/shard-\(k).log); `ephys submit` again reruns it"
              : "job \(job)_\(k), queue not readable"))
      }
    }
    let summary = record.output + "/summary.json"
    let merged = (try? FileManager.default.attributesOfItem(atPath: summary))?[.modificationDate] as? Date
    var merge: SlurmRunStatus.Line
    let mergeJob = record.submissions.last(where: { $0.mergeJob != nil })?.mergeJob
    if let mergeJob, let q = queued.first(where: { $0.arrayJob == mergeJob }) {
      merge = .init(state: state(q.state), detail: "job \(mergeJob) \(q.state.lowercased())")
    } else if let merged, lines.allSatisfy({ $0.state == .done }), merged >= newestShard {
      merge = .init(state: .done, detail: "results in \(record.output)/")
    } else if let mergeJob {
      merge = .init(
        state: problem == nil ? .failed : .pending,
        detail: "job \(mergeJob) ended without merging (see \(dir)/logs/merge-\(mergeJob).log)")
    } else {
      merge = .init(state: .notSubmitted, detail: "not submitted yet")
    }
    return SlurmRunStatus(record: record, shards: lines, merge: merge, queueProblem: problem)
  }
}
