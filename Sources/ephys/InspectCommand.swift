import ArgumentParser
import Engine

/// `ephys inspect FILE`: lists the tensors of a weights file.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the tensors (name, dtype, shape) in a safetensors, PyTorch .pt/.pth or NumPy .npz file.")

  @Argument(help: "The weights file.") var file: String

  func run() throws {
    let archive = try readTensorFile(file)
    for t in archive.tensors {
      say("\(printable(t.name))\t\(t.dtype.rawValue)\t\(t.shape)")
    }
    for (k, v) in archive.metadata.sorted(by: { $0.key < $1.key }) where k != "cases" {
      say("# \(printable(k)): \(printable(v))")
    }
    say("\(archive.tensors.count) tensors, \(archive.tensors.reduce(0) { $0 + $1.count }) values")
  }
}

/// `text` safe for a terminal: control characters (escape sequences, line breaks) and invisible
/// format characters are shown as \u{...} escapes instead of acting on the terminal.
func printable(_ text: String) -> String {
  var out = ""
  for scalar in text.unicodeScalars {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
      out += "\\u{" + String(scalar.value, radix: 16) + "}"
    default:
      out.unicodeScalars.append(scalar)
    }
  }
  return out
}
