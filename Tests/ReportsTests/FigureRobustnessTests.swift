import Foundation
import Testing

@testable import Reports

@Suite("Plotting survives any data")
struct FigureRobustnessTests {
  @Test(
    "tick positions end and stay few for any range",
    arguments: [
      (0.0, 1.0), (1e16, 1e16 + 2), (0, .greatestFiniteMagnitude), (-.greatestFiniteMagnitude, .greatestFiniteMagnitude), (-1e308, 1e308), (1.7e308, 1.7e308),
      (5, -5), (.nan, 1), (0, .infinity), (-.infinity, .infinity), (1e-320, 2e-320), (123456789.0, 123456789.5),
    ])
  func ticks(_ lo: Double, _ hi: Double) {
    let t = niceTicks(lo, hi)
    #expect(t.count <= 21)
    #expect(t.allSatisfy { $0.isFinite })
    #expect(zip(t, t.dropFirst()).allSatisfy { $0 < $1 }, "\(t)")
  }

  @Test("ordinary ranges keep their 1-2-5 ticks") func ordinary() {
    #expect(niceTicks(0, 1) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
    #expect(niceTicks(0, 180) == [0, 50, 100, 150])
  }

  @Test("histogram bins of extreme values stay in range") func bins() {
    for v in [-1e308, 1e308, 0, .infinity, -.infinity, .nan, 5e307] {
      for (lo, hi) in [(-1e308, 1e308), (0.0, 1.0), (-1.7e308, 1.7e308)] {
        let b = histogramBin(v, lo: lo, hi: hi, bins: 10)
        #expect((0..<10).contains(b))
      }
    }
  }
}
