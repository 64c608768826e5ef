import Foundation

/// Reads a large float32 .npy array row block by row block (C order, little-endian), so that a merge
/// or replay never holds the whole array in memory. The header is checked when the reader opens: the
/// declared shape must match the file's size exactly, so a truncated or padded file is refused before
/// any data is read.
public final class NPYStreamReader {
  public let path: String
  /// The declared shape; rows are the first axis.
  public let shape: [Int]
  /// Elements per row (the product of every axis but the first).
  public let rowWidth: Int
  private let handle: FileHandle
  private(set) public var rowsRead = 0

  /// Opens `path`, expecting a float32 array whose shape satisfies `expect` (which returns a problem to
  /// report, or nil).
  public init(path: String, expect: ([Int]) -> String? = { _ in nil }) throws {
    self.path = path
    guard let h = FileHandle(forReadingAtPath: path) else { throw CheckpointError("cannot be opened", file: path) }
    handle = h
    do {
      let prefix = try h.read(upToCount: 12).map { [UInt8]($0) } ?? []
      guard prefix.count >= 10, Array(prefix[0..<6]) == NPY.magic else {
        throw CheckpointError("not an .npy file (bad magic)", file: path)
      }
      let major = prefix[6]
      let (start, length): (Int, Int)
      switch major {
      case 1: (start, length) = (10, Int(prefix[8]) | Int(prefix[9]) << 8)
      case 2, 3:
        guard prefix.count == 12 else { throw CheckpointError("truncated .npy header", file: path) }
        (start, length) = (12, Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24)
      default: throw CheckpointError("unsupported .npy version \(major)", file: path)
      }
      guard length <= 1 << 20 else { throw CheckpointError(".npy header of \(length) bytes is too long", file: path) }
      try h.seek(toOffset: UInt64(start))
      let headerBytes = try h.read(upToCount: length).map { [UInt8]($0) } ?? []
      guard headerBytes.count == length,
        let header = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1)
      else { throw CheckpointError("truncated .npy header", file: path) }
      let dict = try NPY.parseHeader(header)
      guard dict["descr"] == "<f4" else {
        throw CheckpointError(
          "expected little-endian float32 ('<f4'), found \(dict["descr"] ?? "no descr")", file: path)
      }
      guard dict["fortran_order"] == "False" else { throw CheckpointError("expected C order", file: path) }
      let shape = try NPY.parseShape(dict["shape"] ?? "")
      guard !shape.isEmpty else { throw CheckpointError("expected an array with rows, found a scalar", file: path) }
      let count = try checkedProduct(shape, what: ".npy shape")
      let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1
      guard size == start + length + count * 4 else {
        throw CheckpointError(
          "holds \(size - start - length) data bytes, but its header declares \(shape) float32 values (\(count * 4) bytes)",
          file: path)
      }
      if let problem = expect(shape) { throw CheckpointError(problem, file: path) }
      self.shape = shape
      rowWidth = shape.dropFirst().reduce(1, *)
    } catch {
      try? h.close()
      throw error
    }
  }

  deinit { try? handle.close() }

  /// Number of rows not yet read.
  public var remainingRows: Int { shape[0] - rowsRead }

  /// Reads the next `rows` rows into `buffer` (rows x rowWidth values, replaced).
  public func read(rows: Int, into buffer: inout [Float]) throws {
    guard rows <= remainingRows else {
      throw CheckpointError("asked for \(rows) rows with \(remainingRows) left", file: path)
    }
    let bytes = rows * rowWidth * 4
    let data: Data
    do { data = try handle.read(upToCount: bytes) ?? Data() } catch {
      throw CheckpointError("read failed: \(error.localizedDescription)", file: path)
    }
    guard data.count == bytes else { throw CheckpointError("ended early (changed while read?)", file: path) }
    buffer = [Float](repeating: 0, count: rows * rowWidth)
    buffer.withUnsafeMutableBytes { dst in data.withUnsafeBytes { dst.copyMemory(from: $0) } }
    rowsRead += rows
  }
}
