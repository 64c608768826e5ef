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
    (temporary, handle) = try openPartialFile(for: path)
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
