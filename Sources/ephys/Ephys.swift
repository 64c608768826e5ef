import ArgumentParser

/// The `ephys` command line: a thin shell over the library modules.
@main
struct Ephys: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ephys",
    abstract: "In-silico electrophysiology on neural networks: train models, run attention protocols, report.",
    version: ephysVersion,
    subcommands: [Train.self, Inspect.self])
}

/// The release version printed by `ephys --version`.
let ephysVersion = "0.1.0"
