import Foundation
import Testing

@testable import Engine

/// Bad input never crashes a reader: random bytes, truncations and mutations of valid files
/// either parse or throw a `CheckpointError` with a message.
@Suite("Tensor file readers under bad input")
struct ReaderFuzzTests {
  typealias Reader = @Sendable ([UInt8]) throws -> Void

  static let readers: [(String, String, Reader)] = [
    ("safetensors", "model/net_init.safetensors", { _ = try Safetensors.decode($0) }),
    ("torch .pt", "model/net_init.pt", { _ = try TorchCheckpoint.decode($0) }),
    ("legacy torch .pt", "model/net_init_legacy.pt", { _ = try TorchCheckpoint.decode($0) }),
    ("npz stored", "model/arrays.npz", { _ = try NPZ.decode($0) }),
    ("npz deflated", "model/arrays_compressed.npz", { _ = try NPZ.decode($0) }),
    ("npy", "", { _ = try NPY.decode($0) }),
    (
      "pickle", "",
      {
        var vm = RestrictedUnpickler($0)
        _ = try vm.run()
      }
    ),
    (
      "torch .pt with valid CRCs", "",
      { pkl in
        // Mutated pickles re-wrapped with correct CRCs, so the unpickler itself is exercised.
        let zip = try ZipArchive(try readFileBytes(fixturePath("model/net_init.pt")))
        var w = ZipWriter()
        for e in zip.entries { w.add(e.name, e.name.hasSuffix("data.pkl") ? pkl : try zip.contents(of: e)) }
        _ = try TorchCheckpoint.decode(w.finish())
      }
    ),
  ]

  /// Runs `reader` on `bytes`; returns false when it threw something other than a CheckpointError.
  static func survives(_ reader: Reader, _ bytes: [UInt8]) -> Bool {
    do {
      try reader(bytes)
      return true
    } catch let e as CheckpointError {
      return !e.message.isEmpty
    } catch {
      return false
    }
  }

  static func valid(_ name: String, _ fixture: String) throws -> [UInt8] {
    if name == "npy" { return NPY.encode(StoredTensor(name: "a", shape: [3, 5], floats: (0..<15).map(Float.init))) }
    if fixture.isEmpty {
      let zip = try ZipArchive(try readFileBytes(fixturePath("model/net_init.pt")))
      return try zip.contents(of: zip.entries.first { $0.name.hasSuffix("data.pkl") }!)
    }
    return try readFileBytes(fixturePath(fixture))
  }

  @Test("random bytes, truncations and mutations", arguments: 0..<8)
  func fuzz(_ which: Int) throws {
    let (name, fixture, reader) = Self.readers[which]
    let good = try Self.valid(name, fixture)
    #expect(Self.survives(reader, good))
    var rng = RandomGenerator(seed: UInt64(100 + which))
    var failures = 0
    // Random bytes of many lengths, with and without the right magic prefix.
    for i in 0..<400 {
      var bytes = (0..<Int(rng.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      if i % 2 == 0 { bytes = Array(good.prefix(16)) + bytes }
      if !Self.survives(reader, bytes) { failures += 1 }
    }
    // Every truncation length (stepping through large files).
    for n in stride(from: 0, to: good.count, by: max(1, good.count / 500)) {
      if !Self.survives(reader, Array(good.prefix(n))) { failures += 1 }
    }
    // Point mutations, including bytes set to 0x00 / 0xFF to hit sizes and offsets.
    for _ in 0..<1500 {
      var bytes = good
      for _ in 0..<(1 + Int(rng.next() % 6)) {
        let at = Int(rng.next() % UInt64(bytes.count))
        switch rng.next() % 3 {
        case 0: bytes[at] = 0xFF
        case 1: bytes[at] = 0
        default: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
        }
      }
      if !Self.survives(reader, bytes) { failures += 1 }
    }
    #expect(failures == 0, "\(name): \(failures) inputs raised something other than a CheckpointError")
  }

  @Test("safetensors headers that lie are named") func lyingHeaders() throws {
    func file(_ header: String, data: Int = 16) -> [UInt8] {
      var h = Array(header.utf8)
      while h.count % 8 != 0 { h.append(0x20) }
      return withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + [UInt8](repeating: 0, count: data)
    }
    let cases: [(String, [UInt8], String)] = [
      ("offsets past the end", file(#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,32]}}"#), "outside"),
      ("size mismatch", file(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#), "needs 12 bytes"),
      ("unknown dtype", file(#"{"w":{"dtype":"Q8","shape":[3],"data_offsets":[0,3]}}"#), "unsupported dtype"),
      ("negative dim", file(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#), "invalid dimension"),
      ("huge header", withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init) + [1, 2, 3], "exceeds"),
      ("header past end", withUnsafeBytes(of: UInt64(64).littleEndian, Array.init) + [1, 2, 3], "past the end"),
      ("not json", file("{{{{"), "not valid JSON"),
      ("empty", [], "truncated"),
    ]
    for (what, bytes, phrase) in cases {
      #expect(throws: CheckpointError.self, "\(what)") { try Safetensors.decode(bytes) }
      do {
        _ = try Safetensors.decode(bytes)
      } catch {
        #expect("\(error)".contains(phrase), "\(what): message was '\(error)'")
      }
    }
  }

  @Test("missing and truncated files name the file") func files() throws {
    #expect { try Safetensors.read("/nonexistent/w.safetensors") } throws: {
      "\($0)".contains("/nonexistent/w.safetensors: no such file")
    }
    let good = try readFileBytes(fixturePath("model/net_init.pt"))
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("trunc-\(UUID().uuidString).pt").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try writeFileAtomically(Array(good.prefix(good.count - 100)), to: path)
    #expect { try readTensorFile(path) } throws: { "\($0)".hasPrefix(path + ":") }
  }
}
