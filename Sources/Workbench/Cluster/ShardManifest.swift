import Engine
import Foundation

/// `shard.json`: what a finished shard holds and where it comes from. It is written last, inside the
/// shard's temporary folder that replaces the shard folder only when the shard has succeeded, so a
/// shard folder with a readable manifest is a finished shard (the completion marker).
public struct ShardManifest: Codable, Sendable, Equatable {
  public static let fileName = "shard.json"
  /// The format, "ephys-shard 1".
  public var format = "ephys-shard 1"
  public var ephysVersion: String
  public var inputs: RunInputs
  /// The protocol file as it was named to the shard run (summary.json names it so; a merge run where
  /// that name leads to the same file names it the same way, so its outputs match a single run's).
  public var protocolFile: String
  /// Shard K of N.
  public var shard: Int
  public var shards: Int
  /// Stimuli of the whole sweep, the batch size of the cut, and this shard's first stimulus and count.
  public var stimuliTotal: Int
  public var batchSize: Int
  public var firstStimulus: Int
  public var stimuli: Int
  /// Recorded units (columns of rows.npy per phase).
  public var units: Int
  /// Whether the model attends in glimpses (the attended glimpse in trials.npy is meaningful).
  public var hasGlimpses: Bool

  /// The manifest of the shard folder `dir`, or a clear error when it is not a finished shard.
  public static func read(_ dir: String) throws -> ShardManifest {
    let path = dir + "/" + fileName
    guard FileManager.default.fileExists(atPath: path) else {
      throw ShardError(
        "\(dir): not a finished shard (no \(fileName)); run `ephys run PROTOCOL --shard K/N --out \(dir)` for it")
    }
    let bytes = try readFileBytes(path)
    guard bytes.count < 1 << 20 else { throw ShardError("\(path): \(bytes.count) bytes is too large for a manifest") }
    do {
      let m = try JSONDecoder().decode(ShardManifest.self, from: Data(bytes))
      guard m.format == "ephys-shard 1" else { throw ShardError("\(path): unknown format '\(m.format)'") }
      return m
    } catch let e as ShardError {
      throw e
    } catch {
      throw ShardError("\(path): not a readable shard manifest (\(error))")
    }
  }

  /// Writes the manifest into `dir` atomically.
  public func write(into dir: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try writeFileAtomically(Array(try encoder.encode(self)), to: dir + "/" + ShardManifest.fileName)
  }
}
