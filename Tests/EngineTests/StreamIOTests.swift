import Foundation
import Testing

@testable import Engine

@Suite("SHA-256 and streamed .npy reading")
struct StreamIOTests {
  @Test("SHA-256 matches FIPS 180-4's examples and sha256sum on a file") func sha256() throws {
    #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(
      SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // A million 'a's, fed in uneven pieces.
    var h = SHA256()
    var left = 1_000_000
    var piece = 1
    while left > 0 {
      let n = min(left, piece)
      h.update([UInt8](repeating: 0x61, count: n))
      left -= n
      piece = piece * 3 + 1
    }
    #expect(h.hexDigest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("sha-\(UUID().uuidString)").path
    let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
    try writeFileAtomically(bytes, to: path)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    p.arguments = [path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    p.waitUntilExit()
    let expected = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
    #expect(try SHA256.hex(ofFile: path) == String(expected))
    #expect(SHA256.hex(bytes) == String(expected))
  }

  @Test("NPYStreamReader reads rows in pieces and refuses truncated, padded and non-float files") func streamReader()
    throws
  {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("npy-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let values = (0..<(7 * 2 * 3)).map { Float($0) * 0.5 - 3 }
    try NPY.write(StoredTensor(name: "x", shape: [7, 2, 3], floats: values), to: dir + "/a.npy")
    let r = try NPYStreamReader(path: dir + "/a.npy")
    #expect(r.shape == [7, 2, 3] && r.rowWidth == 6)
    var all: [Float] = []
    var buffer: [Float] = []
    for n in [3, 3, 1] {
      try r.read(rows: n, into: &buffer)
      all += buffer
    }
    #expect(all == values && r.remainingRows == 0)
    #expect(throws: CheckpointError.self) { try r.read(rows: 1, into: &buffer) }
    // A shape the caller does not expect.
    #expect(throws: CheckpointError.self) {
      _ = try NPYStreamReader(path: dir + "/a.npy") { $0 == [7, 2, 4] ? nil : "wrong shape \($0)" }
    }
    let bytes = try readFileBytes(dir + "/a.npy")
    try writeFileAtomically(Array(bytes.dropLast(4)), to: dir + "/short.npy")
    try writeFileAtomically(bytes + [0, 0, 0, 0], to: dir + "/long.npy")
    try writeFileAtomically(Array(bytes.prefix(9)), to: dir + "/header.npy")
    try NPY.write(StoredTensor(name: "x", shape: [2], ints: [1, 2]), to: dir + "/ints.npy")
    for bad in ["short", "long", "header", "ints", "missing"] {
      #expect(throws: CheckpointError.self, "\(bad)") { _ = try NPYStreamReader(path: dir + "/\(bad).npy") }
    }
  }

  @Test("TextStreamWriter writes lines through its buffer, atomically, and leaves nothing when not finished")
  func textStreamWriter() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // More than the 1 MiB buffer, so the file is written in several flushes.
    let lines = (0..<60_000).map { "row \($0),\(Double($0) / 7)" }
    let writer = try TextStreamWriter(path: dir + "/sub/table.csv")
    for l in lines { try writer.line(l) }
    #expect(!FileManager.default.fileExists(atPath: dir + "/sub/table.csv"))
    try writer.finish()
    let text = try String(contentsOfFile: dir + "/sub/table.csv", encoding: .utf8)
    #expect(text == lines.joined(separator: "\n") + "\n")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub") == ["table.csv"])
    do {
      let abandoned = try TextStreamWriter(path: dir + "/sub/abandoned.csv")
      try abandoned.line("never finished")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/sub") == ["table.csv"])
    #expect(throws: CheckpointError.self) { _ = try TextStreamWriter(path: dir + "/sub") }
  }
}
