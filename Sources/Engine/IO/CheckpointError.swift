/// Why a tensor file could not be read or applied. Every message names the file (when known) and
/// what was expected versus found; readers throw these instead of crashing on any input.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
  /// The file involved, if known.
  public var file: String?
  /// What went wrong, in words a user can act on.
  public var message: String

  public init(_ message: String, file: String? = nil) {
    self.message = message
    self.file = file
  }

  public var description: String { file.map { "\($0): \(message)" } ?? message }

  /// The same error attributed to `file`.
  public func inFile(_ file: String) -> CheckpointError {
    var e = self
    if e.file == nil { e.file = file }
    return e
  }
}
