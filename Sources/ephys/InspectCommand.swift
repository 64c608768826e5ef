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
      say("\(t.name)\t\(t.dtype.rawValue)\t\(t.shape)")
    }
    for (k, v) in archive.metadata.sorted(by: { $0.key < $1.key }) where k != "cases" { say("# \(k): \(v)") }
    say("\(archive.tensors.count) tensors, \(archive.tensors.reduce(0) { $0 + $1.count }) values")
  }
}
