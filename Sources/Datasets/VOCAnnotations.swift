import Foundation

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// One Pascal VOC annotation file (`Annotations/<id>.xml`): the image's file name and size, and its
/// objects with class name, "difficult" flag and bounding box in VOC's 1-based inclusive pixels.
public struct VOCAnnotation: Sendable, Equatable {
  public struct Object: Sendable, Equatable {
    public var name: String
    public var difficult: Bool
    public var xmin, ymin, xmax, ymax: Int
  }
  public var fileName: String
  public var width, height: Int
  public var objects: [Object]

  /// The 20 VOC classes in the standard order (the class index of a VOC-trained network).
  public static let classes = [
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable", "dog",
    "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
  ]

  /// The union of the boxes of `name`'s objects as a row-major height x width mask; with
  /// `skipDifficult`, nil when every box of the class is marked difficult (TorchRay skips the pair).
  public func mask(of name: String, skipDifficult: Bool = true) -> [Bool]? {
    let boxes = objects.filter { $0.name == name }
    if boxes.isEmpty || (skipDifficult && boxes.allSatisfy(\.difficult)) { return nil }
    var m = [Bool](repeating: false, count: width * height)
    for b in boxes {
      // Clipped to the image (a box may reach past it).
      let (y0, y1) = (max(0, b.ymin - 1), min(height, b.ymax))
      let (x0, x1) = (max(0, b.xmin - 1), min(width, b.xmax))
      guard y0 < y1, x0 < x1 else { continue }
      for y in y0..<y1 { for x in x0..<x1 { m[y * width + x] = true } }
    }
    return m
  }

  /// Parses a VOC XML file; errors name the file and the element that is missing or malformed.
  public static func load(_ path: String) throws -> VOCAnnotation {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DatasetError("cannot read the annotation file", file: path)
    }
    guard data.count <= 16 << 20 else { throw DatasetError("annotation file larger than 16 MB", file: path) }
    // swift-corelibs-foundation's XMLParser traps on element names that are not valid UTF-8 (found
    // by `ephys fuzz`): refuse such files before parsing.
    guard String(data: data, encoding: .utf8) != nil, !data.contains(0) else {
      throw DatasetError("not UTF-8 text (VOC annotations are UTF-8 XML)", file: path)
    }
    let reader = VOCReader()
    let parser = XMLParser(data: data)
    parser.delegate = reader
    guard parser.parse() else {
      throw DatasetError(
        "not well-formed XML (line \(parser.lineNumber)): \(parser.parserError.map { "\($0)" } ?? "parse error")",
        file: path)
    }
    func int(_ key: String, _ v: String?) throws -> Int {
      guard let v, let n = Double(v.trimmingCharacters(in: .whitespacesAndNewlines)), n.isFinite,
        abs(n) < 1e7
      else { throw DatasetError("<\(key)> is missing or not a number", file: path) }
      return Int(n.rounded())
    }
    let width = try int("size/width", reader.values["size/width"])
    let height = try int("size/height", reader.values["size/height"])
    guard width > 0, height > 0, width * height <= 100_000_000 else {
      throw DatasetError("image size \(width) x \(height) is not plausible", file: path)
    }
    var objects: [Object] = []
    for (k, o) in reader.objects.enumerated() {
      guard let name = o["name"]?.trimmingCharacters(in: .whitespacesAndNewlines), !name.isEmpty else {
        throw DatasetError("object \(k + 1) has no <name>", file: path)
      }
      let box = try ["xmin", "ymin", "xmax", "ymax"].map { try int("object \(k + 1) bndbox/\($0)", o["bndbox/\($0)"]) }
      guard box[0] <= box[2], box[1] <= box[3] else {
        throw DatasetError("object \(k + 1) (\(name)) has an empty box \(box)", file: path)
      }
      objects.append(
        Object(
          name: name, difficult: (o["difficult"].map { Int($0.trimmingCharacters(in: .whitespaces)) ?? 0 } ?? 0) != 0,
          xmin: box[0], ymin: box[1], xmax: box[2], ymax: box[3]))
    }
    return VOCAnnotation(
      fileName: reader.values["filename"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "", width: width,
      height: height, objects: objects)
  }
}

/// Collects the text of the elements VOC files use, by path relative to <annotation> or <object>.
final class VOCReader: NSObject, XMLParserDelegate {
  var stack: [String] = []
  var text = ""
  var values: [String: String] = [:]
  var objects: [[String: String]] = []

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    stack.append(name)
    text = ""
    if stack.count == 2 && name == "object" { objects.append([:]) }
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

  func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
    if stack.count >= 3 && stack[1] == "object" {
      // Only the object's own fields (not its <part>s).
      let key = stack[2...].joined(separator: "/")
      if objects[objects.count - 1][key] == nil { objects[objects.count - 1][key] = text }
    } else if stack.count >= 2 {
      values[stack[1...].joined(separator: "/")] = text
    }
    stack.removeLast()
    text = ""
  }
}
