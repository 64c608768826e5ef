import Foundation

/// Runs a cluster tool (`sbatch`, `squeue`, `scancel`) found on PATH and returns its exit status and
/// output; a tool that is not installed is a clear error naming it.
public enum ClusterCommand {
  /// The tool's absolute path on PATH (or /usr/bin, /usr/local/bin), or nil.
  public static func locate(_ tool: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
      let candidate = dir + "/" + tool
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Runs `tool arguments...` to completion: (status, standard output, standard error).
  public static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    guard let exe = locate(tool) else {
      throw ShardError("\(tool) is not installed or not on PATH (Slurm's client commands are needed here)")
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes to the end before waiting, so a chatty tool never blocks on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var errData = Data()
    DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    p.waitUntilExit()
    return (
      p.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self)
    )
  }
}
