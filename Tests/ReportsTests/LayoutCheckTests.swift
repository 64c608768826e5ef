import CCairo
import Foundation
import Testing

@testable import Reports

@Suite("Layout check")
struct LayoutCheckTests {
  func page(_ draw: @escaping (OpaquePointer) -> Void) throws -> [DrawnElement] {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("layout-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let doc = try PDFDocument(path: dir + "/r.pdf")
    doc.page { cr, _, _ in draw(cr) }
    try doc.finish()
    return doc.layouts[0]
  }

  @Test("every drawn label, legend and mark is recorded with its page box")
  func records() throws {
    let elements = try page { cr in
      var h = Histogram(values: [0.1, 0.2, 0.2, -0.5], lo: -1, hi: 1, bins: 10, x: AxisSpec("AMI"), title: "conv2")
      h.markers = [Marker(0.2, ci: (0.1, 0.3), color: .black, label: "median 0.2")]
      drawHistogram(cr, h, x: 100, y: 100, w: 300, h: 200)
    }
    #expect(elements.contains { $0.kind == .text && $0.label == "conv2" })
    #expect(elements.contains { $0.kind == .text && $0.label.contains("median 0.2") })
    #expect(elements.filter { $0.kind == .data }.count == 3)  // three non-empty bins
    let title = elements.first { $0.label == "conv2" }!.box
    #expect(title.x > 100 && title.x + title.w < 400 && title.y > 100 && title.y < 120)
    #expect(layoutProblems(elements, width: 842, height: 595).isEmpty)
  }

  @Test("text on data, text on text and text off the page are found")
  func finds() throws {
    let elements = try page { cr in
      cairo_set_font_size(cr, 10)
      LayoutRecorder.record(cr, .data, "bar", x: 100, y: 100, w: 50, h: 50)
      text(cr, "on the bar", 110, 130)
      text(cr, "first", 300, 300)
      text(cr, "second", 305, 302)
      text(cr, "off the page", 830, 300)
      // Scaled drawing is mapped to page coordinates.
      cairo_save(cr)
      cairo_scale(cr, 2, 2)
      text(cr, "scaled", 200, 200)
      cairo_restore(cr)
    }
    let problems = layoutProblems(elements, width: 842, height: 595)
    #expect(problems.contains { $0.contains("'on the bar'") && $0.contains("overlaps a data mark") })
    #expect(problems.contains { $0.contains("'first'") && $0.contains("'second'") })
    #expect(problems.contains { $0.contains("'off the page'") && $0.contains("leaves the page") })
    let scaled = elements.first { $0.label == "scaled" }!.box
    #expect(scaled.x > 399 && scaled.y > 380)
    #expect(problems.count == 3, "\(problems)")
  }

  @Test("axes of stimulus parameters use their units: degrees every 45, log contrast")
  func axes() {
    let o = AxisSpec.stimulus("orientation", values: [0, 90, 180])
    #expect(o.tickValues(0, 180) == [0, 45, 90, 135, 180])
    #expect(o.format(45) == "45°")
    let c = AxisSpec.stimulus("contrast", values: [0.01, 0.1, 1])
    #expect(c.scale == .log10)
    #expect(c.tickValues(0.01, 1) == [0.01, 0.1, 1])
    let ratio = AxisSpec("ratio", scale: .log2)
    #expect(ratio.tickValues(0.25, 4) == [0.25, 0.5, 1, 2, 4])
    #expect(ratio.format(0.25) == "1/4")
    let r = robustRange((0..<1000).map(Double.init) + [1e9])
    #expect(r.hi < 1100 && r.clipped >= 1)
  }
}
