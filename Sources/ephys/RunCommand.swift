import ArgumentParser
import Foundation
import Workbench

/// `ephys run PROTOCOL.yaml`: the main job.
struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Run an electrophysiology protocol: sweep stimuli, record units while attended and unattended, write results.",
    discussion: """
      Writes into the output folder (default: the protocol's `output`, else Reports/<name>): responses.npy
      [stimuli, 2, units], units.csv, conditions.csv, glimpses.csv, tuning.npy/.csv, montage.png,
      tuning_examples.png and summary.json. Results appear only when the whole run succeeds; a protocol with
      problems is rejected with one message per problem (file:line:column: key: message) and nothing is written.
      """)

  @Argument(help: "The protocol file (YAML).") var protocolFile: String
  @Option(help: "Output folder (overrides the protocol's).") var out: String?
  @Option(help: "Seed (overrides the protocol's).") var seed: UInt64?
  @Flag(help: "Also write run.nwb (NWB 2.x: trials, units, responses, stimuli; as `output: {nwb: true}`).")
  var nwb = false
  @Option(
    help: ArgumentHelp(
      "Record only shard K of N (a fixed cut of the stimulus table into whole batches) into a shard folder (--out, default OUTPUT.shard-K-of-N); `ephys merge` makes the run's outputs from all N.",
      valueName: "K/N"))
  var shard: String?

  func run() throws {
    var spec: ProtocolSpec
    do { spec = try ProtocolFile.load(protocolFile) } catch let e as ProtocolErrors {
      FileHandle.standardError.write(Data((e.description + "\n").utf8))
      throw ExitCode(2)
    }
    if nwb {
      guard spec.writeResponses else {
        FileHandle.standardError.write(
          Data("\(protocolFile): --nwb holds every trial's responses: it needs record.responses: true\n".utf8))
        throw ExitCode(2)
      }
      spec.writeNWB = true
    }
    let start = Date()
    var bar: ProgressBar? = nil
    if let shard {
      let cut = try ShardCut(parsing: shard)
      let outcome = try ProtocolRunner.runShard(
        spec, cut: cut, output: out, seed: seed, notice: note,
        progress: { done, total in
          if bar == nil { bar = ProgressBar(total: total, label: "\(spec.name) \(cut)", unit: "stim", start: start) }
          bar!.update(done, items: done)
        })
      let m = outcome.manifest
      say(
        "shard \(cut): stimuli \(m.firstStimulus)..<\(m.firstStimulus + m.stimuli) of \(m.stimuliTotal), \(m.units) units, recorded in \(String(format: "%.1f", outcome.seconds)) s into \(outcome.folder)/"
      )
      return
    }
    var statisticsBar = StatisticsProgress(label: spec.name)
    let outcome = try ProtocolRunner.run(
      spec, output: out, seed: seed, notice: note,
      progress: { done, total in
        if bar == nil { bar = ProgressBar(total: total, label: spec.name, unit: "stim", start: start) }
        bar!.update(done, items: done)
      },
      statisticsProgress: { statisticsBar.update($0, $1) })
    let silent = outcome.silentUnits.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    say(
      "\(outcome.stimuli) stimuli, \(outcome.units) units recorded (silent, excluded: \(silent)) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s"
    )
    say(
      String(
        format: "recording %.1f s, statistics and report %.1f s", outcome.recordingSeconds, outcome.analysisSeconds)
        + (spec.writeNWB ? String(format: ", run.nwb %.1f s", outcome.nwbSeconds) : ""))
    for (file, what) in outcome.modelFiles.sorted(by: { $0.key < $1.key }) { say("model output \(file): \(what)") }
    for w in outcome.warnings { note("warning: \(w)") }
    for c in outcome.caveats { note("caveat: \(c)") }
    say("results in \(outcome.folder)/")
  }
}

/// `ephys stimuli SPEC.yaml`: previews a sweep.
struct StimuliPreview: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "stimuli", abstract: "Preview a stimulus sweep as a PNG montage (and optionally all images as .npy).")

  @Argument(help: "Stimulus file (YAML).") var specFile: String
  @Option(help: "Montage PNG to write.") var montage: String = "Reports/stimuli.png"
  @Option(help: "Also write every stimulus as float32 [N, 1, H, W] .npy.") var npy: String?
  @Option(help: "Canvas height (default 28, the MNIST model's input).") var height = 28
  @Option(help: "Canvas width (default 42).") var width = 42
  @Option(help: "Seed for noise.") var seed: UInt64 = 0

  func run() throws {
    let request: StimulusRequest
    do { request = try ProtocolFile.loadStimulus(specFile) } catch let e as ProtocolErrors {
      FileHandle.standardError.write(Data((e.description + "\n").utf8))
      throw ExitCode(2)
    }
    let h = request.canvas?.height ?? height
    let w = request.canvas?.width ?? width
    let spec = try ProtocolRunner.materialize(request, height: h, width: w, seed: seed)
    try ProtocolRunner.stimulusMontage(spec).writePNG(to: montage)
    if let npy { try writeStimuliNPY(spec, to: npy) }
    say(
      "\(spec.count) stimuli (\(spec.sweptParameters.joined(separator: " × "))); montage \(montage)\(npy.map { ", array \($0)" } ?? "")"
    )
  }
}
