import Engine
import Foundation

/// The content identity of what a run reads: the protocol file, a separate stimulus file, the
/// weights (SHA-256 of each file's bytes) and the seed. Shards record it; a merge refuses shards whose
/// inputs differ, and inputs that changed on disk since the shards were recorded.
public struct RunInputs: Codable, Sendable, Equatable {
  /// Absolute path of the protocol file.
  public var protocolPath: String
  public var protocolSHA256: String
  /// The stimulus file's path and hash, or "inline" and "".
  public var stimulusSource: String
  public var stimulusSHA256: String
  /// The weights file's path and hash, or "random" and "".
  public var weights: String
  public var weightsSHA256: String
  public var seed: UInt64

  /// Hashes the files `p` reads (the weights file can take a few seconds: 0.5 GB/s or so).
  public init(_ p: ProtocolSpec, seed: UInt64) throws {
    protocolPath = URL(fileURLWithPath: p.file).standardizedFileURL.path
    protocolSHA256 = try SHA256.hex(ofFile: p.file)
    stimulusSource = p.stimulusSource
    stimulusSHA256 = p.stimulusSource == "inline" ? "" : try SHA256.hex(ofFile: p.stimulusSource)
    weights = p.weights
    weightsSHA256 = p.weights == "random" ? "" : try SHA256.hex(ofFile: p.weights)
    self.seed = seed
  }

  /// Fields on which `self` and `other` differ, as "name: a vs b" lines.
  public func differences(from other: RunInputs) -> [String] {
    var out: [String] = []
    func check(_ name: String, _ a: String, _ b: String) { if a != b { out.append("\(name) \(a) vs \(b)") } }
    check("protocol", protocolPath, other.protocolPath)
    check("protocol SHA-256", protocolSHA256, other.protocolSHA256)
    check("stimulus file", stimulusSource, other.stimulusSource)
    check("stimulus SHA-256", stimulusSHA256, other.stimulusSHA256)
    check("weights", weights, other.weights)
    check("weights SHA-256", weightsSHA256, other.weightsSHA256)
    check("seed", "\(seed)", "\(other.seed)")
    return out
  }
}
