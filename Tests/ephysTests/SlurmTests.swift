import Foundation
import Testing

/// A one-node Slurm cluster (scripts/slurm/local-cluster.sh) for the duration of a test.
struct LocalSlurm {
  let folder: String
  let conf: String

  /// Starts the daemons, or returns why they could not start.
  static func start() throws -> Result<LocalSlurm, SkipReason> {
    let folder = try temporaryFolder("slurm")
    let status = shell(
      "bash '\(repositoryRoot)/scripts/slurm/local-cluster.sh' start '\(folder)' > '\(folder)/start.log' 2>&1")
    guard status == 0 else {
      return .failure(
        SkipReason((try? String(contentsOfFile: folder + "/start.log", encoding: .utf8)) ?? "exit \(status)"))
    }
    return .success(LocalSlurm(folder: folder, conf: folder + "/slurm.conf"))
  }

  func stop() {
    _ = LocalSlurm.shell("bash '\(repositoryRoot)/scripts/slurm/local-cluster.sh' stop '\(folder)' > /dev/null 2>&1")
  }

  /// Runs a shell command line with system(3) and returns its exit status. (Foundation's Process
  /// waited forever here on a script whose children daemonise.)
  static func shell(_ command: String) -> Int32 {
    let status = system(command)
    return status == -1 ? -1 : (status >> 8) & 0xFF
  }
}

struct SkipReason: Error, CustomStringConvertible {
  var description: String
  init(_ d: String) { description = d }
}

@Suite("Sharded protocol runs on a real Slurm cluster")
struct SlurmTests {
  /// `ephys status RUN --json` as a dictionary.
  func status(_ run: String, in folder: String, conf: String) throws -> [String: Any] {
    let r = try runEphys(["status", run, "--json"], in: folder, environment: ["SLURM_CONF": conf])
    guard r.status == 0, let object = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] else {
      throw SkipReason("ephys status failed: \(r.err)")
    }
    return object
  }

  func states(_ s: [String: Any]) -> (shards: [String], merge: String) {
    let shards = (s["shards"] as? [[String: Any]] ?? []).map { $0["state"] as? String ?? "?" }
    return (shards, (s["merge"] as? [String: Any])?["state"] as? String ?? "?")
  }

  /// Polls until the merge job has left the queue (done or failed), at most `seconds`.
  func waitForMerge(_ run: String, in folder: String, conf: String, seconds: Double) throws -> [String: Any] {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      let s = try status(run, in: folder, conf: conf)
      let merge = states(s).merge
      if merge == "done" || merge == "failed" { return s }
      Thread.sleep(forTimeInterval: 0.5)
    }
    throw SkipReason("the merge did not finish within \(seconds) s: \(try status(run, in: folder, conf: conf))")
  }

  @Test("4 shards as a job array, one cancelled and resubmitted, merged outputs identical to a single run")
  func shardedRunOnSlurm() throws {
    let required = ProcessInfo.processInfo.environment["EPHYS_REQUIRE_SLURM"] == "1"
    let cluster: LocalSlurm
    switch try LocalSlurm.start() {
    case .success(let c): cluster = c
    case .failure(let why):
      if required {
        Issue.record("EPHYS_REQUIRE_SLURM=1 but the local Slurm cluster did not start: \(why)")
      } else {
        print(
          "skipping the Slurm test: the local cluster did not start (\(why)); scripts/test.sh installs and requires it")
      }
      return
    }
    defer { cluster.stop() }
    let slurm = ["SLURM_CONF": cluster.conf]
    let work = try temporaryFolder("slurm-run")
    try FileManager.default.copyItem(
      atPath: repositoryRoot + "/Checkpoints/object-attention-mnist.safetensors", toPath: work + "/net.safetensors")
    let protocolText = """
      name: sharded
      model:
        architecture: object-attention-mnist
        weights: net.safetensors
      stimulus:
        kind: gaussian-bar
        parameters:
          orientation: {from: 0, to: 150, steps: 6}
          width: [1, 2, 3]
          x: [4, 8, 12, 16]
          y: 14
        distractor: {kind: digit, class: 7, region: right}
      attention:
        mode: glimpses
      record:
        layers: [conv2]
        units: all
        batch: 8
      tuning:
        axis: orientation
        reduce: max
      seed: 5
      """
    let protocolPath = work + "/sharded.yaml"
    try protocolText.write(toFile: protocolPath, atomically: true, encoding: .utf8)
    let run = work + "/run"
    let submitArguments = [
      "submit", protocolPath, "--slurm", "--shards", "4", "--cpus", "1", "--run-dir", run, "--out", work + "/merged",
    ]
    let first = try runEphys(submitArguments, in: work, environment: slurm)
    try #require(first.status == 0, "submit failed: \(first.err)")
    let record =
      try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: run + "/submission.json")!)
      as! [String: Any]
    let array = try #require((record["submissions"] as? [[String: Any]])?.first?["arrayJob"] as? String)
    // Kill shard 2 at once: pending or just started, it ends without its completion marker.
    #expect(LocalSlurm.shell("SLURM_CONF='\(cluster.conf)' scancel \(array)_2") == 0)

    let afterCancel = try waitForMerge(run, in: work, conf: cluster.conf, seconds: 300)
    let (shards1, merge1) = states(afterCancel)
    #expect(shards1 == ["done", "failed", "done", "done"], "\(afterCancel)")
    #expect(merge1 == "failed")
    let mergeLog = try FileManager.default.contentsOfDirectory(atPath: run + "/logs").filter { $0.hasPrefix("merge-") }
    let log = mergeLog.compactMap { try? String(contentsOfFile: run + "/logs/" + $0, encoding: .utf8) }.joined()
    #expect(log.contains("run/shard-2: not a finished shard"), "merge log: \(log)")

    // Submitting again reruns shard 2 only, keeps the other three.
    let second = try runEphys(submitArguments, in: work, environment: slurm)
    try #require(second.status == 0, "resubmit failed: \(second.err)")
    #expect(second.out.contains("kept 3 finished shard(s): 1,3-4"), "\(second.out)")
    #expect(second.out.contains("--array=2 "), "\(second.out)")
    let done = try waitForMerge(run, in: work, conf: cluster.conf, seconds: 300)
    let (shards2, merge2) = states(done)
    #expect(shards2 == ["done", "done", "done", "done"] && merge2 == "done", "\(done)")

    // A single run with the shards' thread count (their --cpus) gives the same bytes, every file.
    let single = try runEphys(
      ["run", protocolPath, "--out", work + "/single"], in: work, environment: ["EPHYS_THREADS": "1"])
    try #require(single.status == 0, "single run failed: \(single.err)")
    let a = contents(of: work + "/single")
    let b = contents(of: work + "/merged")
    #expect(a.count > 20 && a["responses.npy"] != nil && a["report.pdf"] != nil)
    #expect(Set(a.keys) == Set(b.keys), "files differ: \(Set(a.keys).symmetricDifference(b.keys).sorted())")
    for (name, bytes) in a { #expect(b[name] == bytes, "\(name) differs between the merged and the single run") }
    try? FileManager.default.removeItem(atPath: work)
  }
}
