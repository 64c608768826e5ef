import Engine
import Foundation

/// A results folder that Ephys owns. Results are written into a temporary sibling folder and swapped
/// in only when complete, so a failed or killed run never leaves a half-written or half-deleted
/// folder under the final name. Ephys only ever replaces a folder it wrote itself (it holds the
/// marker file `.ephys-output`), or an empty one; it refuses a file, a folder of other files, the
/// current folder and any folder above it, and never deletes anything above the output path.
public enum OutputFolder {
  /// The marker file every Ephys output folder holds.
  public static let marker = ".ephys-output"

  /// Why results cannot go to `path` (relative paths taken from `currentDirectory`), or nil when they can.
  public static func problem(_ path: String, currentDirectory: String = FileManager.default.currentDirectoryPath)
    -> String?
  {
    guard !path.isEmpty else { return "the output folder is empty text" }
    let target = absolute(path, from: currentDirectory)
    let here = absolute(currentDirectory)
    if target == "/" || target == here || here.hasPrefix(target.hasSuffix("/") ? target : target + "/") {
      return
        "'\(path)' is the current folder or one above it; results go into a folder of their own (e.g. --out Reports/my-run)"
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else { return nil }
    guard isDirectory.boolValue else {
      return "'\(path)' is a file, not a folder; choose another output folder (nothing was changed)"
    }
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
    if entries.isEmpty || isEphysFolder(target) { return nil }
    let shown = entries.sorted().prefix(3).map { "'\($0)'" }.joined(separator: ", ")
    return
      "'\(path)' holds \(entries.count) file\(entries.count == 1 ? "" : "s") that Ephys did not write (\(shown)\(entries.count > 3 ? ", ..." : "")); choose a new output folder or remove it yourself (nothing was deleted)"
  }

  /// Whether `folder` was written by Ephys: it holds the marker, or (results of Ephys 0.1) a
  /// summary.json naming an Ephys version, or only the files `ephys analyze` writes.
  public static func isEphysFolder(_ folder: String) -> Bool {
    if FileManager.default.fileExists(atPath: folder + "/" + marker) { return true }
    if let data = FileManager.default.contents(atPath: folder + "/summary.json") {
      return String(decoding: data, as: UTF8.self).contains("\"ephys_version\"")
    }
    // `ephys analyze` folders of Ephys 0.1: nothing but the files it writes.
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let analysisFiles: Set<String> = ["units.csv", "layers.csv", "report.pdf"]
    return entries.contains("report.pdf")
      && entries.allSatisfy { analysisFiles.contains($0) || $0.hasPrefix("figure_") && $0.hasSuffix(".png") }
  }

  /// Checks `path` (throws `OutputFolderError` with the reason), clears what killed runs left
  /// beside it (reported through `notice`), and creates the temporary folder to write into.
  public static func begin(_ path: String, notice: (String) -> Void = { _ in }) throws -> String {
    if let p = problem(path) { throw OutputFolderError(message: p) }
    let target = absolute(path)
    let parent = (target as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
    recoverLeftovers(target, notice: notice)
    let temporary = parent + "/." + (target as NSString).lastPathComponent + ".partial-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
    // Written in place (not via a temporary file), so even a kill right here leaves a recognisable folder.
    try Data("written by Ephys; the next run to this folder may replace it\n".utf8).write(
      to: URL(fileURLWithPath: temporary + "/" + marker))
    return temporary
  }

  /// Puts the finished `temporary` folder in place of `path`: atomically exchanged with a previous
  /// result (Linux renameat2), else moved aside, renamed in, and the old one deleted.
  public static func commit(_ temporary: String, to path: String) throws {
    let target = absolute(path)
    guard FileManager.default.fileExists(atPath: target) else {
      try renameReplacing(temporary, target)
      return
    }
    if exchange(temporary, target) {
      try? FileManager.default.removeItem(atPath: temporary)  // now the previous result
      return
    }
    let aside = leftoverName(target, "old")
    try renameReplacing(target, aside)
    try renameReplacing(temporary, target)
    try? FileManager.default.removeItem(atPath: aside)
  }

  /// Removes an unfinished temporary folder (after a failed run).
  public static func abandon(_ temporary: String) {
    try? FileManager.default.removeItem(atPath: temporary)
  }

  /// Fills a fresh temporary folder with `body` and swaps it in at `path` (`begin`, then `commit`),
  /// or abandons it when `body` throws: the old contents stay until the new ones are complete.
  public static func writing<R>(_ path: String, notice: (String) -> Void = { _ in }, _ body: (String) throws -> R)
    throws -> R
  {
    let temporary = try begin(path, notice: notice)
    do {
      let result = try body(temporary)
      try commit(temporary, to: path)
      return result
    } catch {
      abandon(temporary)
      throw error
    }
  }

  static func leftoverName(_ target: String, _ kind: String) -> String {
    let parent = (target as NSString).deletingLastPathComponent
    return parent + "/." + (target as NSString).lastPathComponent + ".\(kind)-" + UUID().uuidString
  }

  /// Temporary folders of killed runs beside `target` (`.NAME.partial-*`, `.NAME.old-*`, each with the
  /// marker): a previous result moved aside is restored if nothing stands at `target`; the rest is deleted.
  static func recoverLeftovers(_ target: String, notice: (String) -> Void) {
    let parent = (target as NSString).deletingLastPathComponent
    let name = (target as NSString).lastPathComponent
    let siblings = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
    var removed = 0
    var bytes = 0
    for kind in ["old", "partial"] {
      for s in siblings.sorted() where s.hasPrefix(".\(name).\(kind)-") {
        let path = parent + "/" + s
        guard isEphysFolder(path) || kind == "partial" && isEmptyFolder(path) else { continue }
        if kind == "old" && !FileManager.default.fileExists(atPath: target) {
          if (try? renameReplacing(path, target)) != nil {
            notice("restored the previous result \(target) (a run was killed while replacing it)")
            continue
          }
        }
        bytes += folderSize(path)
        if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
      }
    }
    if removed > 0 {
      notice(
        "removed \(removed) unfinished folder\(removed == 1 ? "" : "s") (\(ReadBudget.describe(bytes))) left beside \(target) by a failed or killed run"
      )
    }
  }

  static func isEmptyFolder(_ path: String) -> Bool {
    (try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? false
  }

  static func folderSize(_ path: String) -> Int {
    guard let e = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let f = e.nextObject() as? String {
      total += ((try? FileManager.default.attributesOfItem(atPath: path + "/" + f))?[.size] as? Int) ?? 0
    }
    return total
  }

  /// `path` made absolute and standardised (no `.`, `..` or trailing slash).
  static func absolute(_ path: String, from directory: String = FileManager.default.currentDirectoryPath) -> String {
    URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory + "/")).standardizedFileURL.path
  }

  /// Swaps two paths atomically with Linux's renameat2(RENAME_EXCHANGE), looked up at run time
  /// (glibc >= 2.28); false where it is unavailable or the file system refuses.
  static func exchange(_ a: String, _ b: String) -> Bool {
    typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    guard let symbol = dlsym(nil, "renameat2") else { return false }
    let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
    let atCurrentDirectory: Int32 = -100  // AT_FDCWD
    let renameExchange: UInt32 = 2  // RENAME_EXCHANGE
    return renameat2(atCurrentDirectory, a, atCurrentDirectory, b, renameExchange) == 0
  }
}

/// Why results cannot be written where asked.
public struct OutputFolderError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}
