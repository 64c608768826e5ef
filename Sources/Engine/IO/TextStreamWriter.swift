import Foundation

/// Writes a large text file (CSV tables of a million units) line by line through a 1 MiB buffer, so
/// the text is never whole in memory. Like `writeFileAtomically`, the data go to a temporary file in
/// the same folder that `finish()` renames into place; a writer that is never finished leaves nothing
/// at `path`.
public final class TextStreamWriter {
  public let path: String
  let temporary: String
  private let handle: FileHandle
  private var buffer: [UInt8] = []
  private static let flushBytes = 1 << 20

  /// Starts the file at `path` (not a folder; its folder is created when missing).
  public init(path: String) throws {
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw CheckpointError("is a folder; give a file name to write", file: path)
    }
    self.path = path
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    temporary =
      url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)")
      .path
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
      let h = FileHandle(forWritingAtPath: temporary)
    else {
      throw CheckpointError("cannot create a temporary file next to it", file: path)
    }
    handle = h
    buffer.reserveCapacity(Self.flushBytes + 4096)
  }

  deinit {
    try? handle.close()
    if FileManager.default.fileExists(atPath: temporary) { try? FileManager.default.removeItem(atPath: temporary) }
  }

  /// Appends `text` and a newline.
  public func line(_ text: String) throws {
    buffer.append(contentsOf: text.utf8)
    buffer.append(UInt8(ascii: "\n"))
    if buffer.count >= Self.flushBytes { try flush() }
  }

  private func flush() throws {
    guard !buffer.isEmpty else { return }
    do { try handle.write(contentsOf: buffer) } catch {
      throw CheckpointError("write failed: \(error.localizedDescription)", file: path)
    }
    buffer.removeAll(keepingCapacity: true)
  }

  /// Writes what is buffered and moves the file into place.
  public func finish() throws {
    try flush()
    try handle.close()
    try renameReplacing(temporary, path)
  }
}
