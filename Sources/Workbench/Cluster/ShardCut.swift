/// Shard K of N of a protocol's stimulus table: a fixed cut of the sweep into N contiguous runs of
/// whole batches (`record.batch` stimuli each), so every shard runs exactly the batches a single run
/// would, and rows merged in shard order are the single run's rows.
public struct ShardCut: Sendable, Equatable, CustomStringConvertible {
  /// 1-based shard number.
  public let index: Int
  /// Number of shards.
  public let count: Int

  /// Shard `index` (1 ... `count`) of `count`.
  public init(index: Int, count: Int) throws {
    guard count >= 1, count <= 100_000 else {
      throw ShardError("--shard K/N: N must be between 1 and 100000, not \(count)")
    }
    guard (1...count).contains(index) else {
      throw ShardError("--shard K/N: K must be between 1 and N = \(count), not \(index)")
    }
    self.index = index
    self.count = count
  }

  /// Parses "K/N".
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
      throw ShardError("--shard takes K/N (shard K of N, e.g. 2/4), not '\(text)'")
    }
    try self.init(index: k, count: n)
  }

  public var description: String { "\(index)/\(count)" }

  /// The stimuli of this shard in a sweep of `total` stimuli run in batches of `batch`: batches
  /// (K-1)·B/N ..< K·B/N of the B batches (integer division), so shard sizes differ by at most one batch.
  public func stimuli(total: Int, batch: Int) throws -> Range<Int> {
    let batches = (total + batch - 1) / max(1, batch)
    guard count <= batches else {
      throw ShardError(
        "the sweep has \(total) stimuli, \(batches) batch\(batches == 1 ? "" : "es") of \(batch): it cannot be cut into \(count) shards (use at most \(batches), or a smaller record.batch)"
      )
    }
    let first = (index - 1) * batches / count
    let last = index * batches / count
    return (first * batch)..<min(total, last * batch)
  }
}

/// A problem with shards: a bad cut, a missing, duplicated or mismatched shard.
public struct ShardError: Error, CustomStringConvertible {
  public var description: String
  public init(_ d: String) { description = d }
}
