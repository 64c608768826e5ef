import Foundation
import Stimuli
import Testing

@testable import Workbench

/// Every shipped protocol, on a coarser stimulus grid (the page structure is the protocol's; only
/// the number of stimuli shrinks), must give a report whose labels and legends stay on the page and
/// off the data and each other; runs whose attention is not a gating model's own get no gating pages.
@Suite("Report layout on the shipped protocols")
struct ReportLayoutTests {
  /// The shipped protocols whose coarse runs take seconds: a glimpse run with every RF class, a
  /// receptive-field map, and a VGG16 run. The others (contrast, time course, VGG16 and ResNet-18 spatial
  /// gain with 10^5 units) take minutes even coarse; `ephys report DIR --check-layout` checks them.
  static let protocols = ["orientation-attention", "rf-mapping", "vgg16-v1-properties"]

  /// At most `keep` values of the tuning axis and two of every other swept parameter (three trials).
  static func coarse(_ p: ProtocolSpec) -> ProtocolSpec {
    var p = p
    p.stimulus.parameters = p.stimulus.parameters.map { name, values in
      let keep = name == p.tuningAxis ? 7 : (p.measures.contains(.rfMap) && (name == "x" || name == "y") ? 5 : 2)
      switch values {
      case .range(let a, let b, let n): return (name, .range(from: a, to: b, steps: min(n, keep)))
      case .logRange(let a, let b, let n): return (name, .logRange(from: a, to: b, steps: min(n, keep)))
      case .list(let l) where l.count > keep:
        return (name, .list((0..<keep).map { l[$0 * (l.count - 1) / max(1, keep - 1)] }))
      default: return (name, values)
      }
    }
    p.stimulus.repeats = min(p.stimulus.repeats, 3)
    p.writeResponses = false
    return p
  }

  @Test("labels and legends stay on the page, off data and off each other", arguments: protocols)
  func layout(_ name: String) throws {
    var spec = ReportLayoutTests.coarse(try ProtocolFile.load(repoRoot + "/Protocols/\(name).yaml"))
    // The shipped orientation protocol also writes run.nwb, checked below with pynwb and pynapple.
    let nwb = name == "orientation-attention"
    if nwb {
      spec.writeResponses = true
      spec.writeNWB = true
    }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-layout-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let clock = ContinuousClock()
    let start = clock.now
    let outcome = try ProtocolRunner.run(spec, output: dir)
    print(
      "LAYOUT \(name): \(outcome.stimuli) stimuli, \(outcome.units) units, \(outcome.reportLayout.count) pages in \(clock.now - start)"
    )
    let problems = reportLayoutProblems(outcome.reportLayout)
    #expect(problems.isEmpty, "\(name): \(problems.count) layout problems, first: \(problems.prefix(5))")
    #expect(outcome.reportLayout.count >= 2)
    if nwb { try checkNWB(dir) }
    let texts = Set(outcome.reportLayout.flatMap { $0 }.map(\.label))
    // Contents with page numbers, and the footer's page count matches.
    #expect(texts.contains("Contents"))
    let gating = texts.contains { $0.hasPrefix("Gated inhibition") || $0.hasPrefix("Attention: input; per glimpse") }
    let summary = try String(contentsOfFile: dir + "/summary.json", encoding: .utf8)
    if spec.condition.isModelCondition && spec.architecture == "object-attention-mnist" {
      #expect(gating, "\(name): a gating model's own attention has its gating pages")
    } else {
      #expect(!gating, "\(name): gating pages in a run whose attention is \(spec.condition.name)")
      #expect(!summary.contains("object_attended_first"))
      #expect(!texts.contains { $0.contains("glimpse 1:") })
    }
  }
}

/// Runs scripts/nwb/check_nwb.py on DIR/run.nwb against DIR/responses.npy (pynwb's validator,
/// pynapple's loader, exact responses of three units); skips with a message without pynwb unless
/// EPHYS_REQUIRE_NWB_PYTHON=1 (the test command) makes that a failure.
func checkNWB(_ dir: String) throws {
  let env = ProcessInfo.processInfo.environment
  let python = [env["EPHYS_NWB_PYTHON"], repoRoot + "/.venv-nwb/bin/python"].compactMap { $0 }.first {
    FileManager.default.isExecutableFile(atPath: $0)
  }
  guard let python else {
    #expect(env["EPHYS_REQUIRE_NWB_PYTHON"] != "1", "no Python with pynwb and pynapple (.venv-nwb)")
    print("skipped: run.nwb not validated (no Python with pynwb and pynapple; scripts/test.sh makes .venv-nwb)")
    return
  }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: python)
  p.arguments = [repoRoot + "/scripts/nwb/check_nwb.py", dir + "/run.nwb", dir + "/responses.npy"]
  let pipe = Pipe()
  p.standardOutput = pipe
  p.standardError = pipe
  try p.run()
  let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  print("NWB check: \(out)")
  #expect(p.terminationStatus == 0, "\(out)")
  #expect(out.contains("\"validator_errors\": 0") && out.contains("TsdFrame") && out.contains("compared_units"))
}
