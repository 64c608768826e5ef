import Analysis
import Foundation
import Testing

/// Tables of 200 units with trials whose truth is known: null, multiplicative and additive attention
/// on orientation tuning, and contrast and response gain on contrast-response functions. Each table
/// is written as a trial-level CSV and read back as `ephys analyze` reads it.
/// SplitMix64 draws for the synthetic tables (uniform and Box-Muller normal).
struct TruthDraws {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func unit() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
  }
  mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
  mutating func normal() -> Double { (-2 * log(max(unit(), 1e-300))).squareRoot() * cos(2 * Double.pi * unit()) }
}

@Suite("Trial tables with known truth")
struct SyntheticTruthTests {
  enum Kind: String, CaseIterable { case null, multiplicative, additive, contrastGain, responseGain }

  /// The table's CSV text: unit, condition, trial, attended, unattended, subject (a group column).
  static func table(_ kind: Kind, units: Int = 200, trials: Int = 10, seed: UInt64) -> String {
    var rng = TruthDraws(seed: seed)
    var lines = ["unit,condition,trial,attended,unattended,subject"]
    let orientations = (0..<12).map { Double($0) * 15 }
    let contrasts = (0..<9).map { 0.02 * pow(50, Double($0) / 8) }
    func nr(_ c: Double, rmax: Double, c50: Double) -> Double { rmax * c * c / (c * c + c50 * c50) + 0.05 }
    for u in 0..<units {
      let preferred = rng.uniform(0, 180)
      let isContrast = kind == .contrastGain || kind == .responseGain
      let conditions = isContrast ? contrasts : orientations
      for x in conditions {
        var mean: Double
        var attended: Double
        if isContrast {
          mean = nr(x, rmax: 1, c50: 0.2)
          attended = kind == .contrastGain ? nr(x, rmax: 1, c50: 0.1) : nr(x, rmax: 1.4, c50: 0.2)
        } else {
          var d = abs(x - preferred).truncatingRemainder(dividingBy: 180)
          d = min(d, 180 - d)
          mean = 0.2 + exp(-d * d / (2 * 20 * 20))
          switch kind {
          case .multiplicative: attended = 1.3 * mean
          case .additive: attended = mean + 0.25
          default: attended = mean
          }
        }
        let noise = isContrast ? 0.03 : 0.1
        for t in 0..<trials {
          let a = attended + noise * rng.normal()
          let un = mean + noise * rng.normal()
          lines.append("u\(u),\(x),\(t),\(a),\(un),\(u % 2 == 0 ? "M1" : "M2")")
        }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func analyze(_ kind: Kind) throws -> [UnitResult] {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-truth-\(kind.rawValue).csv").path
    try table(kind, seed: UInt64(11 + Kind.allCases.firstIndex(of: kind)!)).write(
      toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let obs = try readUnitTable(path)
    #expect(obs.count == 200)
    #expect(obs.allSatisfy { $0.attendedTrials?.first?.count == 10 && $0.groups.first?.name == "subject" })
    let contrast = kind == .contrastGain || kind == .responseGain
    return analyzeUnits(obs, tuning: contrast ? nil : .wrappedGaussian(period: 180), contrastAxis: contrast).units
  }

  static func share(_ units: [UnitResult], _ f: (UnitResult) -> Bool) -> Double {
    Double(units.filter(f).count) / Double(units.count)
  }

  @Test("null units: 'none' for at least 95%, significant after FDR for at most 5%") func null() throws {
    let units = try Self.analyze(.null)
    print(
      "truth null: none \(Self.share(units) { $0.verdict == "none" }), significant \(Self.share(units) { $0.q < 0.05 })"
    )
    #expect(Self.share(units) { $0.verdict == "none" } >= 0.95)
    #expect(Self.share(units) { $0.q < 0.05 } <= 0.05)
  }

  @Test(
    "multiplicative and additive units classified correctly for at least 90%",
    arguments: [
      (Kind.multiplicative, "multiplicative"), (Kind.additive, "additive"),
    ])
  func gain(_ kind: Kind, _ verdict: String) throws {
    let units = try Self.analyze(kind)
    let correct = Self.share(units) { $0.verdict == verdict }
    print("truth \(kind): \(correct) classified \(verdict)")
    #expect(correct >= 0.9, "\(kind): \(correct) correct")
  }

  @Test(
    "contrast gain and response gain classified correctly for at least 90%",
    arguments: [
      (Kind.contrastGain, "contrast-gain"), (Kind.responseGain, "response-gain"),
    ])
  func contrast(_ kind: Kind, _ verdict: String) throws {
    let units = try Self.analyze(kind)
    let correct = Self.share(units) { $0.contrastVerdict == verdict }
    #expect(correct >= 0.9, "\(kind): \(correct) correct")
    // The fitted c50 ratio (0.5 for contrast gain) and Rmax ratio (1.4 for response gain), medians.
    let c50 = median(units.compactMap { $0.contrast?.c50Ratio })
    let rmax = median(units.compactMap { $0.contrast?.rmaxRatio })
    print("truth \(kind): \(correct) classified \(verdict); median c50 ratio \(c50), Rmax ratio \(rmax)")
    if kind == .contrastGain { #expect(abs(c50 - 0.5) < 0.05) } else { #expect(abs(rmax - 1.4) < 0.05) }
  }
}
