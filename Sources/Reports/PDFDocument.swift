import CCairo
import Foundation

/// A multi-page vector PDF drawn with Cairo (A4 landscape, points). Pages are drawn by closures;
/// `finish()` writes the file atomically (temporary file + rename).
public final class PDFDocument {
  public let path: String
  public let width: Double, height: Double
  let temporary: String
  let surface: OpaquePointer
  let cr: OpaquePointer
  private var finished = false

  /// When set, every page is also written as `<prefix>NN.png` (1-based, two-digit), at 2x scale.
  public var figurePrefix: String?
  private var pageNumber = 0
  /// Every page's drawn elements with their boxes (for the layout check), in page order.
  public private(set) var layouts: [[DrawnElement]] = []
  /// The first page PNG that could not be written (reported by `finish()`).
  private var figureFailure: String?

  public init(path: String, width: Double = 842, height: Double = 595) throws {
    self.path = path
    self.width = width
    self.height = height
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    temporary =
      url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
    guard let s = cairo_pdf_surface_create(temporary, width, height), cairo_surface_status(s) == CAIRO_STATUS_SUCCESS
    else {
      throw ReportError("\(path): cannot create a PDF surface")
    }
    surface = s
    cr = cairo_create(s)!
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, "Ephys 0.1.0")
    // A fixed creation date keeps reports byte-identical across reruns (reproducible outputs);
    // SOURCE_DATE_EPOCH, when set, is honoured instead.
    cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, PDFDocument.creationDate)
  }

  /// ISO 8601 creation date: from SOURCE_DATE_EPOCH if set, else the Unix epoch.
  public static var creationDate: String {
    let seconds = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap(Double.init) ?? 0
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date(timeIntervalSince1970: seconds))
  }

  deinit {
    if !finished {
      cairo_destroy(cr)
      cairo_surface_destroy(surface)
      try? FileManager.default.removeItem(atPath: temporary)
    }
  }

  /// Draws one page: `draw(context, width, height)`, then starts the next page.
  public func page(_ draw: (OpaquePointer, Double, Double) -> Void) {
    cairo_save(cr)
    cairo_set_source_rgb(cr, 1, 1, 1)
    cairo_paint(cr)
    cairo_restore(cr)
    LayoutRecorder.begin(cr)
    draw(cr, width, height)
    layouts.append(LayoutRecorder.end(cr))
    cairo_show_page(cr)
    pageNumber += 1
    if let prefix = figurePrefix,
      let image = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(width * 2), Int32(height * 2))
    {
      let icr = cairo_create(image)!
      cairo_scale(icr, 2, 2)
      cairo_set_source_rgb(icr, 1, 1, 1)
      cairo_paint(icr)
      draw(icr, width, height)
      cairo_destroy(icr)
      cairo_surface_flush(image)
      let png = prefix + String(format: "%02d.png", pageNumber)
      let tmp = png + ".tmp-\(UUID().uuidString)"
      let status = cairo_surface_write_to_png(image, tmp)
      if status != CAIRO_STATUS_SUCCESS || rename(tmp, png) != 0 {
        try? FileManager.default.removeItem(atPath: tmp)
        let reason =
          status != CAIRO_STATUS_SUCCESS
          ? String(cString: cairo_status_to_string(status)) : String(cString: strerror(errno))
        figureFailure = figureFailure ?? "\(png): could not be written (\(reason))"
      }
      cairo_surface_destroy(image)
    }
  }

  /// Closes the document and moves it into place.
  public func finish() throws {
    finished = true
    cairo_destroy(cr)
    cairo_surface_finish(surface)
    let status = cairo_surface_status(surface)
    cairo_surface_destroy(surface)
    guard status == CAIRO_STATUS_SUCCESS else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw ReportError("\(path): PDF could not be written (\(String(cString: cairo_status_to_string(status))))")
    }
    guard rename(temporary, path) == 0 else { throw ReportError("\(path): could not be moved into place") }
    if let figureFailure { throw ReportError(figureFailure) }
  }
}

/// Writes lines of text (a title in bold, then body lines) starting at (x, y); returns the y of the
/// line after the last.
@discardableResult
public func drawTextBlock(
  _ cr: OpaquePointer, title: String, lines: [String], x: Double, y: Double, size: Double = 10,
  monospaced: Bool = true
) -> Double {
  cairo_set_source_rgb(cr, 0, 0, 0)
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD)
  cairo_set_font_size(cr, size + 4)
  text(cr, title, x, y)
  cairo_select_font_face(
    cr, monospaced ? "DejaVu Sans Mono" : "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
  cairo_set_font_size(cr, size)
  let first = title.isEmpty ? y : y + size + 10
  for (i, l) in lines.enumerated() { text(cr, l, x, first + Double(i) * (size + 3.5)) }
  return first + Double(lines.count) * (size + 3.5)
}

/// `line` broken at spaces into pieces that fit `width` points in a monospaced font of `size`
/// (continuations indented).
public func wrapText(_ line: String, width: Double, size: Double) -> [String] {
  let chars = max(20, Int(width / (size * 0.61)))
  guard line.count > chars else { return [line] }
  var out: [String] = []
  var current = ""
  for word in line.split(separator: " ", omittingEmptySubsequences: false) {
    if current.count + word.count + 1 > chars && !current.isEmpty {
      out.append(current)
      current = "    " + word
    } else {
      current += (current.isEmpty ? "" : " ") + word
    }
  }
  if !current.isEmpty { out.append(current) }
  // A word longer than a line is cut.
  var pieces: [String] = []
  for l in out {
    let a = Array(l)
    var i = 0
    repeat {
      pieces.append(String(a[i..<min(a.count, i + chars)]))
      i += chars
    } while i < a.count
  }
  return pieces
}
