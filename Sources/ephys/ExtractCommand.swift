import ArgumentParser
import Engine
import Foundation
import Models

/// `ephys extract`: layer activations of a model for an input array, as NPZ (thingsvision-style).
struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Record layer activations of a model for a float32 input array and write them as .npz.",
    discussion: """
      object-attention-mnist / object-attention-coco: runs the glimpse dynamics and writes, per requested layer,
      the post-ReLU (pre-pool) conv output at the last pass of each glimpse as [N, glimpses, C, H, W], plus
      logits [N, glimpses, classes] and gated_input [N, glimpses, C, H, W]. Input [N, C, H, W] (or [N, H, W]
      for one channel). Every other model of `ephys models` (the torchvision zoo, smoke-cnn): the outputs of the
      named modules (PyTorch names, e.g. features.29 or layer3.1) as [N, C, H, W] ([N, F] after flattening)
      and logits; the input is [N, C, H, W] float32, already normalised as the model expects (ImageNet
      mean/std for the zoo), of the model's size or, for the zoo, any size of at least its minimum.
      """)

  @Option(help: "A model of `ephys models` (object-attention-mnist, vgg16, resnet50, ...).") var model: String
  @Option(help: "Weights: safetensors or PyTorch .pt state_dict.") var weights: String
  @Option(help: "Input .npy (float32).") var input: String
  @Option(help: "Comma-separated layer names.") var layers = "conv1,conv2"
  @Option(help: "Output .npz.") var out: String
  @Option(help: "Glimpses (object-attention).") var glimpses = 2
  @Option(help: "Passes per glimpse (object-attention).") var passes = 5
  @Option(help: "Gating strength s (object-attention; default: checkpoint's, else the paper's).") var strength: Float?
  @Option(help: "IOR threshold theta (object-attention).") var theta: Float = 0.5
  @Option(help: "Images per batch.") var batch = 256

  func run() throws {
    let names = layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !names.isEmpty else { throw ValidationError("--layers names no layer") }
    guard batch > 0, glimpses > 0, passes >= 2 else {
      throw ValidationError("--batch and --glimpses must be positive, --passes at least 2")
    }
    let array = try NPY.read(input)
    switch model {
    case "object-attention-mnist", "object-attention-coco":
      let variant: ObjectAttentionConfig.Variant = model.hasSuffix("mnist") ? .mnist : .coco
      let defaults = ObjectAttentionConfig.preset(variant)
      let loaded = try ObjectAttentionNet.load(from: weights, defaults: defaults)
      var config = loaded.config
      config.objects = glimpses  // glimpses run; the input size stays the checkpoint's
      config.passes = passes
      config.iorThreshold = theta
      if let strength { config.strength = strength }
      let net = ObjectAttentionNet(config, seed: 0)
      try net.loadStateDict(loaded.stateDict())
      let x = try config.inputBatch(array, file: input)
      var bar = ProgressBar(total: x.shape[0], label: "extract", unit: "img")
      try net.extract(x, layers: names, into: NPZStreamWriter(path: out), batchSize: batch) {
        bar.update($0, items: $0)
      }
    default:
      guard let entry = ModelRegistry.entry(model) else {
        throw ValidationError("unknown --model '\(model)'; models: \(ModelRegistry.names.joined(separator: ", "))")
      }
      let net = try entry.load(weights)
      let x = try inputBatch(array, for: entry)
      try extractModules(net, x, names: names, out: out)
    }
    say("wrote \(out)")
  }

  /// The input array as a batch for `entry`: float32 [N, C, H, W] of its size (or any size of at
  /// least its minimum for models that take any), or [N, H, W] for one channel; errors name the file.
  func inputBatch(_ a: StoredTensor, for entry: ModelEntry) throws -> Tensor<Float> {
    let c = entry.channels
    let size = entry.variableSize ? "H, W >= \(entry.minimumSide)" : "\(entry.height), \(entry.width)"
    let expected = "float32 array [N, \(c), \(size)]"
    var shape = a.shape
    if c == 1 && shape.count == 3 { shape.insert(1, at: 1) }
    guard a.dtype == .f32, shape.count == 4, shape[0] > 0, shape[1] == c,
      entry.variableSize
        ? shape[2] >= entry.minimumSide && shape[3] >= entry.minimumSide
        : shape[2] == entry.height && shape[3] == entry.width
    else {
      throw CheckpointError("expected a \(expected), found \(a.dtype.rawValue) \(a.shape)", file: input)
    }
    return Tensor(shape: shape, scalars: try a.floats())
  }

  /// Records named module outputs of a feedforward model with forward hooks (copies, not references).
  func extractModules(_ net: Module, _ x: Tensor<Float>, names: [String], out: String) throws {
    var recorded: [String: [Tensor<Float>]] = [:]
    var handles: [HookHandle] = []
    for name in names {
      guard let m = net.module(named: name) else {
        throw ValidationError(
          "unknown layer '\(name)'; this model has \(net.namedModules().map(\.name).filter { !$0.isEmpty }.joined(separator: ", "))"
        )
      }
      handles.append(m.registerForwardHook { _, _, y in recorded[name, default: []].append(y.copy()) })
    }
    defer { for h in handles { h.remove() } }
    var logits: [Float] = []
    var start = 0
    let per = x.count / x.shape[0]
    while start < x.shape[0] {
      let n = min(batch, x.shape[0] - start)
      let xb = Tensor<Float>(
        shape: [n] + Array(x.shape.dropFirst()), scalars: Array(x.scalars[(start * per)..<((start + n) * per)]))
      logits += withNoGrad { net(xb) }.scalars
      start += n
    }
    var archive = TensorArchive()
    for name in names {
      let parts = recorded[name] ?? []
      archive.tensors.append(
        StoredTensor(
          name: name, shape: [x.shape[0]] + Array(parts[0].shape.dropFirst()), floats: parts.flatMap(\.scalars)))
    }
    archive.tensors.append(
      StoredTensor(name: "logits", shape: [x.shape[0], logits.count / x.shape[0]], floats: logits))
    try NPZ.write(archive, to: out)
  }
}
