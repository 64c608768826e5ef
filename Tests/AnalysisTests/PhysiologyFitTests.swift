import Analysis
import Foundation
import Testing

@Suite("Physiology fits vs scipy.optimize.curve_fit")
struct PhysiologyFitTests {
  nonisolated(unsafe) static let fixture = analysisFixture("physiology.json")  // read-only after first use
  static func cases(_ key: String) -> [[String: Any]] { fixture[key] as! [[String: Any]] }
  static func doubles(_ c: [String: Any], _ k: String) -> [Double] { (c[k] as! [NSNumber]).map(\.doubleValue) }
  static func double(_ c: [String: Any], _ k: String) -> Double { (c[k] as! NSNumber).doubleValue }

  @Test("Naka-Rushton parameters within 1e-5 relative, standard errors within 1e-3") func nakaRushton() throws {
    for c in Self.cases("naka_rushton") {
      let fit = try #require(fitNakaRushton(contrast: Self.doubles(c, "c"), response: Self.doubles(c, "y")))
      let want = Self.doubles(c, "params")
      let got = [fit.function.rmax, fit.function.c50, fit.function.exponent, fit.function.baseline]
      for (g, w) in zip(got, want) { #expect(abs(g - w) <= 1e-5 * max(abs(w), 1e-3), "\(got) vs \(want)") }
      for (g, w) in zip(fit.standardErrors, Self.doubles(c, "se")) { #expect(abs(g - w) <= 1e-3 * abs(w)) }
      #expect(fit.converged)
    }
  }

  @Test("log-Gaussian spatial-frequency fits: peak and sigma within 1e-5 relative") func logGaussian() throws {
    for c in Self.cases("log_gaussian") {
      let fit = try #require(fitLogGaussian(frequency: Self.doubles(c, "f"), response: Self.doubles(c, "y")))
      #expect(rel(fit.peak, Self.double(c, "peak")) < 1e-5)
      #expect(rel(fit.sigmaOctaves, Self.double(c, "sigma")) < 1e-5)
      #expect(abs(fit.bandwidthOctaves - 2 * fit.sigmaOctaves * (2 * log(2.0)).squareRoot()) < 1e-12)
    }
  }

  @Test("centre-surround size fits: the fitted curves agree within 1e-5 of the response range") func sizeTuning() throws
  {
    // The centre-surround model is poorly identified along a flat valley (the baseline trades against
    // the two gains), so solvers stop at slightly different parameters of the same curve: compare curves.
    for c in Self.cases("size") {
      let r = Self.doubles(c, "r")
      let y = Self.doubles(c, "y")
      let fit = try #require(fitSizeTuning(radius: r, response: y))
      let w = Self.doubles(c, "params")
      let reference = SizeTuningFit(
        baseline: w[0], centreGain: w[1], centreWidth: abs(w[2]), surroundGain: w[3], surroundWidth: abs(w[4]), r2: 0,
        converged: true)
      let range = (y.max()! - y.min()!)
      let worst = r.map { abs(fit.value($0) - reference.value($0)) }.max()!
      print(
        "size fit: worst curve difference \(worst / range) of the range; parameters \([fit.baseline, fit.centreGain, fit.centreWidth, fit.surroundGain, fit.surroundWidth]) vs scipy \(w)"
      )
      #expect(worst <= 1e-5 * range)
      #expect(fit.converged)
    }
  }

  @Test("trial F-test of attention (scipy.stats.f.sf)") func trialF() throws {
    for c in Self.cases("trial_f") {
      let a = (c["attended"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
      let u = (c["unattended"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
      let t = try #require(TrialModulationTest(attended: a, unattended: u))
      #expect(rel(t.f, Self.double(c, "f")) < 1e-10)
      #expect(rel(t.p, Self.double(c, "p")) < 1e-8)
    }
  }
}

@Suite("V1 property measures on hand-computed curves")
struct V1MeasureTests {
  let theta = (0..<12).map { Double($0) * 15 }

  @Test("orientation: circular variance, bandwidth, orthogonal/preferred ratio") func orientation() throws {
    // A triangle peaked at 90 degrees falling to 0 at 45 degrees away: half width at 1/sqrt(2) is 45 (1 - 1/sqrt 2).
    let triangle = theta.map { t in max(0, 1 - abs(t - 90) / 45) }
    let bw = try #require(orientationBandwidth(triangle, orientationsDegrees: theta))
    #expect(abs(bw - 45 * (1 - 1 / 2.0.squareRoot())) < 1e-9)
    #expect(orthogonalPreferredRatio(triangle, orientationsDegrees: theta) == 0)
    let cosine = theta.map { 0.5 + 1 + cos(2 * ($0 - 90) * Double.pi / 180) }
    #expect(abs(orthogonalPreferredRatio(cosine, orientationsDegrees: theta)! - 0.5 / 2.5) < 1e-12)
    // CV of 1.5 + cos: |sum r e^{2i theta}| = 12 * 1/2, sum r = 12 * 1.5.
    #expect(abs(circularVariance(cosine, orientationsDegrees: theta)! - (1 - 0.5 / 1.5)) < 1e-12)
    // A flat curve is untuned: no bandwidth; a delta has CV 0.
    #expect(orientationBandwidth(theta.map { _ in 2 }, orientationsDegrees: theta) == nil)
    #expect(circularVariance([1] + Array(repeating: 0, count: 11), orientationsDegrees: theta)! < 1e-12)
    // One response of 0.3 at 15 degrees: 1 - |0.3 e^{i 30deg}| / 0.3 is -2.2e-16 in floating point; CV stays >= 0.
    #expect(circularVariance([0, 0.3, 0, 0, 0, 0], orientationsDegrees: [0, 15, 30, 45, 60, 75]) == 0)
    // The 180-degree endpoint is the 0-degree sample again and counts once.
    let withEnd = triangle + [triangle[0]]
    #expect(orientationBandwidth(withEnd, orientationsDegrees: theta + [180]) == bw)
  }

  @Test("F1/F0, frequency peak and bandwidth, surround suppression") func others() throws {
    let phases = (0..<8).map { Double($0) * 45 }
    #expect(
      abs(modulationRatio(phases.map { 1 + 0.5 * cos($0 * Double.pi / 180) }, phasesDegrees: phases)! - 0.5) < 1e-12)
    // A half-wave rectified cosine sampled at 8 phases: F0 = (1 + sqrt 2) / 8, F1 = 0.5.
    let rectified = phases.map { max(0, cos($0 * Double.pi / 180)) }
    #expect(abs(modulationRatio(rectified, phasesDegrees: phases)! - 4 / (1 + 2.0.squareRoot())) < 1e-12)
    let sf = try #require(frequencyTuning([0, 0.5, 1, 0.5, 0], frequencies: [1, 2, 4, 8, 16]))
    #expect(sf.peak == 4)
    #expect(abs(sf.bandwidth! - 2 * (2 - 2.0.squareRoot())) < 1e-12)
    #expect(abs(surroundSuppressionIndex([0.2, 0.8, 1.0, 0.6], radii: [1, 2, 4, 8])! - 0.4) < 1e-12)
    #expect(surroundSuppressionIndex([0, 0, 0], radii: [1, 2, 3]) == nil)
  }

  @Test("measureV1 finds the preferences of a separable grid and measures at them") func grid() throws {
    let freqs = [0.02, 0.04, 0.08, 0.16, 0.32]
    let phases = [0.0, 90, 180, 270]
    let apertures = [2.0, 4, 8, 0]
    func orientationGain(_ t: Double) -> Double { max(0, 1 - abs(t - 60) / 45) }
    let sfGain = [0.2, 0.6, 1.0, 0.6, 0.2]
    let apertureGain = [0.5, 1.0, 0.9, 0.7]
    var means: [Double] = []
    for t in theta {
      for (fi, _) in freqs.enumerated() {
        for p in phases {
          for (ai, _) in apertures.enumerated() {
            means.append(orientationGain(t) * sfGain[fi] * apertureGain[ai] * (1 + 0.25 * cos(p * Double.pi / 180)))
          }
        }
      }
    }
    let m = try #require(
      measureV1(
        names: ["orientation", "frequency", "phase", "aperture"], values: [theta, freqs, phases, apertures],
        means: means))
    #expect(m.preferredOrientation == 60)
    #expect(m.preferredFrequency == 0.08)
    let curve = theta.map(orientationGain)
    #expect(abs(m.circularVariance! - circularVariance(curve, orientationsDegrees: theta)!) < 1e-12)
    #expect(abs(m.orientationBandwidth! - 45 * (1 - 1 / 2.0.squareRoot())) < 1e-9)
    #expect(abs(m.modulationRatio! - 0.25) < 1e-12)
    // Aperture 0 is the whole canvas, the largest: SSI = (1.0 - 0.7) / 1.0; the preference is 4 px.
    #expect(abs(m.surroundSuppression! - 0.3) < 1e-12)
    #expect(m.preferredAperture == 4)
    #expect(abs(m.frequencyBandwidth! - frequencyTuning(sfGain, frequencies: freqs)!.bandwidth!) < 1e-12)
  }

  @Test("a measured receptive field: weighted centre and RMS size") func receptiveField() throws {
    // A response change of 1 at (x 3, y 5) and 3 at (x 5, y 5) on a blank of 0.5.
    let xs = [1.0, 3, 5]
    let ys = [1.0, 5]
    var responses = [Double](repeating: 0.5, count: 6)
    responses[1 * 2 + 1] = 1.5
    responses[2 * 2 + 1] = -2.5
    let m = try #require(MeasuredReceptiveField(responses: responses, xs: xs, ys: ys, blank: 0.5))
    #expect(abs(m.centreX - 4.5) < 1e-12 && m.centreY == 5)
    #expect(abs(m.size - (0.25 * 2.25 + 0.75 * 0.25).squareRoot()) < 1e-12)
    #expect(abs(m.coverage - 2.0 / 6) < 1e-12)
    #expect(MeasuredReceptiveField(responses: [0.5, 0.5], xs: [1], ys: [1, 2], blank: 0.5) == nil)
  }
}
