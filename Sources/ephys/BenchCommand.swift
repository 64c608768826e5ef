import ArgumentParser
import Benchmarks
import Engine
import Foundation

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
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    if let threads { setBenchmarkThreads(threads) }
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
      let p = Process()
      p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      p.arguments = [python, peer, "--threads", "\(report.threads)"]
      let pipe = Pipe()
      p.standardOutput = pipe
      try p.run()
      p.waitUntilExit()
      let data = pipe.fileHandleForReading.readDataToEndOfFile()
      if p.terminationStatus == 0, let line = String(data: data, encoding: .utf8)?.split(separator: "\n").last,
        let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      {
        for k in [
          "train_images_per_s", "sweep_stimuli_per_s", "vgg16_infer_images_per_s", "resnet18_train_images_per_s",
          "vgg16_mwp_maps_per_s", "vgg16_cmwp_maps_per_s",
        ] {
          if let v = (obj[k] as? NSNumber)?.doubleValue { peerFigures[k] = v }
        }
      } else {
        FileHandle.standardError.write(
          Data("peer script \(peer) failed (exit \(p.terminationStatus)); reporting Ephys only for it\n".utf8))
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
}
