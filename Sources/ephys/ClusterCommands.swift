import ArgumentParser
import Foundation
import Workbench

/// `ephys merge SHARD_DIR...`: a run's outputs from its shards.
struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Merge the shards of a protocol run (`ephys run --shard K/N`) into the outputs of a single run.",
    discussion: """
      Checks that the shards come from the same protocol, stimulus file, weights (SHA-256), seed and cut, that
      none is missing or given twice, and that those inputs have not changed since; then streams the shards'
      rows in stimulus order through the same statistics as `ephys run`, so every output file is byte-identical
      to a single run's on the same machine. A folder made by `ephys submit --slurm` may be given instead of
      its shard folders.
      """)

  @Argument(help: "Shard folders (or one Slurm run folder).") var shards: [String]
  @Option(help: "Output folder (default: the protocol's).") var out: String?
  @Flag(help: "Also write run.nwb.") var nwb = false

  func run() throws {
    var dirs = shards
    if shards.count == 1, let record = try SlurmRunRecord.read(shards[0]) {
      dirs = (1...record.options.shards).map { SlurmRun.shardFolder(shards[0], $0) }
    }
    let start = Date()
    var bar: ProgressBar? = nil
    var statisticsBar = StatisticsProgress(label: "merge")
    let outcome = try ProtocolRunner.merge(
      dirs, output: out, nwb: nwb, notice: note,
      progress: { done, total in
        if bar == nil { bar = ProgressBar(total: total, label: "merge", unit: "stim", start: start) }
        bar!.update(done, items: done)
      },
      statisticsProgress: { statisticsBar.update($0, $1) })
    say(
      "merged \(dirs.count) shards: \(outcome.stimuli) stimuli, \(outcome.units) units in \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
    )
    for w in outcome.warnings { note("warning: \(w)") }
    for c in outcome.caveats { note("caveat: \(c)") }
    say("results in \(outcome.folder)/")
  }
}

/// `ephys submit PROTOCOL --slurm`: the shards as a Slurm job array, then the merge.
struct Submit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a protocol on a Slurm cluster: its shards as one job array, then a merge job.",
    discussion: """
      Writes RUN_DIR/shards.sbatch (task K runs `ephys run PROTOCOL --shard K/N --out RUN_DIR/shard-K`) and
      RUN_DIR/merge.sbatch (`ephys merge` of every shard into the output), and submits both with sbatch, the merge
      after the array. Submitting again reruns only the shards that did not finish (a finished shard's folder holds
      shard.json) and are not still queued. `ephys status RUN_DIR` shows where each stands. Every path in the
      scripts is absolute; jobs start in the current folder and inherit this environment (sbatch's default).
      """)

  @Argument(help: "The protocol file (YAML).") var protocolFile: String
  @Flag(help: "Submit to Slurm (the only scheduler so far; required).") var slurm = false
  @Option(help: "Number of shards (array tasks).") var shards = 4
  @Option(help: "Slurm partition (default: the cluster's).") var partition: String?
  @Option(help: "Time limit per shard, in Slurm's syntax (e.g. 1:00:00).") var time: String?
  @Option(help: "CPUs per shard (also its engine threads).") var cpus = 2
  @Option(help: "Memory per shard, in Slurm's syntax (e.g. 4G).") var mem: String?
  @Option(help: "Run folder for scripts, shards and logs (default OUTPUT.slurm).") var runDir: String?
  @Option(help: "Output folder of the merged run (default: the protocol's).") var out: String?
  @Option(help: "Seed (overrides the protocol's).") var seed: UInt64?
  @Flag(help: "Write the scripts and print the sbatch commands without submitting.") var dryRun = false

  func run() throws {
    guard slurm else { throw ValidationError("say where to submit: --slurm (the only scheduler supported)") }
    let spec: ProtocolSpec
    do { spec = try ProtocolFile.load(protocolFile) } catch let e as ProtocolErrors {
      FileHandle.standardError.write(Data((e.description + "\n").utf8))
      throw ExitCode(2)
    }
    let ephys =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let outcome = try SlurmRun.submit(
      spec, options: SlurmOptions(shards: shards, partition: partition, time: time, cpus: cpus, memory: mem),
      runFolder: runDir, output: out, seed: seed, ephys: ephys, dryRun: dryRun)
    if !outcome.finished.isEmpty {
      say("kept \(outcome.finished.count) finished shard(s): \(SlurmRun.arrayList(outcome.finished))")
    }
    if !outcome.stillQueued.isEmpty {
      say("left \(outcome.stillQueued.count) queued shard(s) to run: \(SlurmRun.arrayList(outcome.stillQueued))")
    }
    if dryRun {
      say("scripts written (not submitted):")
      for path in [outcome.shardScript, outcome.mergeScript] {
        say("--- \(path)")
        say((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
      }
      for c in outcome.commands { say("would run: \(c)") }
      return
    }
    for c in outcome.commands { say("ran: \(c)") }
    if let s = outcome.submission {
      say(
        "submitted \(s.shards.count) shard(s)\(s.arrayJob.map { " as job array \($0)" } ?? ""), merge as job \(s.mergeJob ?? "?"); `ephys status \(outcome.runFolder)` shows progress"
      )
    }
  }
}

/// `ephys status RUN_DIR`: shards done, running, failed.
struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Where the shards and the merge of a Slurm run (`ephys submit --slurm`) stand.")

  @Argument(help: "The run folder.") var runDir: String
  @Flag(help: "Print JSON instead of text.") var json = false

  func run() throws {
    let s = try SlurmRun.status(runDir)
    if json {
      let object: [String: Any] = [
        "protocol": s.record.protocolPath, "output": s.record.output,
        "shards": s.shards.enumerated().map {
          ["shard": $0.offset + 1, "state": $0.element.state.rawValue, "detail": $0.element.detail]
        },
        "merge": ["state": s.merge.state.rawValue, "detail": s.merge.detail],
        "queue_problem": s.queueProblem ?? NSNull(),
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
      say(String(decoding: data, as: UTF8.self))
      return
    }
    say("\(runDir): \(s.record.protocolPath), \(s.record.options.shards) shards -> \(s.record.output)")
    if let problem = s.queueProblem { note("the queue could not be read (\(problem)); states come from the folders") }
    for (k, line) in s.shards.enumerated() {
      say("shard \(k + 1): \(line.state.rawValue) (\(line.detail))")
    }
    say("merge: \(s.merge.state.rawValue) (\(s.merge.detail))")
    let counts = [JobState.done, .running, .pending, .failed, .notSubmitted].map { "\(s.count($0)) \($0.rawValue)" }
    say("shards: " + counts.joined(separator: ", "))
  }
}
