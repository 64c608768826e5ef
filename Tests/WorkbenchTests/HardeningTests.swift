import Engine
import Foundation
import Models
import Stimuli
import Testing

@testable import Workbench

/// Writes `text` as a protocol beside a random-weight checkpoint and returns the load error (nil if valid).
func protocolIssues(_ text: String) throws -> String? {
  let dir = try scratchFolder()
  defer { try? FileManager.default.removeItem(atPath: dir) }
  try text.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
  do {
    _ = try ProtocolFile.load(dir + "/p.yaml")
    return nil
  } catch let e as ProtocolErrors {
    return e.description
  }
}

/// `smallProtocol` with its stimulus block replaced.
func protocolWithStimulus(_ stimulus: String) -> String {
  let head = smallProtocol.components(separatedBy: "\nstimulus:")[0]
  let tail = smallProtocol.components(separatedBy: "\nattention:")[1]
  return head + "\n" + stimulus + "attention:" + tail
}

@Suite("Protocol numbers are bounded by what they mean")
struct ProtocolBoundsTests {
  @Test("a distractor region outside the canvas is a located error, not a crash") func regionOutside() throws {
    let issues = try protocolIssues(
      protocolWithStimulus(
        """
        stimulus:
            kind: gaussian-bar
            parameters: {orientation: {from: 0, to: 90, steps: 3}}
            distractor: {kind: digit, class: 7, region: [0, 40, 28, 28]}

        """))
    let text = try #require(issues)
    #expect(
      text.contains("p.yaml:") && text.contains("stimulus.distractor.region") && text.contains("past the 28x42 canvas"),
      "\(text)")
  }

  @Test(
    "values that do not fit an Int, infinite ranges, regions near Int.max, huge noise regions, oversized sweeps",
    arguments: [
      ("x: 1e19", "stimulus.parameters.x"),
      ("x: {from: -1.7e308, to: 1.7e308, steps: 5}", "stimulus.parameters.x.from"),
      ("x: {from: 0, to: 40, steps: 100000}\n      y: {from: 0, to: 27, steps: 100000}", "more than 10000000"),
      ("width: 1e300", "stimulus.parameters.width"),
    ])
  func extremeParameters(_ parameter: String, _ expected: String) throws {
    let issues = try protocolIssues(
      protocolWithStimulus(
        """
        stimulus:
            kind: gaussian-bar
            parameters:
              orientation: {from: 0, to: 90, steps: 3}
              \(parameter)

        """))
    let text = try #require(issues)
    #expect(text.contains(expected), "\(text)")
  }

  @Test(
    "regions: near Int.max, and a noise region of 100000 x 100000",
    arguments: [
      "{kind: digit, class: 7, region: [9223372036854775000, 0, 28, 28]}",
      "{kind: noise, amplitude: 0.5, region: [0, 0, 100000, 100000]}",
    ])
  func extremeRegions(_ distractor: String) throws {
    let issues = try protocolIssues(
      protocolWithStimulus(
        """
        stimulus:
            kind: gaussian-bar
            parameters: {orientation: {from: 0, to: 90, steps: 3}}
            distractor: \(distractor)

        """))
    let text = try #require(issues)
    #expect(text.contains("stimulus.distractor.region"), "\(text)")
  }

  @Test("a canvas too large for memory is refused before rendering") func hugeCanvas() {
    let request = StimulusRequest(
      kind: .gaussianBar(.analytic), parameters: [], canvas: nil, distractor: .noise(amplitude: 1), region: nil,
      regionName: "whole", combination: .sum, noise: 0)
    #expect(throws: (any Error).self) {
      try ProtocolRunner.materialize(request, height: 100_000, width: 100_000, seed: 0)
    }
  }

  @Test("the montage of a large canvas stays small") func montageOfLargeCanvas() {
    let spec = StimulusSpec(
      kind: .grating, parameters: [("orientation", .list([0, 90]))], canvasHeight: 1024, canvasWidth: 1024)
    let m = ProtocolRunner.stimulusMontage(spec)
    #expect(m.width <= 8 * 256 + 9 * 4 && m.height <= 256 + 2 * 4, "tiles shrunk to 256 pixels a side")
  }
}

@Suite("Output folders: only Ephys's own are replaced, atomically")
struct OutputFolderTests {
  func scratch() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-out-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir + "/inner", withIntermediateDirectories: true)
    return dir
  }

  @Test("a folder of other files, a file, '.', '..' and '/' are refused; nothing is deleted") func refusals() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try "keep".write(toFile: dir + "/inner/mine.txt", atomically: true, encoding: .utf8)
    try "keep".write(toFile: dir + "/file.txt", atomically: true, encoding: .utf8)
    for path in ["../inner", "../file.txt", ".", "..", "/", dir, dir + "/inner/.."] {
      #expect(OutputFolder.problem(path, currentDirectory: dir + "/inner") != nil, "\(path) should be refused")
    }
    for path in [dir + "/inner", dir + "/file.txt", "/", FileManager.default.currentDirectoryPath, "."] {
      #expect(throws: OutputFolderError.self) { _ = try OutputFolder.begin(path) }
    }
    #expect(FileManager.default.fileExists(atPath: dir + "/inner/mine.txt"))
    #expect(FileManager.default.fileExists(atPath: dir + "/file.txt"))
    #expect(OutputFolder.problem("new-results") == nil)
  }

  @Test("a run over a protocol's previous result replaces it whole; an unrelated folder is kept") func runReplaces()
    throws
  {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try smallProtocol.replacingOccurrences(of: "units: all", with: "units: center")
      .write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    let spec = try ProtocolFile.load(dir + "/p.yaml")
    _ = try ProtocolRunner.run(spec, output: dir + "/out", notice: { _ in })
    try "stale".write(toFile: dir + "/out/stale.txt", atomically: true, encoding: .utf8)
    _ = try ProtocolRunner.run(spec, output: dir + "/out", notice: { _ in })
    #expect(!FileManager.default.fileExists(atPath: dir + "/out/stale.txt"), "the old result was replaced whole")
    #expect(FileManager.default.fileExists(atPath: dir + "/out/" + OutputFolder.marker))
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".out.") }
    #expect(leftovers.isEmpty, "\(leftovers)")
    try FileManager.default.createDirectory(atPath: dir + "/theirs", withIntermediateDirectories: true)
    try "x".write(toFile: dir + "/theirs/data.txt", atomically: true, encoding: .utf8)
    #expect(throws: OutputFolderError.self) { _ = try ProtocolRunner.run(spec, output: dir + "/theirs") }
    #expect(FileManager.default.fileExists(atPath: dir + "/theirs/data.txt"))
  }

  @Test("what killed runs left is cleaned and said; a result moved aside is restored") func leftovers() throws {
    let dir = try scratch()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let target = dir + "/res"
    // A killed first run: a partial folder with the marker.
    let partial = dir + "/.res.partial-1"
    try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
    try "".write(toFile: partial + "/" + OutputFolder.marker, atomically: true, encoding: .utf8)
    // A run killed between moving the previous result aside and renaming the new one in.
    let aside = dir + "/.res.old-1"
    try FileManager.default.createDirectory(atPath: aside, withIntermediateDirectories: true)
    try "".write(toFile: aside + "/" + OutputFolder.marker, atomically: true, encoding: .utf8)
    try "previous".write(toFile: aside + "/summary.txt", atomically: true, encoding: .utf8)
    // Not ours: same prefix, no marker.
    try FileManager.default.createDirectory(atPath: dir + "/.res.partial-theirs/x", withIntermediateDirectories: true)
    var notes: [String] = []
    let temporary = try OutputFolder.begin(target) { notes.append($0) }
    #expect(try String(contentsOfFile: target + "/summary.txt", encoding: .utf8) == "previous")
    #expect(!FileManager.default.fileExists(atPath: partial))
    #expect(FileManager.default.fileExists(atPath: dir + "/.res.partial-theirs/x"))
    #expect(
      notes.contains { $0.contains("restored") } && notes.contains { $0.contains("removed 1 unfinished") }, "\(notes)")
    try "new".write(toFile: temporary + "/summary.txt", atomically: true, encoding: .utf8)
    try OutputFolder.commit(temporary, to: target)
    #expect(try String(contentsOfFile: target + "/summary.txt", encoding: .utf8) == "new")
    #expect(!FileManager.default.fileExists(atPath: temporary))
  }
}
