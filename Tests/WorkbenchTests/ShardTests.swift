import Engine
import Foundation
import Testing

@testable import Workbench

/// The small protocol in batches of 2: 6 stimuli, 3 batches.
let shardedProtocol = smallProtocol.replacingOccurrences(
  of: "  units: all\n", with: "  units: all\n  batch: 2\n")

@Suite("Sharded runs and their merge")
struct ShardTests {
  @Test("a cut into whole batches covers the sweep once, in order, sizes within one batch") func cut() throws {
    for (total, batch) in [(30, 8), (6, 2), (1000, 7), (64, 64)] {
      let batches = (total + batch - 1) / batch
      for n in 1...min(batches, 9) {
        let ranges = try (1...n).map { try ShardCut(index: $0, count: n).stimuli(total: total, batch: batch) }
        #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == total)
        for (a, b) in zip(ranges, ranges.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        #expect(ranges.allSatisfy { $0.lowerBound % batch == 0 && !$0.isEmpty })
        let sizes = ranges.map { ($0.count + batch - 1) / batch }
        #expect(sizes.max()! - sizes.min()! <= 1)
      }
      #expect(throws: ShardError.self) {
        _ = try ShardCut(index: 1, count: batches + 1).stimuli(total: total, batch: batch)
      }
    }
    #expect(try ShardCut(parsing: "2/4") == ShardCut(index: 2, count: 4))
    for bad in ["2", "0/4", "5/4", "a/b", "1/0", "1/4/2", ""] {
      #expect(throws: ShardError.self, "\(bad)") { _ = try ShardCut(parsing: bad) }
    }
  }

  @Test("shards merged give every file of a single run, byte for byte") func mergeMatchesRun() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try shardedProtocol.write(toFile: dir + "/small.yaml", atomically: true, encoding: .utf8)
    let spec = try ProtocolFile.load(dir + "/small.yaml")
    _ = try ProtocolRunner.run(spec, output: dir + "/single")
    var shards: [String] = []
    for k in 1...3 {
      let s = try ProtocolRunner.runShard(spec, cut: ShardCut(index: k, count: 3), output: dir + "/shard-\(k)")
      #expect(s.manifest.stimuli == 2 && s.manifest.firstStimulus == 2 * (k - 1))
      shards.append(s.folder)
    }
    // Given in any order.
    let merged = try ProtocolRunner.merge(shards.reversed(), output: dir + "/merged")
    #expect(merged.stimuli == 6)
    let single = try FileManager.default.contentsOfDirectory(atPath: dir + "/single").sorted()
    let mergedFiles = try FileManager.default.contentsOfDirectory(atPath: dir + "/merged").sorted()
    #expect(single == mergedFiles)
    #expect(single.contains("responses.npy") && single.contains("report.pdf"))
    for f in single {
      #expect(
        FileManager.default.contents(atPath: dir + "/single/" + f)
          == FileManager.default.contents(atPath: dir + "/merged/" + f), "\(f) differs")
    }
  }

  @Test("a merge refuses missing, repeated, foreign and stale shards, naming them") func mergeRefuses() throws {
    let dir = try scratchFolder()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try shardedProtocol.write(toFile: dir + "/small.yaml", atomically: true, encoding: .utf8)
    let spec = try ProtocolFile.load(dir + "/small.yaml")
    for k in 1...3 { _ = try ProtocolRunner.runShard(spec, cut: ShardCut(index: k, count: 3), output: dir + "/s\(k)") }
    _ = try ProtocolRunner.runShard(spec, cut: ShardCut(index: 2, count: 3), output: dir + "/seed9", seed: 9)
    _ = try ProtocolRunner.runShard(spec, cut: ShardCut(index: 2, count: 2), output: dir + "/other-cut")
    func message(_ dirs: [String]) -> String {
      do {
        _ = try ProtocolRunner.merge(dirs.map { dir + "/" + $0 }, output: dir + "/merged")
        return "merged"
      } catch { return "\(error)" }
    }
    #expect(message(["s1", "s3"]).contains("shard 2 of 3 is missing"))
    #expect(message(["s1", "s2", "s2", "s3"]).contains("shard 2/3 is given 2 times"))
    #expect(message(["s1", "seed9", "s3"]).contains("seed 9 vs 3"))
    #expect(message(["s1", "s2", "s3", "other-cut"]).contains("shards 2 vs 3"))
    #expect(message(["s1", "nowhere", "s3"]).contains("nowhere: not a finished shard"))
    // A half-written shard (killed before shard.json) is not a finished shard.
    try FileManager.default.removeItem(atPath: dir + "/s3/shard.json")
    #expect(message(["s1", "s2", "s3"]).contains("s3: not a finished shard"))
    _ = try ProtocolRunner.runShard(spec, cut: ShardCut(index: 3, count: 3), output: dir + "/s3")
    // Rows that do not match the manifest.
    let rows = dir + "/s2/rows.npy"
    let saved = try readFileBytes(rows)
    try writeFileAtomically(Array(saved.dropLast(8)), to: rows)
    #expect(message(["s1", "s2", "s3"]).contains("rows.npy"))
    try writeFileAtomically(saved, to: rows)
    // The protocol edited after recording.
    try (shardedProtocol + "\n# edited\n").write(toFile: dir + "/small.yaml", atomically: true, encoding: .utf8)
    #expect(message(["s1", "s2", "s3"]).contains("inputs changed since the shards were recorded"))
    #expect(!FileManager.default.fileExists(atPath: dir + "/merged"))
    try shardedProtocol.write(toFile: dir + "/small.yaml", atomically: true, encoding: .utf8)
    #expect(message(["s1", "s2", "s3"]) == "merged")
  }
}
