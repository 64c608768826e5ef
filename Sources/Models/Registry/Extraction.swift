import Engine
import Foundation
import ImageIO
import ModelInterface

/// What `ephys extract` asks of a model: weights ("random": the default initialisation), an input batch
/// [N, C, H, W] already normalised, layer names, the output .npz, images per forward pass, settings of
/// the model's own by name (object attention: glimpses, passes, strength, theta), and progress.
public struct ExtractionRequest {
  public var weights: String
  public var input: Tensor<Float>
  public var layers: [String]
  public var out: String
  public var batchSize: Int
  public var settings: [String: Double]
  public var progress: (Int) -> Void

  public init(
    weights: String, input: Tensor<Float>, layers: [String], out: String, batchSize: Int,
    settings: [String: Double] = [:], progress: @escaping (Int) -> Void = { _ in }
  ) {
    self.weights = weights
    self.input = input
    self.layers = layers
    self.out = out
    self.batchSize = batchSize
    self.settings = settings
    self.progress = progress
  }
}

/// Why an extraction cannot run.
public struct ExtractionError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

extension ModelEntry {
  /// The network with weights from `weights`, or the default initialisation for "random".
  public func network(weights: String) throws -> Module {
    let module = weights == "random" ? make() : try load(weights)
    module.eval()
    return module
  }

  /// An input array as a batch for this model: float32 [N, C, H, W] of its size (or, for models that
  /// take any size, at least its minimum side), or [N, H, W] for one channel; errors name the file.
  public func inputBatch(_ a: StoredTensor, file: String) throws -> Tensor<Float> {
    let size = variableSize ? "H, W >= \(minimumSide)" : "\(height), \(width)"
    let expected = "float32 array [N, \(channels), \(size)]" + (channels == 1 ? " or [N, \(size)]" : "")
    var shape = a.shape
    if channels == 1 && shape.count == 3 { shape.insert(1, at: 1) }
    guard a.dtype == .f32, shape.count == 4, shape[0] > 0, shape[1] == channels,
      variableSize
        ? shape[2] >= minimumSide && shape[3] >= minimumSide : shape[2] == height && shape[3] == width
    else {
      throw CheckpointError("expected a \(expected), found \(a.dtype.rawValue) \(a.shape)", file: file)
    }
    return Tensor(shape: shape, scalars: try a.floats())
  }

  /// An image file prepared as the model's evaluation transform does: the shorter side resized to the
  /// model's side / `cropFraction` (antialiased bilinear on 8-bit values, as torchvision's `Resize` on a
  /// PIL image), the central
  /// height x width crop, grey or RGB to the model's channels, then normalised. Values [C, H, W].
  public func preprocess(_ image: RasterImage) -> [Float] {
    // torchvision's Resize(side): the shorter side becomes `side`, the longer int(side * long / short).
    let side = Int((Double(max(height, width)) / cropFraction).rounded())
    let short = min(image.height, image.width)
    let long = max(image.height, image.width)
    let stretched = max(side, Int(Double(side) * Double(long) / Double(short)))
    let h = max(height, image.height <= image.width ? side : stretched)
    let w = max(width, image.height <= image.width ? stretched : side)
    let planes: [Float]
    let c: Int
    if channels == 1 {
      planes = image.luminance()
      c = 1
    } else {
      planes = image.rgb().planarFloats()
      c = 3
    }
    let resized = resampleBilinear(
      planes, channels: c, height: image.height, width: image.width, toHeight: h, toWidth: w, eightBit: true)
    let top = (h - height) / 2
    let left = (w - width) / 2
    var out = [Float](repeating: 0, count: channels * height * width)
    for ch in 0..<channels {
      let (mean, std) = normalization.stats(channel: ch)
      for y in 0..<height {
        for x in 0..<width {
          let v = resized[(min(ch, c - 1) * h + top + y) * w + left + x]
          out[(ch * height + y) * width + x] = (v - mean) / std
        }
      }
    }
    return out
  }
}

/// The generic extraction: the named modules' outputs captured by forward hooks, [N, C, H, W] (or
/// [N, F] for fully connected layers), and `logits`, streamed batch by batch into the .npz.
func extractModuleOutputs(_ entry: ModelEntry, _ r: ExtractionRequest) throws {
  if let unknown = r.settings.keys.sorted().first {
    throw ExtractionError("\(entry.name) has no setting '\(unknown)' (settings apply to models with glimpses)")
  }
  let net = try entry.network(weights: r.weights)
  let modules = try r.layers.map { name -> Module in
    guard let m = net.module(named: name) else {
      throw ExtractionError(
        "unknown layer '\(name)'; \(entry.name) has \(entry.layers.map(\.name).joined(separator: ", ")) (any module name works: see `ephys models \(entry.name)`)"
      )
    }
    return m
  }
  let x = r.input
  let n = x.shape[0]
  let per = x.count / n
  let writer = NPZStreamWriter(path: r.out)
  var members: [NPYStreamWriter?] = Array(repeating: nil, count: r.layers.count + 1)
  var start = 0
  while start < n {
    let count = min(r.batchSize, n - start)
    var captured = [Tensor<Float>?](repeating: nil, count: r.layers.count)
    let handles = modules.enumerated().map { k, m in m.registerForwardHook { _, _, y in captured[k] = y } }
    let xb = Tensor<Float>(
      shape: [count] + Array(x.shape.dropFirst()), scalars: Array(x.scalars[(start * per)..<((start + count) * per)]))
    let logits = withNoGrad { net(xb) }
    for h in handles { h.remove() }
    if let failure = (net as? FailableForward)?.failure { throw failure }
    for (k, t) in (captured.map { $0! } + [logits]).enumerated() {
      if members[k] == nil {
        let name = k < r.layers.count ? r.layers[k] : "logits"
        members[k] = try writer.member(name, shape: [n] + Array(t.shape.dropFirst()))
      }
      try members[k]!.append(t.scalars)
    }
    start += count
    r.progress(start)
  }
  try writer.finish()
}
