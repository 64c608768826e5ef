import CPNG
import CTurboJPEG
import Engine
import Foundation

/// Why an image could not be read or written; names the file.
public struct ImageError: Error, CustomStringConvertible {
  public var file: String
  public var message: String
  public init(_ message: String, file: String) {
    self.message = message
    self.file = file
  }
  public var description: String { "\(file): \(message)" }
}

/// An 8-bit raster image: `channels` (1 = grey, 3 = RGB, 4 = RGBA) interleaved, row-major.
public struct RasterImage: Sendable, Equatable {
  public var width, height, channels: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(
      pixels.count == width * height * channels, "RasterImage: \(pixels.count) bytes for \(width)x\(height)x\(channels)"
    )
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// A greyscale image from values in [lo, hi] (clipped), row-major `height x width`.
  public init(grey values: [Float], width: Int, height: Int, lo: Float = 0, hi: Float = 1) {
    let scale = hi > lo ? 255 / (hi - lo) : 0
    self.init(
      width: width, height: height, channels: 1,
      pixels: values.map { UInt8(max(0, min(255, (($0 - lo) * scale).rounded()))) })
  }

  /// An RGB image from planar values [3, H, W] in [0, 1].
  public init(planarRGB values: [Float], width: Int, height: Int) {
    let plane = width * height
    var px = [UInt8](repeating: 0, count: plane * 3)
    for i in 0..<plane {
      for c in 0..<3 { px[i * 3 + c] = UInt8(max(0, min(255, (values[c * plane + i] * 255).rounded()))) }
    }
    self.init(width: width, height: height, channels: 3, pixels: px)
  }

  /// The image as planar floats [channels, H, W] in [0, 1].
  public func planarFloats() -> [Float] {
    let plane = width * height
    var out = [Float](repeating: 0, count: plane * channels)
    for i in 0..<plane { for c in 0..<channels { out[c * plane + i] = Float(pixels[i * channels + c]) / 255 } }
    return out
  }

  /// Luminance in [0, 1], row-major H x W: grey as it is, colour as ITU-R BT.601 luma
  /// (0.299 R + 0.587 G + 0.114 B, PIL's `convert("L")` weights); alpha ignored.
  public func luminance() -> [Float] {
    let plane = width * height
    var out = [Float](repeating: 0, count: plane)
    for i in 0..<plane {
      if channels >= 3 {
        let p = i * channels
        out[i] = (0.299 * Float(pixels[p]) + 0.587 * Float(pixels[p + 1]) + 0.114 * Float(pixels[p + 2])) / 255
      } else {
        out[i] = Float(pixels[i * channels]) / 255
      }
    }
    return out
  }

  /// Converts to RGB (grey is replicated, alpha dropped).
  public func rgb() -> RasterImage {
    if channels == 3 { return self }
    var px = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height) {
      for c in 0..<3 { px[i * 3 + c] = pixels[i * channels + (channels >= 3 ? c : 0)] }
    }
    return RasterImage(width: width, height: height, channels: 3, pixels: px)
  }

  /// Encodes as PNG (libpng's simplified API).
  public func pngData() throws -> [UInt8] {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    image.width = UInt32(width)
    image.height = UInt32(height)
    image.format = pngFormat(channels)
    var size: Int = 0
    let ok1 = pixels.withUnsafeBufferPointer {
      png_image_write_to_memory(&image, nil, &size, 0, $0.baseAddress, 0, nil)
    }
    guard ok1 != 0, size > 0 else { throw ImageError("PNG encoding failed", file: "<memory>") }
    var out = [UInt8](repeating: 0, count: size)
    let ok2 = out.withUnsafeMutableBufferPointer { dst in
      pixels.withUnsafeBufferPointer {
        png_image_write_to_memory(&image, dst.baseAddress, &size, 0, $0.baseAddress, 0, nil)
      }
    }
    guard ok2 != 0 else { throw ImageError("PNG encoding failed", file: "<memory>") }
    return Array(out.prefix(size))
  }

  /// Writes a PNG file atomically.
  public func writePNG(to path: String) throws {
    do { try writeFileAtomically(try pngData(), to: path) } catch let e as CheckpointError {
      throw ImageError(e.message, file: path)
    }
  }

  /// Reads a PNG or JPEG file (by content) as 8-bit grey, RGB or RGBA.
  public static func read(_ path: String) throws -> RasterImage {
    let bytes: [UInt8]
    do { bytes = try readFileBytes(path) } catch { throw ImageError("cannot be read", file: path) }
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(bytes, file: path) }
    if bytes.starts(with: [0xFF, 0xD8]) { return try decodeJPEG(bytes, file: path) }
    throw ImageError("not a PNG or JPEG image", file: path)
  }

  /// Decodes PNG bytes.
  public static func decodePNG(_ bytes: [UInt8], file: String = "<memory>") throws -> RasterImage {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    let begun = bytes.withUnsafeBufferPointer { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    guard begun != 0 else { throw ImageError("corrupt PNG: \(pngMessage(&image))", file: file) }
    let hasColor = image.format & 2 != 0  // PNG_FORMAT_FLAG_COLOR
    let hasAlpha = image.format & 1 != 0  // PNG_FORMAT_FLAG_ALPHA
    let channels = hasColor ? (hasAlpha ? 4 : 3) : 1
    image.format = pngFormat(channels)
    let w = Int(image.width)
    let h = Int(image.height)
    guard w > 0, h > 0, w * h <= 100_000_000 else {
      png_image_free(&image)
      throw ImageError("PNG of \(w)x\(h) pixels is not supported", file: file)
    }
    var px = [UInt8](repeating: 0, count: w * h * channels)
    let ok = bytes.withUnsafeBufferPointer { _ in
      px.withUnsafeMutableBufferPointer { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    }
    guard ok != 0 else { throw ImageError("corrupt PNG: \(pngMessage(&image))", file: file) }
    return RasterImage(width: w, height: h, channels: channels, pixels: px)
  }

  static func pngMessage(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
      String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
  }

  /// Decodes JPEG bytes to RGB (TurboJPEG).
  public static func decodeJPEG(_ bytes: [UInt8], file: String = "<memory>") throws -> RasterImage {
    guard let handle = tjInitDecompress() else { throw ImageError("JPEG decoder unavailable", file: file) }
    defer { tjDestroy(handle) }
    var w: Int32 = 0
    var h: Int32 = 0
    var sub: Int32 = 0
    var space: Int32 = 0
    var src = bytes
    let rc = src.withUnsafeMutableBufferPointer {
      tjDecompressHeader3(handle, $0.baseAddress, UInt(bytes.count), &w, &h, &sub, &space)
    }
    guard rc == 0, w > 0, h > 0, Int(w) * Int(h) <= 100_000_000 else {
      throw ImageError("corrupt JPEG header", file: file)
    }
    var px = [UInt8](repeating: 0, count: Int(w) * Int(h) * 3)
    let rc2 = src.withUnsafeMutableBufferPointer { s in
      px.withUnsafeMutableBufferPointer {
        tjDecompress2(handle, s.baseAddress, UInt(bytes.count), $0.baseAddress, w, 0, h, Int32(TJPF_RGB.rawValue), 0)
      }
    }
    guard rc2 == 0 else { throw ImageError("corrupt JPEG data", file: file) }
    return RasterImage(width: Int(w), height: Int(h), channels: 3, pixels: px)
  }
}

/// libpng simplified-API format codes (the C macros are compound and not imported):
/// PNG_FORMAT_GRAY = 0, PNG_FORMAT_RGB = COLOR (2), PNG_FORMAT_RGBA = COLOR | ALPHA (3).
func pngFormat(_ channels: Int) -> UInt32 { channels == 1 ? 0 : (channels == 3 ? 2 : 3) }
