import ArgumentParser
import Benchmarks
import Engine
import Foundation
import Workbench

/// `ephys bench`: engine throughput beside PyTorch's, measured in the same run.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Measure training and sweep throughput of the object-attention model, zoo networks (VGG16 inference, a ResNet-18 training step) and conv/GEMM/small-op micro-benchmarks.",
    discussion: """
      The workloads match ../shared/bench/pytorch_object_attention.py (a training batch of 64: 2 glimpses x T = 5
      with BPTT and an Adam step per glimpse; an inference sweep of 4,096 stimuli, 2 glimpses x 5 passes) and
      ../shared/bench/pytorch_zoo.py (VGG16 inference, batch 8 at 224x224; a ResNet-18 SGD step, batch 16 at
      112x112). With --peer SCRIPT (repeatable; a python3 that imports torch), the PyTorch figures are measured in
      the same run and the ratios printed. Figures are the best of several runs; the machine is shared, so compare
      ratios.
      """)

  @Option(help: "Worker threads (default: all cores).") var threads: Int?
  @Option(help: "Timed repeats per figure.") var repeats = 5
  @Option(help: "PyTorch peer script to run in the same session (repeatable).") var peer: [String] = []
  @Flag(inversion: .prefixedNo, help: "Include the zoo workloads (VGG16 inference, ResNet-18 training step).")
  var zoo = true
  @Flag(help: "Only the zoo workloads (skip the object-attention model and the micro-benchmarks).") var zooOnly = false
  @Flag(
    help:
      "Also Excitation Backprop maps per second (MWP, c-MWP; VGG16, 2 x 224 x 224), peer scripts/bench/torchray_attribution.py."
  )
  var attribution = false
  @Option(help: "Python interpreter for the peer.") var python = "python3"
  @Flag(
    help:
      "Only the whole protocol: inference, recording and statistics of --protocol-file (no PDF), beside --protocol-peer in PyTorch + scipy."
  )
  var `protocol` = false
  @Option(help: "The protocol timed by --protocol.") var protocolFile = "Protocols/orientation-attention.yaml"
  @Option(help: "The PyTorch + scipy peer of --protocol (e.g. ../shared/bench/pytorch_orientation_protocol.py).")
  var protocolPeer: String?
  @Option(
    help:
      "Only: inference of this ONNX file (batch 8) beside the zoo's native build of the same network (--native), alternating."
  )
  var onnx: String?
  @Option(help: "The zoo network --onnx is compared with.") var native = "resnet18"
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    if let threads { setBenchmarkThreads(threads) }
    if let onnx {
      let r = try runImportBenchmark(file: onnx, native: native, repeats: repeats)
      if json {
        say(
          #"{"onnx_infer_images_per_s": \#(r.imported), "native_infer_images_per_s": \#(r.native), "threads": \#(Parallel.threads)}"#
        )
      } else {
        say("\(onnx) vs native \(native), batch 8, \(Parallel.threads) threads, best of \(repeats) alternating")
        say(String(format: "imported (ONNX) infer images/s   %8.2f", r.imported))
        say(String(format: "native (zoo) infer images/s      %8.2f", r.native))
        say(String(format: "imported / native                %8.3f", r.imported / r.native))
      }
      return
    }
    if `protocol` {
      try benchProtocol()
      return
    }
    let report =
      zooOnly
      ? BenchmarkReport(threads: Parallel.threads, trainImagesPerSecond: 0, sweepStimuliPerSecond: 0, micro: [:])
      : try runBenchmarks(repeats: repeats)
    var zooFigures = zoo || zooOnly ? runZooBenchmarks(repeats: max(1, min(repeats, 3))) : [:]
    if attribution {
      for (k, v) in try runAttributionBenchmarks(repeats: max(1, min(repeats, 3))) { zooFigures[k] = v }
    }
    var peerFigures: [String: Double] = [:]
    for peer in peer {
      if let obj = try runPeer(peer, threads: report.threads) {
        for k in [
          "train_images_per_s", "sweep_stimuli_per_s", "vgg16_infer_images_per_s", "resnet18_train_images_per_s",
          "vgg16_mwp_maps_per_s", "vgg16_cmwp_maps_per_s",
        ] {
          if let v = (obj[k] as? NSNumber)?.doubleValue { peerFigures[k] = v }
        }
      } else {
        FileHandle.standardError.write(Data("reporting Ephys only for \(peer)\n".utf8))
      }
    }
    if json {
      var out: [String: Any] = [
        "threads": report.threads, "train_images_per_s": report.trainImagesPerSecond,
        "sweep_stimuli_per_s": report.sweepStimuliPerSecond,
        "micro": report.micro,
      ]
      for (k, v) in zooFigures { out[k] = v }
      for (k, v) in peerFigures { out["pytorch_" + k] = v }
      let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
      say(String(decoding: data, as: UTF8.self))
      return
    }
    func padded(_ s: String) -> String { s.padding(toLength: 24, withPad: " ", startingAt: 0) }
    func line(_ name: String, _ ours: Double, _ key: String) {
      if let theirs = peerFigures[key] {
        say(padded(name) + String(format: "%10.1f   PyTorch %10.1f   ratio %.2fx", ours, theirs, ours / theirs))
      } else {
        say(padded(name) + String(format: "%10.1f", ours))
      }
    }
    say("threads \(report.threads)")
    if !zooOnly {
      line("train images/s", report.trainImagesPerSecond, "train_images_per_s")
      line("sweep stimuli/s", report.sweepStimuliPerSecond, "sweep_stimuli_per_s")
    }
    if let v = zooFigures["vgg16_infer_images_per_s"] { line("vgg16 infer images/s", v, "vgg16_infer_images_per_s") }
    if let v = zooFigures["resnet18_train_images_per_s"] {
      line("resnet18 train images/s", v, "resnet18_train_images_per_s")
    }
    if let v = zooFigures["vgg16_mwp_maps_per_s"] { line("vgg16 MWP maps/s", v, "vgg16_mwp_maps_per_s") }
    if let v = zooFigures["vgg16_cmwp_maps_per_s"] { line("vgg16 c-MWP maps/s", v, "vgg16_cmwp_maps_per_s") }
    for (k, v) in report.micro.sorted(by: { $0.key < $1.key }) { say(padded(k) + String(format: "%10.3f", v)) }
  }

  /// `--protocol`: our protocol's phases beside the peer's, same threads, best of `repeats`.
  func benchProtocol() throws {
    let spec: ProtocolSpec
    do { spec = try ProtocolFile.load(protocolFile) } catch let e as ProtocolErrors {
      FileHandle.standardError.write(Data((e.description + "\n").utf8))
      throw ExitCode(2)
    }
    let ours = try ProtocolRunner.benchmark(spec, repeats: max(1, min(repeats, 3)), notice: note)
    var peer: [String: Any]? = nil
    if let script = protocolPeer {
      note("running the peer \(script) with \(python)")
      var best: [String: Any]? = nil
      for _ in 0..<max(1, min(repeats, 3)) {
        guard let obj = try runPeer(script, threads: ours.threads) else { break }
        let total = (obj["total_s"] as? NSNumber)?.doubleValue ?? .infinity
        if total < ((best?["total_s"] as? NSNumber)?.doubleValue ?? .infinity) { best = obj }
      }
      peer = best
    }
    func number(_ key: String) -> Double? { (peer?[key] as? NSNumber)?.doubleValue }
    if json {
      var out: [String: Any] = [
        "protocol": ours.protocolName, "stimuli": ours.stimuli, "units": ours.units, "threads": ours.threads,
        "inference_s": ours.inferenceSeconds, "recording_s": ours.recordingSeconds,
        "statistics_s": ours.statisticsSeconds, "total_s": ours.totalSeconds,
        "recording_overhead": ours.recordingOverhead,
      ]
      if let peer { out["peer"] = peer }
      if let theirs = number("total_s") { out["ratio"] = theirs / ours.totalSeconds }
      let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
      say(String(decoding: data, as: UTF8.self))
      return
    }
    say(
      "\(ours.protocolName): \(ours.stimuli) stimuli, \(ours.units) units, \(ours.threads) threads, best of \(max(1, min(repeats, 3)))"
    )
    say(
      String(
        format: "inference (render + model, no layer kept)  %7.2f s   %.0f stimuli/s", ours.inferenceSeconds,
        Double(ours.stimuli) / ours.inferenceSeconds))
    say(
      String(
        format: "recording (rows, tuning)                   %7.2f s   overhead over inference %+.0f%%",
        ours.recordingSeconds, 100 * ours.recordingOverhead))
    say(String(format: "statistics (tests, gain models, fits)     %7.2f s", ours.statisticsSeconds))
    say(String(format: "protocol without PDF                      %7.2f s", ours.totalSeconds))
    if let theirs = number("total_s") {
      say(
        String(
          format:
            "PyTorch %@ + scipy: render %.2f s, record %.2f s, statistics %.2f s, fits %.2f s (%@ of %@ measured), total %.2f s",
          "\(peer?["torch"] ?? "?")", number("render_s") ?? 0, number("record_s") ?? 0, number("stats_s") ?? 0,
          number("fits_s") ?? 0, "\(peer?["fits_measured"] ?? "?")", "\(peer?["fits_total"] ?? "?")", theirs))
      say(String(format: "ratio (PyTorch total / ours)              %7.2fx", theirs / ours.totalSeconds))
    }
  }

  /// Runs a peer script with `--threads N` and returns the JSON object on its last line of output, or
  /// nil (with a message) when it fails.
  func runPeer(_ script: String, threads: Int) throws -> [String: Any]? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [python, script, "--threads", "\(threads)"]
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
      let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    else {
      FileHandle.standardError.write(Data("peer script \(script) failed (exit \(p.terminationStatus))\n".utf8))
      return nil
    }
    return obj
  }
}
