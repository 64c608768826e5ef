import Foundation

/// The repository root.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
  .deletingLastPathComponent().path

/// The built `ephys` binary: beside the test bundle (same build), else in .build/release.
func ephysBinary() -> String {
  let besideTests = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
    .appendingPathComponent("ephys").path
  if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
  return repositoryRoot + "/.build/release/ephys"
}

/// The environment for `ephys` subprocesses: this one, with the data folder of the repository.
func commandEnvironment() -> [String: String] {
  var env = ProcessInfo.processInfo.environment
  if env["EPHYS_DATA"] == nil { env["EPHYS_DATA"] = repositoryRoot + "/data" }
  return env
}

/// A started `ephys` process with its output collected into files of `folder`; `extra` adds to
/// (or replaces in) the environment.
func startEphys(_ arguments: [String], in folder: String, environment extra: [String: String] = [:]) throws -> Process {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: ephysBinary())
  p.arguments = arguments
  p.currentDirectoryURL = URL(fileURLWithPath: folder)
  p.environment = commandEnvironment().merging(extra) { _, new in new }
  _ = FileManager.default.createFile(atPath: folder + "/.stdout", contents: nil)
  _ = FileManager.default.createFile(atPath: folder + "/.stderr", contents: nil)
  p.standardOutput = FileHandle(forWritingAtPath: folder + "/.stdout")
  p.standardError = FileHandle(forWritingAtPath: folder + "/.stderr")
  try p.run()
  return p
}

/// Runs `ephys` to the end: (exit status, standard output, standard error).
func runEphys(_ arguments: [String], in folder: String, environment extra: [String: String] = [:]) throws -> (
  status: Int32, out: String, err: String
) {
  let p = try startEphys(arguments, in: folder, environment: extra)
  p.waitUntilExit()
  let out = (try? String(contentsOfFile: folder + "/.stdout", encoding: .utf8)) ?? ""
  let err = (try? String(contentsOfFile: folder + "/.stderr", encoding: .utf8)) ?? ""
  return (p.terminationStatus, out, err)
}

/// A fresh temporary folder.
func temporaryFolder(_ tag: String) throws -> String {
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-\(tag)-\(UUID().uuidString)").path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  return dir
}

/// Every file below `folder` (relative path) with its bytes, for exact comparisons.
func contents(of folder: String) -> [String: Data] {
  var out: [String: Data] = [:]
  guard let e = FileManager.default.enumerator(atPath: folder) else { return out }
  while let f = e.nextObject() as? String {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: folder + "/" + f, isDirectory: &isDirectory), !isDirectory.boolValue {
      out[f] = FileManager.default.contents(atPath: folder + "/" + f)
    }
  }
  return out
}
