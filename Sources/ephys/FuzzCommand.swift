import ArgumentParser
import Foundation
import Fuzzing

/// `ephys fuzz`: the in-tree fuzz harness (see docs/robustness.md).
struct Fuzz: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Send seeded mutants of the corpus through every reader; report crashes, hangs and unclean errors.",
    discussion: """
      Each reader (protocol, stimulus, csv, npy, npz, pt, safetensors, coco, voc) gets the seed files of
      CORPUS/<reader>/ and then mutants of them, read in this process under a read budget and an
      address-space cap. A crash ends the process (the input stays in WORK/case.<ext>); a case over
      --case-timeout seconds ends it with exit code 3 (input saved as WORK/hang-<reader>.<ext>); an
      error that is not one of Ephys's, or a file touched outside WORK's case file and output folder
      (the corpus, the current folder), is reported and makes the exit code 1. Prints one JSON
      line per reader: cases, successes, located and unlocated errors, slowest case, peak memory.
      """)

  @Option(help: "Readers to fuzz, comma-separated (default: all).") var readers: String?
  @Option(help: "Cases per reader.") var cases = 10_000
  @Option(help: "At most this many seconds per reader.") var seconds: Double?
  @Option(help: "Seed of the mutations.") var seed: UInt64 = 1
  @Option(help: "The corpus folder.") var corpus = "fuzz/corpus"
  @Option(help: "Work folder (replaced).") var work = "/tmp/ephys-fuzz"
  @Option(help: "Read budget per case, MiB.") var budget = 256
  @Option(help: "Address-space cap of the process, MiB (0: none).") var memoryCap = 4096
  @Option(help: "Seconds one case may take before it counts as a hang.") var caseTimeout = 20.0

  func run() throws {
    let chosen =
      try readers.map { list in
        try list.split(separator: ",").map { name in
          guard let t = FuzzTarget.all.first(where: { $0.name == name }) else {
            throw ValidationError(
              "unknown reader '\(name)' (readers: \(FuzzTarget.all.map(\.name).joined(separator: ", ")))")
          }
          return t
        }
      } ?? FuzzTarget.all
    if memoryCap > 0 {
      var limit = rlimit(rlim_cur: rlim_t(memoryCap) << 20, rlim_max: rlim_t(memoryCap) << 20)
      setrlimit(Int32(RLIMIT_AS.rawValue), &limit)
    }
    let harness = FuzzHarness(
      work: work, corpus: corpus, seed: seed, budget: budget << 20, caseTimeout: caseTimeout)
    try harness.prepareWork()
    var unclean = 0
    for target in chosen {
      let report = try harness.run(target, cases: cases, seconds: seconds) { done in
        FileHandle.standardError.write(Data("fuzz: \(target.name) \(done) cases\n".utf8))
      }
      unclean += report.uncleanErrors.count + report.touchedOutside.count
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      say(String(decoding: try encoder.encode(report), as: UTF8.self))
    }
    if unclean > 0 { throw ExitCode(1) }
  }
}
