import ArgumentParser
import Engine
import Models

/// `ephys inspect FILE`: lists the tensors of a weights file.
struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "List the tensors (name, dtype, shape) in a safetensors, PyTorch .pt/.pth or NumPy .npz file; for an .onnx model its inputs, outputs and recordable layers."
  )

  @Argument(help: "The weights file.") var file: String
  @Option(help: "Check the file against a model of `ephys models`: missing, unexpected and misshapen tensors.")
  var model: String?

  func run() throws {
    if file.lowercased().hasSuffix(".onnx") {
      for line in try ONNXModel.inspection(file) { say(printable(line)) }
      return
    }
    let archive = try readTensorFile(file)
    if let model {
      let entry = try registryEntry(model)
      let expected = entry.make().namedState()
      let found = Dictionary(archive.tensors.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
      let names = Set(expected.map(\.name))
      var problems: [String] = []
      for e in expected {
        guard let shape = found[e.name] else {
          problems.append("missing \(e.name) \(e.tensor.shape)")
          continue
        }
        if shape != e.tensor.shape { problems.append("\(e.name): \(shape) in the file, \(e.tensor.shape) in \(model)") }
      }
      for t in archive.tensors where !names.contains(t.name) && !t.name.hasSuffix("num_batches_tracked") {
        problems.append("unexpected \(printable(t.name)) \(t.shape)")
      }
      for p in problems { say(p) }
      say(
        problems.isEmpty ? "matches \(model): \(expected.count) tensors" : "\(problems.count) problems against \(model)"
      )
      if !problems.isEmpty { throw ExitCode(1) }
      return
    }
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
