import ArgumentParser
import Foundation

/// The `ephys` command line: a thin shell over the library modules.
@main
struct Ephys: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ephys",
    abstract: "In-silico electrophysiology on neural networks: train models, run attention protocols, report.",
    version: ephysVersion,
    subcommands: [
      Run.self, StimuliPreview.self, Analyze.self, Report.self, Train.self, Evaluate.self, Extract.self,
      GridSearch.self,
      Inspect.self, Bench.self,
    ])
}

/// The release version printed by `ephys --version`.
let ephysVersion = "0.1.0"

/// Writes one line to standard output at once (unbuffered), so logs of long runs redirected to a
/// file show every line as it happens.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
