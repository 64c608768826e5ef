import Kernels

/// A removable forward hook registration; `remove()` detaches it.
public final class HookHandle {
  weak var module: Module?
  let id: Int
  init(module: Module, id: Int) {
    self.module = module
    self.id = id
  }
  /// Detaches the hook; later forwards no longer call it.
  public func remove() {
    module?.forwardHooks.removeValue(forKey: id)
    module?.forwardModifiers.removeValue(forKey: id)
  }
}

/// Base class of all layers and models, like torch.nn.Module: named parameters and buffers whose
/// keys match PyTorch's `state_dict` keys (`conv1.weight`, `features.0.bias`, `bn.running_mean`),
/// child modules, train/eval mode and forward hooks.
open class Module {
  /// Trainable tensors owned directly by this module, in registration order.
  public private(set) var ownParameters: [(name: String, tensor: Tensor<Float>)] = []
  /// Non-trainable state (e.g. BatchNorm running statistics), in registration order.
  public private(set) var ownBuffers: [(name: String, tensor: Tensor<Float>)] = []
  /// Buffers that PyTorch stores as integers (e.g. `num_batches_tracked`).
  public private(set) var integerBuffers: Set<String> = []
  /// Sub-modules, in registration order.
  public private(set) var children: [(name: String, module: Module)] = []
  /// Whether the module is in training mode (affects dropout and batch norm).
  public private(set) var isTraining = true
  fileprivate var forwardHooks: [Int: (Module, Tensor<Float>, Tensor<Float>) -> Void] = [:]
  fileprivate var forwardModifiers: [Int: (Module, Tensor<Float>, Tensor<Float>) -> Tensor<Float>] = [:]
  private var nextHookID = 0

  public init() {}

  /// Registers a trainable tensor under `name` (marks it as requiring gradients).
  public func registerParameter(_ name: String, _ tensor: Tensor<Float>) {
    tensor.requiresGrad = true
    ownParameters.append((name, tensor))
  }

  /// Registers a non-trainable tensor under `name`; `integer` ones are saved as I64 like PyTorch's.
  public func registerBuffer(_ name: String, _ tensor: Tensor<Float>, integer: Bool = false) {
    ownBuffers.append((name, tensor))
    if integer { integerBuffers.insert(name) }
  }

  /// Registers a child module under `name` (its keys become `name.<key>`).
  @discardableResult
  public func registerModule<M: Module>(_ name: String, _ module: M) -> M {
    children.append((name, module))
    return module
  }

  /// The layer's computation. Subclasses override; call the module itself (`m(x)`) so hooks run.
  open func forward(_ x: Tensor<Float>) -> Tensor<Float> {
    preconditionFailure("\(type(of: self)) does not implement forward(_:)")
  }

  /// Runs `forward`, then every forward modifier (which may replace the output), then every forward
  /// hook with (module, input, output).
  public func callAsFunction(_ x: Tensor<Float>) -> Tensor<Float> {
    var y = forward(x)
    if !forwardModifiers.isEmpty {
      for id in forwardModifiers.keys.sorted() { y = forwardModifiers[id]!(self, x, y) }
    }
    if !forwardHooks.isEmpty {
      for id in forwardHooks.keys.sorted() { forwardHooks[id]?(self, x, y) }
    }
    return y
  }

  /// Calls `hook(module, input, output)` after every forward of this module. Tensors are never
  /// modified in place, so what a hook keeps stays valid; use `copy()` to own the values.
  @discardableResult
  public func registerForwardHook(_ hook: @escaping (Module, Tensor<Float>, Tensor<Float>) -> Void) -> HookHandle {
    let id = nextHookID
    nextHookID += 1
    forwardHooks[id] = hook
    return HookHandle(module: self, id: id)
  }

  /// Replaces this module's output with `modifier(module, input, output)` on every forward (e.g. a
  /// spatial attention gain); runs before the forward hooks, so recorders see the modified output.
  @discardableResult
  public func registerForwardModifier(_ modifier: @escaping (Module, Tensor<Float>, Tensor<Float>) -> Tensor<Float>)
    -> HookHandle
  {
    let id = nextHookID
    nextHookID += 1
    forwardModifiers[id] = modifier
    return HookHandle(module: self, id: id)
  }

  /// Every module below and including this one, with dotted names ("" for self).
  public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
    var out: [(String, Module)] = [(prefix, self)]
    for (n, c) in children { out += c.namedModules(prefix: prefix.isEmpty ? n : prefix + "." + n) }
    return out
  }

  /// The module at a dotted path (e.g. "features.3"), if any.
  public func module(named path: String) -> Module? {
    namedModules().first { $0.name == path }?.module
  }

  /// All trainable tensors with their state_dict keys.
  public func namedParameters() -> [(name: String, tensor: Tensor<Float>)] {
    namedModules().flatMap { (prefix, m) in
      m.ownParameters.map { (prefix.isEmpty ? $0.name : prefix + "." + $0.name, $0.tensor) }
    }
  }

  /// All trainable tensors.
  public func parameters() -> [Tensor<Float>] { namedParameters().map(\.tensor) }

  /// Parameters and buffers with their keys, in PyTorch's state_dict order (per module: parameters, then buffers).
  public func namedState() -> [(name: String, tensor: Tensor<Float>, integer: Bool)] {
    namedModules().flatMap { (prefix, m) -> [(name: String, tensor: Tensor<Float>, integer: Bool)] in
      let key = { (n: String) in prefix.isEmpty ? n : prefix + "." + n }
      return m.ownParameters.map { (key($0.name), $0.tensor, false) }
        + m.ownBuffers.map { (key($0.name), $0.tensor, m.integerBuffers.contains($0.name)) }
    }
  }

  /// Switches this module and all children to training (`true`) or evaluation mode.
  public func train(_ on: Bool = true) {
    for (_, m) in namedModules() { m.isTraining = on }
  }

  /// Switches to evaluation mode.
  public func eval() { train(false) }

  /// Clears the gradients of all parameters.
  public func zeroGrad() { for p in parameters() { p.grad = nil } }

  /// The module's weights as an archive (F32; integer buffers as I64), keys as in PyTorch.
  public func stateDict() -> TensorArchive {
    var a = TensorArchive()
    for (name, t, integer) in namedState() {
      if integer {
        a.tensors.append(StoredTensor(name: name, shape: t.shape, ints: t.scalars.map { Int($0) }))
      } else {
        a.tensors.append(StoredTensor(name: name, shape: t.shape, floats: t.scalars))
      }
    }
    return a
  }

  /// Copies weights from an archive into this module. Every key must exist with the same shape;
  /// with `strict`, unexpected keys are errors too. Nothing is changed unless everything matches.
  public func loadStateDict(_ archive: TensorArchive, strict: Bool = true) throws {
    let state = namedState()
    var problems: [String] = []
    var updates: [(Tensor<Float>, [Float])] = []
    let stored = Dictionary(archive.tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    for (name, t, integer) in state {
      guard let s = stored[name] else {
        problems.append("missing tensor '\(name)' (expected shape \(t.shape))")
        continue
      }
      guard s.shape == t.shape else {
        problems.append("tensor '\(name)': expected shape \(t.shape), found \(s.shape)")
        continue
      }
      do {
        let values = integer && !s.dtype.isFloatingPoint ? try s.ints().map { Float($0) } : try s.floats()
        updates.append((t, values))
      } catch let e as CheckpointError {
        problems.append(e.message)
      }
    }
    if strict {
      let known = Set(state.map(\.name))
      for s in archive.tensors where !known.contains(s.name) && !s.name.hasPrefix(TrainingCheckpoint.optimizerPrefix) {
        problems.append("unexpected tensor '\(s.name)' \(s.shape) (not part of \(type(of: self)))")
      }
    }
    guard problems.isEmpty else {
      throw CheckpointError("weights do not fit \(type(of: self)):\n  " + problems.joined(separator: "\n  "))
    }
    for (t, v) in updates { t.assign(v) }
  }

  /// Loads weights from a safetensors, PyTorch .pt/.pth or .npz file.
  public func load(from path: String, strict: Bool = true) throws {
    let archive = try readTensorFile(path)
    do { try loadStateDict(archive, strict: strict) } catch let e as CheckpointError { throw e.inFile(path) }
  }

  /// Saves the weights as safetensors, atomically.
  public func save(to path: String, metadata: [String: String] = [:]) throws {
    var a = stateDict()
    a.metadata = metadata
    try Safetensors.write(a, to: path)
  }
}

/// A module whose forward pass can fail on its input (an imported graph whose shapes do not fit):
/// `forward` cannot throw, so it returns an empty result and keeps the error here until the next
/// forward. Callers that run such modules check it after every call.
public protocol FailableForward: AnyObject {
  var failure: Error? { get }
}

/// A module that takes at most `batchLimit` images per forward pass (nil: any number), such as an
/// imported graph that bakes a batch of one into its shapes. It splits larger batches itself; callers
/// whose hooks or per-image gains must see a whole batch at once split to the limit first.
public protocol BatchLimited: AnyObject {
  var batchLimit: Int? { get }
}

/// A network whose classifier is not a `Linear` or `Conv2d` module (an imported graph): the layer whose
/// output is the class scores, and the weight tensor [classes, features] (or [classes, C, kh, kw]) its
/// linear or conv op multiplies by (the same tensor object every forward pass uses).
public protocol ClassifierProviding: AnyObject {
  var classifier: (layer: String, weight: Tensor<Float>)? { get }
}
