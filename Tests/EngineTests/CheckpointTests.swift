import Foundation
import Testing

@testable import Engine

/// The small conv net of scripts/fixtures/make_model_fixtures.py, with PyTorch's keys.
func makeFixtureNet() -> Sequential {
  var rng = RandomGenerator(seed: 1)
  return Sequential([
    Conv2d(1, 4, kernel: 3, bias: false, rng: &rng), BatchNorm(4), ReLU(), MaxPool2d(kernel: 2), Flatten(),
    Linear(36, 5, rng: &rng),
  ])
}

@Suite("Checkpoints and modules")
struct CheckpointTests {
  static let io = try! Safetensors.read(fixturePath("model/net_io.safetensors"))

  @Test("state_dict keys follow PyTorch") func keys() {
    let names = makeFixtureNet().stateDict().names
    #expect(
      names == [
        "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "5.weight",
        "5.bias",
      ])
  }

  @Test(
    "a PyTorch .pt and a safetensors file give PyTorch's outputs",
    arguments: ["net_init.pt", "net_init_legacy.pt", "net_init.safetensors"])
  func loadAndRun(_ file: String) throws {
    let net = makeFixtureNet()
    try net.load(from: fixturePath("model/" + file))
    net.eval()
    let y = withNoGrad { net(try! Self.io.require("x").tensor()) }
    let err = relativeError(y.scalars, try Self.io.require("eval_out").floats())
    #expect(err < 1e-6, "\(file): output relative error \(err)")
  }

  @Test("save/load round trip is bit-exact (safetensors, npz)") func roundTrip() throws {
    let net = makeFixtureNet()
    try net.load(from: fixturePath("model/net_init.pt"))
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-rt-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("net.safetensors").path
    try net.save(to: path, metadata: ["note": "first"])
    try net.save(to: path, metadata: ["note": "round trip"])  // replacing an existing file
    let again = makeFixtureNet()
    try again.load(from: path)
    for (a, b) in zip(net.namedState(), again.namedState()) {
      #expect(a.name == b.name)
      #expect(a.tensor.scalars.map(\.bitPattern) == b.tensor.scalars.map(\.bitPattern), "\(a.name) differs")
    }
    let archive = try Safetensors.read(path)
    #expect(archive.metadata["note"] == "round trip")
    #expect(try Safetensors.encode(archive) == (try readFileBytes(path)))
    let npz = dir.appendingPathComponent("net.npz").path
    try NPZ.write(net.stateDict(), to: npz)
    #expect(try NPZ.read(npz) == net.stateDict())
  }

  @Test("wrapped checkpoints, strides and dtypes from torch.save") func torchVariants() throws {
    let wrapped = try TorchCheckpoint.read(fixturePath("model/wrapped.pt"))
    #expect(wrapped.names.contains("0.weight"))
    let s = try TorchCheckpoint.read(fixturePath("model/strided.pt"))
    #expect(try s.require("transposed").floats() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    #expect(try s.require("transposed").shape == [4, 3])
    #expect(try s.require("sliced").floats() == [1, 2, 5, 6, 9, 10])
    #expect(try s.require("f64").values(as: Double.self) == [0, 0.25, 0.5, 0.75, 1])
    #expect(try s.require("i64").ints() == [1, -2, 3])
    let f16 = try s.require("f16").floats()
    #expect(f16[0] == 0.5 && f16[1] == -1.25 && abs(f16[2] - 3e-5) < 1e-7)
  }

  @Test("a pickle naming os.system is refused") func evil() {
    #expect {
      _ = try TorchCheckpoint.read(fixturePath("model/evil.pt"))
    } throws: { error in
      "\(error)".contains("refused to load global") && "\(error)".contains("system")
    }
  }

  @Test("NumPy archives: stored, compressed, Fortran order") func npz() throws {
    for file in ["arrays.npz", "arrays_compressed.npz"] {
      let a = try NPZ.read(fixturePath("model/" + file))
      #expect(try a.require("f32").floats() == [0, 1, 2, 3, 4, 5])
      #expect(try a.require("i64").ints() == [5, -7])
      #expect(try a.require("mask").ints() == [1, 0, 1])
      #expect(try a.require("fortran").values(as: Double.self) == [0, 1, 2, 3, 4, 5])
      #expect(try a.require("scalar").shape == [])
    }
  }

  @Test("shape mismatch names the tensor and both shapes; nothing is changed") func mismatch() throws {
    var rng = RandomGenerator(seed: 5)
    let other = Sequential([Conv2d(1, 4, kernel: 5, rng: &rng)])
    let before = other.parameters().map(\.scalars)
    #expect {
      try other.load(from: fixturePath("model/net_init.pt"))
    } throws: { error in
      let text = "\(error)"
      return text.contains("'0.weight': expected shape [4, 1, 5, 5], found [4, 1, 3, 3]")
        && text.contains("net_init.pt")
        && text.contains("unexpected tensor '5.weight'")
    }
    #expect(other.parameters().map(\.scalars) == before)
    // Wrong dtype: an integer tensor where weights are expected.
    var a = makeFixtureNet().stateDict()
    a.tensors[0] = StoredTensor(name: "0.weight", shape: [4, 1, 3, 3], ints: Array(0..<36))
    #expect { try makeFixtureNet().loadStateDict(a) } throws: { "\($0)".contains("'0.weight' has dtype I64") }
  }

  @Test("forward hooks see outputs and can be removed") func hooks() throws {
    let net = makeFixtureNet()
    net.eval()
    var seen: [[Int]] = []
    let handle = net.module(named: "0")!.registerForwardHook { _, _, out in seen.append(out.copy().shape) }
    let x = Tensor<Float>.zeros([2, 1, 8, 8])
    _ = withNoGrad { net(x) }
    handle.remove()
    _ = withNoGrad { net(x) }
    #expect(seen == [[2, 4, 6, 6]])
  }
}

@Suite("Optimiser parity (20 steps vs PyTorch)")
struct OptimizerParityTests {
  @Test("parameters after 20 steps", arguments: ["sgd", "sgd_nesterov", "adam", "adamw"])
  func twentySteps(_ name: String) throws {
    let io = CheckpointTests.io
    let net = makeFixtureNet()
    try net.load(from: fixturePath("model/net_init.pt"))
    net.train()
    let params = net.parameters()
    let opt: Optimizer
    switch name {
    case "sgd": opt = SGD(params, lr: 0.05, momentum: 0.9, weightDecay: 1e-3)
    case "sgd_nesterov": opt = SGD(params, lr: 0.05, momentum: 0.9, nesterov: true)
    case "adam": opt = Adam(params, lr: 1e-2, weightDecay: 1e-3)
    default: opt = Adam.adamW(params, lr: 1e-2)
    }
    let x: Tensor<Float> = try io.require("x").tensor()
    let y = try io.require("y").intTensor()
    var loss: Float = 0
    for _ in 0..<20 {
      opt.zeroGrad()
      let l = crossEntropy(net(x), y)
      l.backward()
      opt.step()
      loss = l.item
    }
    var worst = 0.0
    for (key, t, _) in net.namedState() {
      let ref = try io.require("\(name)/\(key)")
      let err = relativeError(
        t.scalars, ref.dtype.isFloatingPoint ? try ref.floats() : try ref.ints().map { Float($0) })
      worst = max(worst, err)
      #expect(err <= 1e-5, "\(name) \(key): relative error \(err)")
    }
    print(
      "OPTIM \(name): worst parameter relative error \(worst), final loss \(loss) vs \(try io.require("\(name)/final_loss").floats()[0])"
    )
  }
}
