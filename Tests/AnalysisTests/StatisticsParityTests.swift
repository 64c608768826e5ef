import Analysis
import Foundation
import Testing

/// Relative difference, with an absolute floor for values near zero.
func rel(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

/// A JSON fixture of this test target (Fixtures/NAME), written by a script in scripts/fixtures.
func analysisFixture(_ name: String) -> [String: Any] {
  let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
  return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

@Suite("Statistics vs scipy")
struct StatisticsParityTests {
  nonisolated(unsafe) static let fixture = analysisFixture("statistics.json")  // read-only after first use
  static func cases(_ key: String) -> [[String: Any]] { fixture[key] as! [[String: Any]] }
  static func doubles(_ c: [String: Any], _ k: String) -> [Double] { (c[k] as! [NSNumber]).map(\.doubleValue) }
  static func double(_ c: [String: Any], _ k: String) -> Double { (c[k] as! NSNumber).doubleValue }

  @Test("paired t-test (scipy.stats.ttest_rel): p to 1e-8 relative") func tTest() throws {
    for c in Self.cases("ttest") {
      let r = try #require(PairedTTest(Self.doubles(c, "a"), Self.doubles(c, "b")))
      #expect(rel(r.t, Self.double(c, "t")) < 1e-10)
      #expect(rel(r.p, Self.double(c, "p")) < 1e-8, "n \(r.n): p \(r.p) vs \(Self.double(c, "p"))")
      #expect(r.df == (c["df"] as! Int))
    }
  }

  @Test("Wilcoxon signed-rank (scipy.stats.wilcoxon)") func wilcoxon() throws {
    for c in Self.cases("wilcoxon") {
      let r = try #require(WilcoxonSignedRank(Self.doubles(c, "a"), Self.doubles(c, "b")))
      #expect(r.statistic == Self.double(c, "statistic"))
      #expect(rel(r.p, Self.double(c, "p")) < 1e-8, "n \(r.n) exact \(r.exact): p \(r.p) vs \(Self.double(c, "p"))")
    }
  }

  @Test("linear and through-origin fits, F-test (scipy.stats.linregress, numpy)") func fits() throws {
    for c in Self.cases("fits") {
      let g = try #require(GainFit(attended: Self.doubles(c, "a"), unattended: Self.doubles(c, "u")))
      #expect(rel(g.affineSlope, Self.double(c, "slope")) < 1e-6)
      #expect(rel(g.affineIntercept, Self.double(c, "intercept")) < 1e-6)
      #expect(rel(g.affineSlopeSE, Self.double(c, "slope_se")) < 1e-6)
      #expect(rel(g.affineInterceptSE, Self.double(c, "intercept_se")) < 1e-6)
      #expect(rel(g.mulGain, Self.double(c, "mul")) < 1e-6)
      #expect(rel(g.mulGainSE, Self.double(c, "mul_se")) < 1e-6)
      #expect(rel(g.fMulVsAffine, Self.double(c, "f")) < 1e-6)
      #expect(rel(g.pMulVsAffine, Self.double(c, "f_p")) < 1e-8)
    }
  }

  @Test("Benjamini-Hochberg and Holm") func corrections() {
    for c in Self.cases("bh") {
      let q = benjaminiHochberg(Self.doubles(c, "p"))
      for (x, y) in zip(q, Self.doubles(c, "q")) { #expect(rel(x, y) < 1e-12) }
    }
    for c in Self.cases("holm") {
      let h = holm(Self.doubles(c, "p"))
      for (x, y) in zip(h, Self.doubles(c, "adjusted")) { #expect(rel(x, y) < 1e-12) }
    }
  }
}

@Suite("Tuning fits vs scipy.optimize.curve_fit")
struct TuningFitParityTests {
  @Test("wrapped Gaussian, von Mises and Gaussian: parameters to 1e-6") func fits() throws {
    for c in StatisticsParityTests.cases("tuning") {
      let model: TuningModel
      switch c["model"] as! String {
      case "wrapped_gaussian": model = .wrappedGaussian(period: 180)
      case "von_mises": model = .vonMises(period: 180)
      default: model = .gaussian
      }
      let x = StatisticsParityTests.doubles(c, "x")
      let y = StatisticsParityTests.doubles(c, "y")
      let fit = try #require(fitTuning(x: x, y: y, model: model))
      #expect(fit.converged)
      var expected = StatisticsParityTests.doubles(c, "params")
      if case .gaussian = model {
      } else {
        expected[2] = (expected[2].truncatingRemainder(dividingBy: 180) + 180).truncatingRemainder(dividingBy: 180)
      }
      expected[3] = abs(expected[3])
      for k in 0..<4 {
        #expect(
          rel(fit.parameters[k], expected[k]) < 1e-6,
          "\(c["model"]!) parameter \(k): \(fit.parameters[k]) vs \(expected[k])")
        #expect(rel(fit.standardErrors[k], StatisticsParityTests.doubles(c, "se")[k]) < 1e-4, "\(c["model"]!) SE \(k)")
      }
      #expect(abs(fit.r2 - StatisticsParityTests.double(c, "r2")) < 1e-8)
    }
  }

  @Test("attention effects of a pure multiplicative gain") func effects() throws {
    let theta = (0..<21).map { Double($0) * 9 }
    let u = theta.map { TuningModel.wrappedGaussian(period: 180).value($0, [0.2, 1, 80, 22]) }
    let a = u.map { $0 * 1.3 }
    let fu = try #require(fitTuning(x: theta, y: u, model: .wrappedGaussian(period: 180)))
    let fa = try #require(fitTuning(x: theta, y: a, model: .wrappedGaussian(period: 180)))
    let e = TuningEffects(attended: fa, unattended: fu)
    #expect(
      abs(e.amplitudeRatio - 1.3) < 1e-6 && abs(e.widthRatio - 1) < 1e-6 && abs(e.baselineChange - 0.06) < 1e-6
        && abs(e.preferredShift) < 1e-6)
  }
}
