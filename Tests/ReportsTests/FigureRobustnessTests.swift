import Foundation
import Testing

@testable import Reports

@Suite("Plotting survives any data")
struct FigureRobustnessTests {
  /// Ranges that once looped forever or trapped, and ordinary ones.
  static let ranges: [(Double, Double)] = [
    (0, 1), (1e16, 1e16 + 2), (0, .greatestFiniteMagnitude), (-.greatestFiniteMagnitude, .greatestFiniteMagnitude),
    (-1e308, 1e308), (1.7e308, 1.7e308), (5, -5), (.nan, 1), (0, .infinity), (-.infinity, .infinity),
    (.leastNonzeroMagnitude, 4 * .leastNonzeroMagnitude), (123456789.0, 123456789.5),
  ]

  @Test("tick positions end and stay few for any range", arguments: ranges)
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

@Suite("Figures that cannot be written are errors")
struct FigureWriteFailureTests {
  @Test("a page PNG that cannot be written makes finish() throw (it used to be dropped silently)") func pagePNG() throws
  {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-pdf-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let doc = try PDFDocument(path: dir + "/report.pdf")
    doc.figurePrefix = dir + "/missing-folder/figure_"
    doc.page { cr, _, _ in drawTextBlock(cr, title: "page", lines: [], x: 36, y: 36) }
    #expect { try doc.finish() } throws: { "\($0)".contains("figure_01.png: could not be written") }
  }
}
