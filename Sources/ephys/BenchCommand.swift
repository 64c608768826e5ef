import ArgumentParser
import Benchmarks
import Engine
import Foundation

/// `ephys bench`: engine throughput beside PyTorch's, measured in the same run.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Measure training and sweep throughput of the object-attention model, plus conv/GEMM/small-op micro-benchmarks.",
    discussion: """
      The workloads match ../shared/bench/pytorch_object_attention.py (a training batch of 64: 2 glimpses x T = 5
      with BPTT and an Adam step per glimpse; an inference sweep of 4,096 stimuli, 2 glimpses x 5 passes). With
      --peer SCRIPT (and a python3 that imports torch), the PyTorch figures are measured in the same run and the
      ratios printed. Figures are the best of several runs; the machine is shared, so compare ratios.
      """)

  @Option(help: "Worker threads (default: all cores).") var threads: Int?
  @Option(help: "Timed repeats per figure.") var repeats = 5
  @Option(help: "PyTorch peer script to run in the same session.") var peer: String?
  @Option(help: "Python interpreter for the peer.") var python = "python3"
  @Flag(help: "Print one JSON object.") var json = false

  func run() throws {
    if let threads { setBenchmarkThreads(threads) }
    let report = try runBenchmarks(repeats: repeats)
    var peerFigures: [String: Double] = [:]
    if let peer {
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
        for k in ["train_images_per_s", "sweep_stimuli_per_s"] { peerFigures[k] = (obj[k] as? NSNumber)?.doubleValue }
      } else {
        FileHandle.standardError.write(
          Data("peer script failed (exit \(p.terminationStatus)); reporting Ephys only\n".utf8))
      }
    }
    if json {
      var out: [String: Any] = [
        "threads": report.threads, "train_images_per_s": report.trainImagesPerSecond,
        "sweep_stimuli_per_s": report.sweepStimuliPerSecond,
        "micro": report.micro,
      ]
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
    line("train images/s", report.trainImagesPerSecond, "train_images_per_s")
    line("sweep stimuli/s", report.sweepStimuliPerSecond, "sweep_stimuli_per_s")
    for (k, v) in report.micro.sorted(by: { $0.key < $1.key }) { say(padded(k) + String(format: "%10.3f", v)) }
  }
}
