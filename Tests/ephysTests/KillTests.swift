import Datasets
import Engine
import Foundation
import Testing

/// `kill -9` at random moments of `ephys run` and `ephys train`: a previous result or checkpoint is
/// never damaged, and the next command succeeds.
@Suite("Killed runs and trainings lose nothing", .serialized)
struct KillTests {
  static let kills = Int(ProcessInfo.processInfo.environment["EPHYS_KILLS"] ?? "") ?? 25

  /// A small protocol on the shipped checkpoint (10 stimuli, the centre units, responses written).
  static let protocolText = """
    name: killed
    model: {architecture: object-attention-mnist, weights: \(repositoryRoot)/Checkpoints/object-attention-mnist.safetensors}
    stimulus:
      kind: gaussian-bar
      parameters: {orientation: {from: 0, to: 180, steps: 5}, x: [6, 8]}
      distractor: {kind: digit, class: 3, region: right}
    record: {layers: [conv1, conv2], units: center}
    tuning: {axis: orientation}
    seed: 1
    """

  /// Kills `process` after `seconds` unless it has finished; returns whether it was killed.
  @discardableResult
  static func kill(_ process: Process, after seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
    guard process.isRunning else { return false }
    Foundation.kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    return true
  }

  @Test("run: killed first runs leave nothing or the whole result; killed replacements keep the previous one")
  func killRun() throws {
    let dir = try temporaryFolder("kill-run")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try Self.protocolText.write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
    let start = Date()
    let first = try runEphys(["run", "p.yaml", "--out", "ref"], in: dir)
    try #require(first.status == 0, "\(first.err)")
    var duration = Date().timeIntervalSince(start)
    let reference = contents(of: dir + "/ref")
    #expect(reference.count > 20)
    var rng = RandomGenerator(seed: 42)
    var killed = 0
    var replacing = 0
    var k = 0
    while killed < Self.kills && k < 4 * Self.kills {  // until `kills` runs were killed before finishing
      defer { k += 1 }
      let firstRun = k % 4 == 0
      if firstRun {
        try? FileManager.default.removeItem(atPath: dir + "/out")
      } else if !FileManager.default.fileExists(atPath: dir + "/out") {
        try FileManager.default.copyItem(atPath: dir + "/ref", toPath: dir + "/out")  // a previous result to replace
      }
      let hadResult = FileManager.default.fileExists(atPath: dir + "/out")
      if hadResult { replacing += 1 }
      let p = try startEphys(["run", "p.yaml", "--out", "out"], in: dir)
      if Self.kill(p, after: rng.nextUnit() * duration) {
        killed += 1
      } else {
        p.waitUntilExit()
        duration *= 0.8  // it finished first: the machine is quicker now than when the reference ran
      }
      let exists = FileManager.default.fileExists(atPath: dir + "/out")
      if hadResult { #expect(exists, "kill \(k): the previous result is gone") }
      if exists {
        let now = contents(of: dir + "/out")
        #expect(now == reference, "kill \(k): out differs from a complete result (\(now.count) files)")
      }
    }
    #expect(killed == Self.kills, "only \(killed) of \(k) runs were killed before they finished")
    print("kill test (run): \(k) runs, \(killed) killed, \(replacing) replacing a previous result")
    let last = try runEphys(["run", "p.yaml", "--out", "out"], in: dir)
    #expect(last.status == 0, "\(last.err)")
    #expect(contents(of: dir + "/out") == reference)
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".out.") }
    #expect(leftovers.isEmpty, "\(leftovers)")
  }

  @Test("train: a killed epoch leaves the previous checkpoint (weights and optimiser state, one file); resume finishes")
  func killTrain() throws {
    let dir = try temporaryFolder("kill-train")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    // 400 digits of the subset in its CSV layout: three short epochs.
    let mnist = try MNIST.defaultSubset()
    var csv = ""
    for i in 0..<400 {
      csv += mnist.pixels[(i * 784)..<((i + 1) * 784)].map { String(Int(($0 * 255).rounded())) }.joined(separator: ",")
      csv += ",\(mnist.labels[i])\n"
    }
    try csv.write(toFile: dir + "/digits.csv", atomically: true, encoding: .utf8)
    let arguments = ["train", "object-attention", "--data", "digits.csv", "--epochs", "3", "--batch", "16"]
    let start = Date()
    let complete = try runEphys(arguments + ["--out", "ref.safetensors"], in: dir)
    try #require(complete.status == 0, "\(complete.err)")
    var duration = Date().timeIntervalSince(start)
    let finalReference = try Data(contentsOf: URL(fileURLWithPath: dir + "/ref.safetensors"))

    var byEpoch: [String: Data] = [:]  // the first checkpoint seen for each epoch
    var rng = RandomGenerator(seed: 7)
    var killed = 0
    let path = dir + "/ck.safetensors"
    var k = 0
    while killed < Self.kills && k < 4 * Self.kills {  // until `kills` trainings were killed before finishing
      defer { k += 1 }
      var resume = FileManager.default.fileExists(atPath: path)
      var done = resume ? Int(try Safetensors.read(path).metadata["epoch"] ?? "0") ?? 0 : 0
      if done == 3 {
        try FileManager.default.removeItem(atPath: path)
        (resume, done) = (false, 0)
      }
      let p = try startEphys(arguments + ["--out", "ck.safetensors"] + (resume ? ["--resume"] : []), in: dir)
      // Anywhere in what is left of the training (start-up, epochs, checkpoint writes), or just after.
      let remaining = duration * (Double(3 - done) + 0.3) / 3
      if Self.kill(p, after: rng.nextUnit() * remaining) {
        killed += 1
      } else {
        p.waitUntilExit()
        duration *= 0.8  // it finished first: the machine is quicker now than when the reference ran
      }
      guard FileManager.default.fileExists(atPath: path) else {
        #expect(!resume, "kill \(k): the checkpoint being resumed disappeared")
        continue
      }
      // Whatever is there is one whole checkpoint: weights and the optimiser state of the same epoch.
      let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
      let archive = try Safetensors.decode([UInt8](bytes))
      let epoch = try #require(archive.metadata["epoch"], "kill \(k)")
      let state = try #require(TrainingCheckpoint.optimizerState(archive), "kill \(k): no optimiser state")
      let steps = Set(try state.tensors.filter { $0.name.hasPrefix("t/") }.map { try $0.ints()[0] })
      #expect(steps.count == 1, "kill \(k): optimiser step counts differ between parameters: \(steps)")
      if let seen = byEpoch[epoch] {
        #expect(seen == bytes, "kill \(k): the epoch-\(epoch) checkpoint differs from the one seen before")
      } else {
        byEpoch[epoch] = bytes
      }
    }
    #expect(killed == Self.kills, "only \(killed) of \(k) trainings were killed before they finished")
    print(
      "kill test (train): \(k) trainings, \(killed) killed, checkpoints seen for epochs \(byEpoch.keys.sorted())"
    )
    // The next command finishes from wherever the kills left it, with the uninterrupted run's weights.
    if FileManager.default.fileExists(atPath: path) {
      let finish = try runEphys(arguments + ["--out", "ck.safetensors", "--resume"], in: dir)
      #expect(finish.status == 0, "\(finish.err)")
    } else {
      let finish = try runEphys(arguments + ["--out", "ck.safetensors"], in: dir)
      #expect(finish.status == 0, "\(finish.err)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == finalReference)
  }
}
