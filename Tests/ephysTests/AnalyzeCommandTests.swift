import Foundation
import Testing

@Suite("ephys analyze on trial tables")
struct AnalyzeCommandTests {
  @Test("--contrast: trial and subject columns kept, contrast gain found, null units 'none'") func contrastTable()
    throws
  {
    let dir = try temporaryFolder("analyze")
    // 40 units in two subjects: even units unmodulated, odd units with c50 halved by attention; 8 trials
    // with seeded Gaussian noise (sd 0.03, SplitMix64 and Box-Muller).
    var lines = ["unit,condition,trial,attended,unattended,subject"]
    var state: UInt64 = 5
    func unit() -> Double {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
    }
    func normal() -> Double { (-2 * log(max(unit(), 1e-300))).squareRoot() * cos(2 * Double.pi * unit()) }
    func nr(_ c: Double, _ c50: Double) -> Double { c * c / (c * c + c50 * c50) + 0.05 }
    for u in 0..<40 {
      for c in [0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.0] {
        for t in 0..<8 {
          let e1 = 0.03 * normal()
          let e2 = 0.03 * normal()
          lines.append("n\(u % 20),\(c),\(t),\(nr(c, u % 2 == 1 ? 0.1 : 0.2) + e1),\(nr(c, 0.2) + e2),M\(u / 20)")
        }
      }
    }
    try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
    let r = try runEphys(["analyze", "t.csv", "--contrast", "--out", "out"], in: dir)
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("40 units"))
    let units = try String(contentsOfFile: dir + "/out/units.csv", encoding: .utf8).split(separator: "\n")
      .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let h = units[0]
    #expect(h[1] == "subject" && h.contains("trial_p") && h.contains("contrast_verdict"))
    let verdict = h.firstIndex(of: "contrast_verdict")!
    let trials = h.firstIndex(of: "trials")!
    var nullNone = 0
    for u in units.dropFirst() {
      #expect(u[trials] == "8")
      if Int(u[0].dropFirst())! % 2 == 1 {
        #expect(u[verdict] == "contrast-gain", "\(u[0]) \(u[1]): \(u[verdict])")
      } else if u[verdict] == "none" {
        nullNone += 1
      }
    }
    // Null units are false positives at the FDR level's rate at most (here 1 of 20 at q < 0.05).
    #expect(nullNone >= 18, "\(nullNone) of 20 null units 'none'")
    let layers = try String(contentsOfFile: dir + "/out/layers.csv", encoding: .utf8)
    #expect(layers.contains("subject=M0") && layers.contains("subject=M1"))
  }
}
