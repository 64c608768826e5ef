import Foundation
import Testing

@testable import Analysis

@Suite("Detection measures: performance, c and d', value normalisations, slope tests")
struct DetectionMeasuresTests {
  @Test("d' and c from hit and false-alarm rates, with the [0.01, 0.99] clip") func signalDetectionValues() {
    // z(0.8413447) = 1, z(0.1586553) = -1 (standard normal).
    let sym = signalDetection(hitRate: 0.841_344_746, falseAlarmRate: 0.158_655_254)
    #expect(abs(sym.dPrime - 2) < 1e-6 && abs(sym.criterion) < 1e-6)
    // A liberal detector (many false alarms) has c < 0, a conservative one c > 0.
    #expect(signalDetection(hitRate: 0.9, falseAlarmRate: 0.5).criterion < 0)
    #expect(signalDetection(hitRate: 0.5, falseAlarmRate: 0.1).criterion > 0)
    // Perfect rates are clipped, so d' stays finite: 2 * z(0.99) = 4.6527.
    let perfect = signalDetection(hitRate: 1, falseAlarmRate: 0)
    #expect(abs(perfect.dPrime - 4.652_695) < 1e-5 && abs(perfect.criterion) < 1e-9)
    #expect(detectionPerformance(truePositiveRate: 0.9, trueNegativeRate: 0.6) == 0.75)
  }

  @Test("z-scores use the population SD; constant values give zeros; max-abs scaling keeps signs") func normalisation()
  {
    let z = zScored([1, 2, 3, 4])
    // mean 2.5, population SD sqrt(1.25).
    #expect(abs(z[0] + 1.5 / 1.25.squareRoot()) < 1e-12 && abs(z.reduce(0, +)) < 1e-12)
    #expect(zScored([3, 3, 3]) == [0, 0, 0])
    #expect(maxAbsNormalized([0.5, -2, 1]) == [0.25, -1, 0.5])
    #expect(maxAbsNormalized([0, 0]) == [0, 0])
  }

  @Test("line fits recover a known slope; the slope test separates a real trend from noise") func slopes() throws {
    let x = (0..<50).map(Double.init)
    let line = try #require(fitLine(x: x, y: x.map { 3 - 0.5 * $0 }))
    #expect(abs(line.slope + 0.5) < 1e-12 && abs(line.intercept - 3) < 1e-10)
    // Deterministic "noise" of SD ~0.7 around a slope of -0.05: significant.
    let noise = x.map { sin($0 * 12.9898) * 1.0 }
    let trend = try #require(SlopeTest(x: x, y: zip(x, noise).map { 1 - 0.05 * $0 + $1 }))
    #expect(trend.slope < 0 && trend.p < 1e-6 && trend.n == 50)
    let flat = try #require(SlopeTest(x: x, y: noise))
    #expect(flat.p > 0.01)
    #expect(fitLine(x: [1, 1, 1], y: [1, 2, 3]) == nil)
    #expect(SlopeTest(x: [1, 2], y: [1, 2]) == nil)
    let m = meanAndSEM([1, 2, 3, .nan])
    #expect(m.mean == 2 && abs(m.sem - 1 / 3.0.squareRoot()) < 1e-12)
  }
}
