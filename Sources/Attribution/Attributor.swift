import Engine
import Foundation
import Kernels

/// A request that cannot be met: an unknown layer, a class out of range, a method that needs a
/// layout the network does not have. The message names what is wrong and what would work.
public struct AttributionError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Where a method reads its map: `layer` (a module path such as `features.23` or `layer3`; nil for
/// the gradient family, which maps at the input, and for MWP and LRP at the input, channels summed) and, for contrastive MWP, `contrast` (the
/// classifier's input, e.g. `classifier.4` for VGG16, `avgpool` for ResNet-50).
public struct AttributionLayers: Sendable, Equatable {
  public var layer: String?
  public var contrast: String?
  public init(layer: String?, contrast: String? = nil) {
    self.layer = layer
    self.contrast = contrast
  }
}

/// Computes top-down attention maps of a network (any `Module` whose output is class scores
/// [N, K] or score maps [N, K, h, w]) for one class per image.
///
/// The top-down signal is one-hot on the class for a score vector and exp(score) normalised over
/// positions for a score map (TorchRay's pointing set-up); LRP starts from the class score itself
/// (R = score at the class, 0 elsewhere). Maps come at the layer's resolution, [N, h, w]: the
/// gradient family at the input's. The network runs in evaluation mode; its parameters get no
/// gradients, and must not change while the attributor is used (it keeps max(W, 0) per layer). Not
/// thread-safe on one network: give each thread its own copy.
public struct Attributor {
  public let model: Module
  /// The classifier layer contrastive MWP negates and CAM reads: the last conv or linear module
  /// (as TorchRay finds it), by path.
  public let classifier: String
  /// Clamped weights for Excitation Backprop, computed once per attributor.
  let positiveWeights = PositiveWeights()

  /// An attributor for `model`; `classifier` defaults to the network's own (`ClassifierProviding`), else
  /// the last conv or linear module.
  public init(model: Module, classifier: String? = nil) throws {
    self.model = model
    let provided = (model as? ClassifierProviding)?.classifier?.layer
    if let classifier {
      guard
        model.module(named: classifier) is Linear || model.module(named: classifier) is Conv2d || classifier == provided
      else {
        throw AttributionError("classifier layer '\(classifier)' is not a conv or linear module of the network")
      }
      self.classifier = classifier
    } else if let provided {
      self.classifier = provided
    } else {
      guard let last = model.namedModules().last(where: { $0.module is Linear || $0.module is Conv2d }) else {
        throw AttributionError("the network has no conv or linear layer to treat as its classifier")
      }
      self.classifier = last.name
    }
  }

  /// The classifier's weight tensor.
  func classifierWeight() throws -> Tensor<Float> {
    if let provided = (model as? ClassifierProviding)?.classifier, provided.layer == classifier {
      return provided.weight
    }
    guard let weight = model.module(named: classifier)?.ownParameters.first(where: { $0.name == "weight" })?.tensor
    else {
      throw AttributionError("classifier '\(classifier)' has no weight")
    }
    return weight
  }

  /// Maps [N, h, w] of `method` for class `classes[n]` of image n of `input` [N, C, H, W]
  /// (already normalised as the network expects).
  public func maps(
    _ input: Tensor<Float>, classes: [Int], method: AttributionMethod, layers: AttributionLayers
  ) throws -> Tensor<Float> {
    guard input.rank == 4 else { throw AttributionError("input must be [N, C, H, W], got \(input.shape)") }
    guard classes.count == input.shape[0] else {
      throw AttributionError("\(classes.count) classes for \(input.shape[0]) images: give one class per image")
    }
    if method == .center { return centerMaps(input) }
    model.eval()
    let parameters = model.parameters()
    let flags = parameters.map(\.requiresGrad)
    for p in parameters { p.requiresGrad = false }
    defer { for (p, f) in zip(parameters, flags) { p.requiresGrad = f } }
    if method.mapsAtInput { return try inputMaps(input, classes: classes, method: method) }
    if layers.layer == nil && [.mwp, .lrpEpsilon, .lrpZPlus].contains(method) {
      return try layerMaps(input, classes: classes, method: method, layer: nil)
    }
    guard let layerName = layers.layer else {
      throw AttributionError(
        "\(method.rawValue) maps at a layer: name one (e.g. features.23 for VGG16, layer3 for ResNet-50)")
    }
    let layer = try module(layerName)
    switch method {
    case .cam: return try camMaps(input, classes: classes, layer: layer, name: layerName)
    case .contrastiveMWP:
      guard let contrastName = layers.contrast else {
        throw AttributionError(
          "c-mwp needs a contrast layer, the classifier's input (classifier.4 for VGG16, avgpool for ResNet-50)")
      }
      return try contrastiveMaps(input, classes: classes, layer: layer, contrast: try module(contrastName))
    default:
      return try layerMaps(input, classes: classes, method: method, layer: layer)
    }
  }

  func module(_ name: String) throws -> Module {
    guard let m = model.module(named: name) else {
      let names = model.namedModules().map(\.name).filter { !$0.isEmpty }
      throw AttributionError(
        "no layer '\(name)' in the network; layers: \(names.prefix(40).joined(separator: ", "))\(names.count > 40 ? ", ..." : "")"
      )
    }
    return m
  }

  /// The top-down signal dL/d(output) for `classes`.
  func signal(_ output: Tensor<Float>, classes: [Int], scaledByScore: Bool = false) throws -> Tensor<Float> {
    let n = output.shape[0]
    let k = output.shape[1]
    for c in classes where c < 0 || c >= k {
      throw AttributionError("class \(c) is out of range: the network has \(k) outputs")
    }
    let inner = output.count / max(1, n * k)
    var s = [Float](repeating: 0, count: output.count)
    for i in 0..<n {
      let base = (i * k + classes[i]) * inner
      if output.rank == 2 {
        s[base] = scaledByScore ? output.scalars[base] : 1
      } else {
        let plane = output.scalars[base..<(base + inner)]
        let top = plane.max() ?? 0
        let e = plane.map { Foundation.exp(Double($0 - top)) }
        let total = e.reduce(0, +)
        for j in 0..<inner { s[base + j] = Float(e[j] / total) }
      }
    }
    return Tensor(shape: output.shape, scalars: s)
  }

  /// Rules in force while the forward pass records the graph.
  func rules(_ method: AttributionMethod, dual: DualClassifier? = nil) -> BackwardOverrides? {
    switch method {
    case .deconvnet: return RelevanceRules.deconvnet
    case .guided: return .guidedBackprop
    case .lrpEpsilon: return RelevanceRules.lrpEpsilon()
    case .lrpZPlus: return RelevanceRules.lrpZPlus
    case .mwp, .contrastiveMWP: return RelevanceRules.excitationBackprop(dual: dual, cache: positiveWeights)
    default: return nil
    }
  }

  func forward(_ x: Tensor<Float>, rules: BackwardOverrides?) -> Tensor<Float> {
    GradMode.$isEnabled.withValue(true) {
      if let rules { return withBackwardOverrides(rules) { model(x) } }
      return model(x)
    }
  }

  /// Runs the network with the output of `layer` replaced by a leaf that requires a gradient (the
  /// graph starts there); returns the output and that leaf (the last one if the module runs twice).
  func forwardFromLayer(_ x: Tensor<Float>, layer: Module, rules: BackwardOverrides?, also hook: Module? = nil)
    throws -> (output: Tensor<Float>, leaf: Tensor<Float>, hooked: Tensor<Float>?)
  {
    var leaf: Tensor<Float>? = nil
    var hooked: Tensor<Float>? = nil
    let modifier = layer.registerForwardModifier { _, _, y in
      let l = Tensor(shape: y.shape, scalars: y.scalars, requiresGrad: true)
      leaf = l
      return l
    }
    let handle = hook?.registerForwardHook { _, _, y in hooked = y }
    defer {
      modifier.remove()
      handle?.remove()
    }
    let out = forward(x, rules: rules)
    guard let leaf else { throw AttributionError("the map layer did not run in the forward pass") }
    guard out.requiresGrad else {
      throw AttributionError("the network's output does not depend on the map layer's output")
    }
    return (out, leaf, hooked)
  }

  func inputMaps(_ input: Tensor<Float>, classes: [Int], method: AttributionMethod) throws -> Tensor<Float> {
    let x = Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true)
    let out = forward(x, rules: rules(method))
    let g = out.gradients(wrt: [x], seed: try signal(out, classes: classes))[0]
    return channelReduce(g) { values in values.map(abs).max() ?? 0 }
  }

  /// Maps from the signal at `layer`'s output (at the input, summed over its channels, when nil).
  func layerMaps(_ input: Tensor<Float>, classes: [Int], method: AttributionMethod, layer: Module?) throws
    -> Tensor<Float>
  {
    let run: (output: Tensor<Float>, leaf: Tensor<Float>, hooked: Tensor<Float>?)
    if let layer {
      run = try forwardFromLayer(input, layer: layer, rules: rules(method))
    } else {
      let x = Tensor(shape: input.shape, scalars: input.scalars, requiresGrad: true)
      run = (forward(x, rules: rules(method)), x, nil)
    }
    let seed = try signal(run.output, classes: classes, scaledByScore: method == .lrpEpsilon || method == .lrpZPlus)
    let g = run.output.gradients(wrt: [run.leaf], seed: seed)[0]
    guard g.rank == 4 else { throw AttributionError("the map layer's output is \(g.shape), not a [N, C, h, w] map") }
    if method == .gradCAM { return gradCAM(activation: run.leaf, gradient: g) }
    return channelReduce(g) { $0.reduce(0, +) }
  }

  func contrastiveMaps(_ input: Tensor<Float>, classes: [Int], layer: Module, contrast: Module) throws -> Tensor<Float>
  {
    let weight = try classifierWeight()
    let dual = DualClassifier(weight: weight)
    let run = try forwardFromLayer(
      input, layer: layer, rules: rules(.contrastiveMWP, dual: dual), also: contrast)
    guard let at = run.hooked, at.requiresGrad else {
      throw AttributionError("the contrast layer must lie above the map layer (it did not run after it)")
    }
    let seed = try signal(run.output, classes: classes)
    let negative = dual.negated { run.output.gradients(wrt: [at], seed: seed)[0] }
    let positive = run.output.gradients(wrt: [at], seed: seed)[0]
    let difference = Tensor(shape: at.shape, scalars: zip(positive.scalars, negative.scalars).map(-))
    let g = at.gradients(wrt: [run.leaf], seed: difference)[0]
    guard g.rank == 4 else { throw AttributionError("the map layer's output is \(g.shape), not a [N, C, h, w] map") }
    let m = channelReduce(g) { $0.reduce(0, +) }
    return Tensor(shape: m.shape, scalars: m.scalars.map { max($0, 0) })
  }

  func camMaps(_ input: Tensor<Float>, classes: [Int], layer: Module, name: String) throws -> Tensor<Float> {
    let weight = try classifierWeight()
    var activation: Tensor<Float>? = nil
    let handle = layer.registerForwardHook { _, _, y in activation = y }
    defer { handle.remove() }
    let out = withNoGrad { model(input) }
    guard let a = activation, a.rank == 4 else { throw AttributionError("layer '\(name)' gave no [N, C, h, w] map") }
    let channels = a.shape[1]
    let k = weight.shape[0]
    guard weight.count == k * channels else {
      throw AttributionError(
        "CAM needs global average pooling and one linear classifier on '\(name)': the classifier '\(classifier)' has weight \(weight.shape), the layer \(channels) channels"
      )
    }
    for c in classes where c < 0 || c >= k || c >= out.shape[1] {
      throw AttributionError("class \(c) is out of range: the network has \(out.shape[1]) outputs")
    }
    let (n, hw) = (a.shape[0], a.shape[2] * a.shape[3])
    var m = [Float](repeating: 0, count: n * hw)
    for i in 0..<n {
      for ch in 0..<channels {
        let w = weight.scalars[classes[i] * channels + ch]
        let base = (i * channels + ch) * hw
        for j in 0..<hw { m[i * hw + j] += w * a.scalars[base + j] }
      }
    }
    return Tensor(shape: [n, a.shape[2], a.shape[3]], scalars: m)
  }

  func gradCAM(activation a: Tensor<Float>, gradient g: Tensor<Float>) -> Tensor<Float> {
    let (n, c, hw) = (a.shape[0], a.shape[1], a.shape[2] * a.shape[3])
    var m = [Float](repeating: 0, count: n * hw)
    for i in 0..<n {
      for ch in 0..<c {
        let base = (i * c + ch) * hw
        var mean: Float = 0
        for j in 0..<hw { mean += g.scalars[base + j] }
        mean /= Float(hw)
        for j in 0..<hw { m[i * hw + j] += a.scalars[base + j] * mean }
      }
    }
    return Tensor(shape: [n, a.shape[2], a.shape[3]], scalars: m.map { max($0, 0) })
  }

  /// A map with its single maximum at the centre pixel (H / 2, W / 2) (integer division): minus
  /// the squared distance to it.
  func centerMaps(_ input: Tensor<Float>) -> Tensor<Float> {
    let (n, h, w) = (input.shape[0], input.shape[2], input.shape[3])
    var m = [Float](repeating: 0, count: n * h * w)
    for i in 0..<n {
      for y in 0..<h {
        for x in 0..<w { m[(i * h + y) * w + x] = -Float((y - h / 2) * (y - h / 2) + (x - w / 2) * (x - w / 2)) }
      }
    }
    return Tensor(shape: [n, h, w], scalars: m)
  }
}

/// [N, C, h, w] -> [N, h, w]: `reduce` applied to the C values at each position.
func channelReduce(_ t: Tensor<Float>, _ reduce: ([Float]) -> Float) -> Tensor<Float> {
  let (n, c, hw) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
  var out = [Float](repeating: 0, count: n * hw)
  var column = [Float](repeating: 0, count: c)
  for i in 0..<n {
    for j in 0..<hw {
      for ch in 0..<c { column[ch] = t.scalars[(i * c + ch) * hw + j] }
      out[i * hw + j] = reduce(column)
    }
  }
  return Tensor(shape: [n, t.shape[2], t.shape[3]], scalars: out)
}
