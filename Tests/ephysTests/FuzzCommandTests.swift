import Foundation
import Testing

/// CI's bounded fuzz run: every reader for a few seconds (the seeds, then mutants), in a
/// subprocess so a crash or hang fails this test instead of the whole suite.
@Suite("ephys fuzz")
struct FuzzCommandTests {
  @Test("every reader: no crash, no hang, no unclean error, peak memory under 1 GB") func boundedRun() throws {
    let work = try temporaryFolder("fuzz")
    defer { try? FileManager.default.removeItem(atPath: work) }
    let seconds = ProcessInfo.processInfo.environment["EPHYS_FUZZ_SECONDS"] ?? "12"
    let r = try runEphys(
      [
        "fuzz", "--seconds", seconds, "--cases", "100000", "--corpus", repositoryRoot + "/fuzz/corpus", "--work",
        work + "/w",
      ],
      in: work)
    // After a crash the input that caused it is still in the work folder (case.<ext>): keep it for replay.
    if r.status != 0 {
      try? FileManager.default.copyItem(atPath: work + "/w", toPath: repositoryRoot + "/.fuzz-failure")
    }
    #expect(r.status == 0, "exit \(r.status); stderr: \(r.err.suffix(2000)); inputs kept in .fuzz-failure/")
    let reports = r.out.split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let readers = Set(reports.compactMap { $0["reader"] as? String })
    let expected: Set = ["protocol", "stimulus", "csv", "npy", "npz", "pt", "safetensors", "coco", "voc", "onnx"]
    #expect(readers == expected && reports.count == expected.count, "\(r.out)")
    for report in reports {
      let name = report["reader"] as? String ?? "?"
      #expect((report["cases"] as? Int ?? 0) >= 100, "\(name): too few cases in the time")
      #expect((report["uncleanErrors"] as? [String])?.isEmpty == true, "\(name): \(report)")
      #expect((report["touchedOutside"] as? [String])?.isEmpty == true, "\(name): \(report)")
      #expect((report["peakResidentMiB"] as? Double ?? 9999) < 1024, "\(name)")
    }
  }
}
