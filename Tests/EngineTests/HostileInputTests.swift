import Foundation
import Testing

@testable import Engine

/// The repository root (for the fuzz corpus of hostile files).
func repositoryRoot() -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .path
}

/// A file of the fuzz corpus (fuzz/corpus, written by scripts/fuzz/make_corpus.py).
func corpusFile(_ relative: String) throws -> [UInt8] {
  try readFileBytes(repositoryRoot() + "/fuzz/corpus/" + relative)
}

/// Well-formed but hostile tensor files: each once crashed a reader or asked for gigabytes; each
/// must now be refused with a `CheckpointError` that says why, without allocating what it asks for.
@Suite("Tensor files that lie about their sizes or refer to themselves")
struct HostileInputTests {
  /// Decodes under a read budget (256 MiB unless said) and returns the error message (nil if it decoded).
  static func refusal(budget: Int = 256 << 20, _ decode: () throws -> Void) -> String? {
    ReadBudget.$bytes.withValue(budget) {
      do {
        try decode()
        return nil
      } catch let e as CheckpointError {
        return e.message
      } catch {
        return "unexpected \(type(of: error)): \(error)"
      }
    }
  }

  @Test(
    "self-referential pickles (a dict or list inside itself, legacy cycles) are refused",
    arguments: [
      "pt/self-dict.pt", "pt/self-list.pt", "pt/legacy-self-dict.pt", "pt/legacy-cycle.pt", "pt/deep.pt",
    ])
  func selfReferential(_ file: String) throws {
    let bytes = try corpusFile(file)
    let message = Self.refusal { _ = try TorchCheckpoint.decode(bytes) }
    let m = try #require(message)
    #expect(!m.hasPrefix("unexpected"), "\(m)")
  }

  @Test("a dict stored into itself by SETITEM and a list by APPENDS") func handMadeSelfReference() {
    // PROTO 2, EMPTY_DICT, BINPUT 0, 'k', BINGET 0, SETITEM, STOP
    let dict: [UInt8] = [0x80, 2, 0x7D, 0x71, 0, 0x8C, 1, 0x6B, 0x68, 0, 0x73, 0x2E]
    // PROTO 2, EMPTY_LIST, BINPUT 0, MARK, BINGET 0, APPENDS, STOP
    let list: [UInt8] = [0x80, 2, 0x5D, 0x71, 0, 0x28, 0x68, 0, 0x65, 0x2E]
    for bytes in [dict, list] {
      let message = Self.refusal {
        var vm = RestrictedUnpickler(bytes)
        _ = try vm.run()
      }
      #expect(message?.contains("inside itself") == true, "\(message ?? "decoded")")
    }
  }

  @Test("a 649-byte .pt whose zero strides ask for 40 GB is refused before allocating") func zeroStrides() throws {
    let bytes = try corpusFile("pt/zero-stride.pt")
    let message = Self.refusal { _ = try TorchCheckpoint.decode(bytes) }
    #expect(message?.contains("read budget") == true, "\(message ?? "decoded")")
  }

  @Test("an .npz naming one 64 MiB member 64 times is refused before inflating any") func zipFanOut() throws {
    let bytes = try corpusFile("npz/one-member-64-times.npz")
    let clock = ContinuousClock()
    let start = clock.now
    let message = Self.refusal(budget: 16 << 30) { _ = try NPZ.decode(bytes) }  // even where 4 GiB would fit
    #expect(message?.contains("overlap") == true, "\(message ?? "decoded")")
    #expect(clock.now - start < .seconds(1), "refused before inflating: no 4 GiB of work")
  }

  @Test("a zip member that declares more than the budget is refused; a small one still inflates") func declaredSize()
    throws
  {
    let npz = NPZ.encode(
      TensorArchive(tensors: [StoredTensor(name: "a", shape: [1000], floats: .init(repeating: 1, count: 1000))]))
    #expect(Self.refusal { _ = try NPZ.decode(npz) } == nil)
    let message = Self.refusal(budget: 1000) { _ = try NPZ.decode(npz) }
    #expect(message?.contains("read budget") == true, "\(message ?? "decoded")")
  }

  @Test("safetensors entries overlapping one region cannot multiply memory past the budget") func overlapping() throws {
    let bytes = try corpusFile("safetensors/overlapping.safetensors")
    #expect(Self.refusal { _ = try Safetensors.decode(bytes) } == nil)  // 2 MB: within 256 MiB
    let message = Self.refusal(budget: 1 << 20) { _ = try Safetensors.decode(bytes) }
    #expect(message?.contains("read budget") == true, "\(message ?? "decoded")")
  }

  @Test("a training checkpoint holds the optimiser state and still loads as plain weights") func trainingCheckpoint()
    throws
  {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-ck-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    var rng = RandomGenerator(seed: 1)
    let net = Linear(3, 2, rng: &rng)
    let optimizer = TensorArchive(tensors: [StoredTensor(name: "m/0", shape: [6], floats: [1, 2, 3, 4, 5, 6])])
    try TrainingCheckpoint.write(
      weights: net.stateDict(), optimizer: optimizer, metadata: ["epoch": "2"], to: dir + "/c.safetensors")
    let archive = try Safetensors.read(dir + "/c.safetensors")
    #expect(TrainingCheckpoint.optimizerState(archive)?.tensors.map(\.name) == ["m/0"])
    #expect(archive.metadata["epoch"] == "2")
    let other = Linear(3, 2, rng: &rng)
    try other.load(from: dir + "/c.safetensors")  // strict: optimiser tensors are not "unexpected"
    #expect(other.stateDict() == net.stateDict())
  }
}
