import CZlib
import Foundation

/// Writes a large .npy array chunk by chunk (the shape is declared up front), so extraction and
/// recording never hold the whole array in memory. Data goes to a temporary file that `finish()`
/// renames into place; a writer that is never finished leaves nothing at `path`.
public final class NPYStreamWriter {
  public let path: String
  public let shape: [Int]
  public let dtype: StorageDType
  let temporary: String
  private let handle: FileHandle
  private(set) var written = 0
  private(set) var crc: UInt = 0
  private(set) var bytes = 0

  /// Starts an array of `shape` (F32 or I64) at `path`.
  public init(path: String, shape: [Int], dtype: StorageDType = .f32) throws {
    precondition(dtype == .f32 || dtype == .i64, "NPYStreamWriter writes F32 or I64")
    self.path = path
    self.shape = shape
    self.dtype = dtype
    (temporary, handle) = try openPartialFile(for: path)
    let header = NPY.encode(StoredTensor(name: "", dtype: dtype, shape: shape, data: []), headerOnly: true)
    try write(header)
  }

  deinit {
    try? handle.close()
    if FileManager.default.fileExists(atPath: temporary) { try? FileManager.default.removeItem(atPath: temporary) }
  }

  /// Number of elements still expected.
  public var remaining: Int { shape.reduce(1, *) - written }

  private func write(_ data: [UInt8]) throws {
    crc = data.withUnsafeBufferPointer { UInt(crc32(uLong(crc), $0.baseAddress, uInt($0.count))) }
    bytes += data.count
    do { try handle.write(contentsOf: data) } catch {
      throw CheckpointError("write failed: \(error.localizedDescription)", file: path)
    }
  }

  /// Appends float values (row-major continuation of the array).
  public func append(_ values: [Float]) throws {
    precondition(dtype == .f32, "append(Float) on a \(dtype) array")
    guard values.count <= remaining else {
      throw CheckpointError("more values than the declared shape \(shape)", file: path)
    }
    var raw = [UInt8](repeating: 0, count: values.count * 4)
    raw.withUnsafeMutableBytes { dst in values.withUnsafeBytes { dst.copyMemory(from: $0) } }
    try write(raw)
    written += values.count
  }

  /// Appends integer values (I64 arrays).
  public func append(ints values: [Int]) throws {
    precondition(dtype == .i64, "append(ints:) on a \(dtype) array")
    guard values.count <= remaining else {
      throw CheckpointError("more values than the declared shape \(shape)", file: path)
    }
    var raw = [UInt8](repeating: 0, count: values.count * 8)
    raw.withUnsafeMutableBytes { dst in
      values.map { Int64($0).littleEndian }.withUnsafeBytes { dst.copyMemory(from: $0) }
    }
    try write(raw)
    written += values.count
  }

  /// Completes the file (all declared values must have been written) and moves it into place.
  public func finish() throws {
    guard remaining == 0 else {
      throw CheckpointError("only \(written) of \(shape.reduce(1, *)) values were written", file: path)
    }
    try handle.close()
    try renameReplacing(temporary, path)
  }

  /// Completes the data without moving it; returns the temporary file, its size and CRC-32 (for NPZ).
  func finishTemporary() throws -> (path: String, size: Int, crc: UInt32) {
    guard remaining == 0 else {
      throw CheckpointError("only \(written) of \(shape.reduce(1, *)) values were written", file: path)
    }
    try handle.close()
    return (temporary, bytes, UInt32(truncatingIfNeeded: crc))
  }
}

/// Creates `.NAME.partial-UUID` beside `path` (its folder made when missing) for a streaming writer
/// to fill and rename into place; returns its path and a handle open for writing.
func openPartialFile(for path: String) throws -> (path: String, handle: FileHandle) {
  let url = URL(fileURLWithPath: path)
  try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
  let temporary =
    url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)")
    .path
  guard FileManager.default.createFile(atPath: temporary, contents: nil),
    let handle = FileHandle(forWritingAtPath: temporary)
  else {
    throw CheckpointError("cannot create a temporary file next to it", file: path)
  }
  return (temporary, handle)
}

/// Builds an .npz of large arrays without holding them in memory: each member streams into its own
/// temporary .npy; `finish()` assembles the zip (zip64 when needed) and renames it into place.
public final class NPZStreamWriter {
  public let path: String
  private var members: [(name: String, writer: NPYStreamWriter)] = []

  public init(path: String) { self.path = path }

  /// Starts a member array called `name` with `shape`.
  public func member(_ name: String, shape: [Int], dtype: StorageDType = .f32) throws -> NPYStreamWriter {
    let dir = (path as NSString).deletingLastPathComponent
    let w = try NPYStreamWriter(
      path: (dir.isEmpty ? "." : dir) + "/.\((path as NSString).lastPathComponent).\(name).npy", shape: shape,
      dtype: dtype)
    members.append((name, w))
    return w
  }

  /// Writes the archive atomically.
  public func finish() throws {
    let parts = try members.map { (name: $0.name + ".npy", file: try $0.writer.finishTemporary()) }
    defer { for p in parts { try? FileManager.default.removeItem(atPath: p.file.path) } }
    let tmp = path + ".partial-\(UUID().uuidString)"
    guard FileManager.default.createFile(atPath: tmp, contents: nil), let out = FileHandle(forWritingAtPath: tmp) else {
      throw CheckpointError("cannot be created", file: path)
    }
    var central: [UInt8] = []
    var offset = 0
    func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    do {
      for p in parts {
        let name = Array(p.name.utf8)
        let big = p.file.size >= 0xFFFF_FFFF || offset >= 0xFFFF_FFFF
        let size32 = big ? 0xFFFF_FFFF : p.file.size
        let localExtra = big ? le(1, 2) + le(16, 2) + le(p.file.size, 8) + le(p.file.size, 8) : []
        var local = le(0x0403_4B50, 4) + le(big ? 45 : 20, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        local += le(Int(p.file.crc), 4) + le(size32, 4) + le(size32, 4) + le(name.count, 2) + le(localExtra.count, 2)
        try out.write(contentsOf: local + name + localExtra)
        guard let input = FileHandle(forReadingAtPath: p.file.path) else {
          throw CheckpointError("temporary member vanished", file: path)
        }
        while let chunk = try input.read(upToCount: 1 << 24), !chunk.isEmpty { try out.write(contentsOf: chunk) }
        try input.close()
        let centralExtra = big ? le(1, 2) + le(24, 2) + le(p.file.size, 8) + le(p.file.size, 8) + le(offset, 8) : []
        central += le(0x0201_4B50, 4) + le(45, 2) + le(big ? 45 : 20, 2) + le(0, 2) + le(0, 2) + le(0, 4)
        central +=
          le(Int(p.file.crc), 4) + le(size32, 4) + le(size32, 4) + le(name.count, 2) + le(centralExtra.count, 2)
        central += le(0, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(big ? 0xFFFF_FFFF : offset, 4) + name + centralExtra
        offset += local.count + name.count + localExtra.count + p.file.size
      }
      var tail = central
      if offset >= 0xFFFF_FFFF || central.count >= 0xFFFF_FFFF {
        let zip64At = offset + central.count
        tail += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4)
        tail += le(parts.count, 8) + le(parts.count, 8) + le(central.count, 8) + le(offset, 8)
        tail += le(0x0706_4B50, 4) + le(0, 4) + le(zip64At, 8) + le(1, 4)
        tail +=
          le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4)
          + le(0xFFFF_FFFF, 4) + le(0, 2)
      } else {
        tail += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(parts.count, 2) + le(parts.count, 2)
        tail += le(central.count, 4) + le(offset, 4) + le(0, 2)
      }
      try out.write(contentsOf: tail)
      try out.close()
      try renameReplacing(tmp, path)
    } catch {
      try? FileManager.default.removeItem(atPath: tmp)
      if let e = error as? CheckpointError { throw e }
      throw CheckpointError("could not be written: \(error.localizedDescription)", file: path)
    }
  }
}
