import Foundation
import Testing

@testable import NWB

/// The Python interpreter with pynwb and pynapple (the test command's virtual environment), or nil.
/// With EPHYS_REQUIRE_NWB_PYTHON=1 (set by scripts/test.sh) a missing interpreter fails the tests
/// that need it instead of skipping them.
func nwbPython() -> String? {
  let env = ProcessInfo.processInfo.environment
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  for candidate in [env["EPHYS_NWB_PYTHON"], root + "/.venv-nwb/bin/python"].compactMap({ $0 })
  where FileManager.default.isExecutableFile(atPath: candidate) {
    return candidate
  }
  return nil
}

/// Runs `python scripts/nwb/check_nwb.py args...`; returns its exit status and output.
func runNWBCheck(_ python: String, _ args: [String]) throws -> (status: Int32, output: String) {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
  let p = Process()
  p.executableURL = URL(fileURLWithPath: python)
  p.arguments = [root + "/scripts/nwb/check_nwb.py"] + args
  let pipe = Pipe()
  p.standardOutput = pipe
  p.standardError = pipe
  try p.run()
  let data = pipe.fileHandleForReading.readDataToEndOfFile()
  p.waitUntilExit()
  return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("NWB writer")
struct NWBWriterTests {
  func temporaryFolder() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nwb-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  /// A small file with every part: 3 stimuli x 2 phases, 4 units.
  func writeSmall(_ path: String) throws {
    let nwb = try NWBWriter(
      path: path, identifier: "test-file", sessionDescription: "test", sessionStartTime: "1970-01-01T00:00:00+00:00",
      fileCreateDate: "1970-01-01T00:00:00+00:00")
    try nwb.general([("protocol", "name: test"), ("notes", "{}")], sourceScript: ("Ephys", "ephys"))
    let starts = (0..<6).map(Double.init)
    try nwb.trials(
      start: starts, stop: starts.map { $0 + 0.5 },
      columns: [
        NWBColumn(name: "stimulus", description: "s", values: .int64s([0, 0, 1, 1, 2, 2])),
        NWBColumn(name: "orientation", description: "deg", values: .doubles([0, 0, 45, 45, 90, 90])),
        NWBColumn(
          name: "phase", description: "p",
          values: .strings(["attended", "unattended", "attended", "unattended", "attended", "unattended"])),
      ], description: "trials")
    try nwb.units(
      rows: 4,
      columns: [
        NWBColumn(name: "layer", description: "l", values: .strings(["conv1", "conv1", "conv2", "conv2"])),
        NWBColumn(name: "ami", description: "a", values: .doubles([0.1, .nan, -0.2, 0])),
        NWBColumn(name: "tuning", description: "t", values: .floatRows((0..<12).map(Float.init), width: 3)),
      ], description: "units")
    try nwb.stimulusImages(
      name: "stimuli", frames: (0..<(3 * 4 * 5)).map { Float($0) / 60 }, shape: [3, 4, 5], startingTime: 0, rate: 0.5,
      unit: "luminance", description: "stimuli")
    try nwb.processingModule("network", description: "responses")
    let w = try nwb.timeSeries(
      module: "network", name: "responses", timestamps: starts, columns: 4, unit: "a.u.", description: "r",
      comments: "c", compression: 1)
    let values = (0..<24).map { Float($0) * 0.25 }
    try values.withUnsafeBufferPointer { try w.append(UnsafeBufferPointer(rebasing: $0[0..<8])) }
    try values.withUnsafeBufferPointer { try w.append(UnsafeBufferPointer(rebasing: $0[8..<24])) }
    try w.finish()
    try nwb.finish()
  }

  @Test("same content, same bytes; object ids are UUID-shaped and distinct")
  func reproducible() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try writeSmall(dir + "/a.nwb")
    try writeSmall(dir + "/b.nwb")
    let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.nwb"))
    let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.nwb"))
    #expect(a == b)
    #expect(Array(a.prefix(8)) == [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])  // HDF5 signature
    // Nothing but the file is left in the folder (temporary names are renamed away).
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a.nwb", "b.nwb"])
    let nwb = try NWBWriter(
      path: dir + "/c.nwb", identifier: "x", sessionDescription: "d", sessionStartTime: "1970-01-01T00:00:00+00:00",
      fileCreateDate: "1970-01-01T00:00:00+00:00")
    let ids = ["/", "/units", "/units/id", "/intervals/trials"].map(nwb.objectID)
    #expect(Set(ids).count == 4)
    for id in ids {
      #expect(id.count == 36)
      #expect(id.split(separator: "-").map(\.count) == [8, 4, 4, 4, 12])
      #expect(Array(id)[14] == "8")  // version 8
    }
  }

  @Test("a column whose length is not the table's, or too many rows, is a clear error; nothing is left behind")
  func badInput() throws {
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
      let nwb = try NWBWriter(
        path: dir + "/bad.nwb", identifier: "x", sessionDescription: "d",
        sessionStartTime: "1970-01-01T00:00:00+00:00", fileCreateDate: "1970-01-01T00:00:00+00:00")
      #expect(throws: NWBError.self) {
        try nwb.units(
          rows: 3, columns: [NWBColumn(name: "layer", description: "l", values: .strings(["a", "b"]))],
          description: "u")
      }
      try nwb.processingModule("network", description: "r")
      let w = try nwb.timeSeries(
        module: "network", name: "responses", timestamps: [0, 1], columns: 2, unit: "a.u.", description: "r",
        comments: "c", compression: 0)
      let values: [Float] = [1, 2, 3, 4, 5, 6]
      let error = #expect(throws: NWBError.self) { try values.withUnsafeBufferPointer { try w.append($0) } }
      #expect(error?.description.contains("more than 2 rows") == true)
      #expect(throws: NWBError.self) { try w.finish() }  // 0 of 2 rows written
    }
    // The writer was dropped without finish(): no file, no temporary.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }

  @Test("the small file passes pynwb's validator and loads in pynapple")
  func validates() throws {
    guard let python = nwbPython() else {
      let required = ProcessInfo.processInfo.environment["EPHYS_REQUIRE_NWB_PYTHON"] == "1"
      #expect(!required, "EPHYS_REQUIRE_NWB_PYTHON=1 but no Python with pynwb (.venv-nwb or EPHYS_NWB_PYTHON)")
      print("skipped: no Python with pynwb and pynapple (run scripts/test.sh, which makes .venv-nwb)")
      return
    }
    let dir = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try writeSmall(dir + "/small.nwb")
    let (status, output) = try runNWBCheck(python, [dir + "/small.nwb"])
    #expect(status == 0, "\(output)")
    #expect(output.contains("\"trials\": 6"))
    #expect(output.contains("\"units\": 4"))
  }
}
