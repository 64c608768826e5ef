import CCairo

/// An 8-bit image for a report page, with its caption.
public struct ReportImage: Sendable {
  public var pixels: [UInt8]
  public var width, height, channels: Int
  public var caption: String
  public init(pixels: [UInt8], width: Int, height: Int, channels: Int, caption: String) {
    self.pixels = pixels
    self.width = width
    self.height = height
    self.channels = channels
    self.caption = caption
  }
}

/// Writes a report (atomically): a first page with `title`, the text `lines` (monospaced, wrapped)
/// and up to two `panels` (line charts) on the right; then the `images`, full page width, as many
/// per page as fit, each with its caption.
public func writeSummaryReport(
  to path: String, title: String, lines: [String], panels: [LinePanel] = [], images: [ReportImage] = [],
  imageTitle: String = ""
) throws {
  let doc = try PDFDocument(path: path)
  doc.page { cr, w, _ in
    let textWidth = panels.isEmpty ? w - 80 : w * 0.55
    drawTextBlock(
      cr, title: title, lines: lines.flatMap { wrapText($0, width: textWidth, size: 8) }, x: 40, y: 46, size: 8)
    for (i, p) in panels.prefix(2).enumerated() {
      drawLinePanel(cr, p, x: w * 0.62, y: 60 + Double(i) * 250, w: w * 0.34, h: 210)
    }
  }
  var index = 0
  while index < images.count {
    doc.page { cr, w, h in
      var y = 40.0
      if !imageTitle.isEmpty { y = drawTextBlock(cr, title: imageTitle, lines: [], x: 40, y: 36, size: 8) + 6 }
      while index < images.count {
        let image = images[index]
        let width = min(w - 80, Double(image.width))
        let height = width * Double(image.height) / Double(max(1, image.width))
        if y + height + 14 > h - 20 && y > 60 { break }
        y =
          drawRaster(
            cr, pixels: image.pixels, width: image.width, height: image.height, channels: image.channels, x: 40, y: y,
            w: width, caption: image.caption) + 8
        index += 1
      }
    }
  }
  try doc.finish()
}
