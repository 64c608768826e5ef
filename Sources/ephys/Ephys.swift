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
      Run.self, Merge.self, Submit.self, Status.self, StimuliPreview.self, Analyze.self, Report.self, ExportNWB.self,
      Train.self, Evaluate.self, Extract.self,
      GridSearch.self, FeatureAttention.self, Attribute.self, PointingGameCommand.self,
      Inspect.self, Models.self, Bench.self, Fuzz.self,
    ])
}

extension Ephys {
  /// Runs the command; errors print as one plain sentence (file first, when there is one) instead
  /// of a type name or a Foundation error dump.
  static func main() {
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if error is CleanExit || error is ExitCode || error is ValidationError || isParserError(error) {
        exit(withError: error)
      }
      FileHandle.standardError.write(Data(("Error: " + describe(error) + "\n").utf8))
      Foundation.exit(1)
    }
  }

  /// Whether ArgumentParser itself raised `error` (usage problems it prints with help).
  static func isParserError(_ error: Error) -> Bool {
    String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
  }
}

/// An error in words: our errors' own descriptions; Foundation's file errors as "path: reason".
func describe(_ error: Error) -> String {
  let ns = error as NSError
  if ns.domain == NSCocoaErrorDomain {
    let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
    return [path, underlying ?? ns.localizedDescription].compactMap { $0 }.joined(separator: ": ")
  }
  return String(describing: error)
}

/// Writes a note (something done on the user's behalf, such as leftovers cleaned) to standard error.
func note(_ text: String) {
  FileHandle.standardError.write(Data(("note: " + text + "\n").utf8))
}

/// The release version printed by `ephys --version`.
let ephysVersion = "0.1.0"

/// Writes one line to standard output at once (unbuffered), so logs of long runs redirected to a
/// file show every line as it happens.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
