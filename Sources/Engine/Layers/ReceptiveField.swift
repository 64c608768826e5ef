/// One step on the way from a network's input to a layer, as far as unit geometry goes: a sliding
/// window (conv or pool: kernel, stride, padding, dilation in pixels of the step's own input, per
/// axis), an adaptive average pool to a fixed size, or a step after which every unit sees the whole
/// input (flatten, linear).
public enum WindowStep: Sendable, Equatable {
  case window(kernel: Pair, stride: Pair, padding: Pair, dilation: Pair)
  case adaptive(Pair)
  case global
}

/// Modules that move units over the input plane say how (convs, pools, linear layers). Modules
/// without it (ReLU, BatchNorm, dropout) keep the geometry.
public protocol WindowLayer {
  var windowStep: WindowStep { get }
}

/// Modules with parallel paths (residual blocks) give the steps of the path whose units see the
/// most of the input (their shortcut's field lies inside it).
public protocol WindowPath {
  var windowSteps: [WindowStep] { get }
}

extension Conv2d: WindowLayer {
  public var windowStep: WindowStep {
    .window(kernel: Pair(weight.shape[2], weight.shape[3]), stride: stride, padding: padding, dilation: dilation)
  }
}
extension MaxPool2d: WindowLayer {
  public var windowStep: WindowStep { .window(kernel: kernel, stride: stride ?? kernel, padding: padding, dilation: 1) }
}
extension AvgPool2d: WindowLayer {
  public var windowStep: WindowStep { .window(kernel: kernel, stride: stride ?? kernel, padding: 0, dilation: 1) }
}
extension AdaptiveAvgPool2d: WindowLayer {
  public var windowStep: WindowStep { .adaptive(outputSize) }
}
extension Linear: WindowLayer {
  public var windowStep: WindowStep { .global }
}
extension Flatten: WindowLayer {
  public var windowStep: WindowStep { .global }
}

/// Where the units of one layer's map look in the input: the map's size and, per map position, the
/// input rows and columns its units see and the geometric centre of that field (input pixels).
public protocol UnitFieldMap: Sendable {
  /// Output height and width of the layer (nil when the layer does not fit the input).
  var outputSize: (height: Int, width: Int)? { get }
  /// The input rows and columns (clamped to the input) that the units at map position (y, x) see.
  func field(y: Int, x: Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>)
  /// The geometric centre (row, column; input pixels, not clamped) of position (y, x)'s field.
  func centre(y: Int, x: Int) -> (y: Double, x: Double)
}

/// The receptive fields of one layer's units: the steps from the input to the layer, and the
/// input size. Computed from the layer chain, so any architecture built from convs and pools gets
/// exact unit geometry (including the borders, where padding cuts fields short).
public struct ReceptiveFieldMap: UnitFieldMap, Equatable {
  public let steps: [WindowStep]
  /// Input height and width, pixels.
  public let inputHeight, inputWidth: Int
  /// The input size of every step and the layer's output size, in order (empty when a step does not
  /// fit its input); computed once, since `field(y:x:)` runs for every unit.
  let sizes: [Pair]

  public init(steps: [WindowStep], inputHeight: Int, inputWidth: Int) {
    self.steps = steps
    self.inputHeight = inputHeight
    self.inputWidth = inputWidth
    sizes = Self.sizes(steps, Pair(inputHeight, inputWidth))
  }

  /// The steps from `module`'s input to the output of its descendant `layer` (a dotted PyTorch
  /// module name, e.g. "features.29" or "layer3.1"), in forward order; nil when there is no such
  /// layer. Children are taken in registration order, which is forward order for the zoo's models.
  public static func steps(in module: Module, to layer: String) -> [WindowStep]? {
    var steps: [WindowStep] = []
    return walk(module, name: "", to: layer, into: &steps) ? steps : nil
  }

  /// Appends the steps of `module` (called `name`) to `steps`, stopping at `layer`; true once reached.
  static func walk(_ module: Module, name: String, to layer: String, into steps: inout [WindowStep]) -> Bool {
    if name != layer && (name.isEmpty || layer.hasPrefix(name + ".")) {
      // The target lies inside: walk the children in order until it is reached.
      for (childName, child) in module.children {
        if walk(child, name: name.isEmpty ? childName : name + "." + childName, to: layer, into: &steps) {
          return true
        }
      }
      return false
    }
    steps += allSteps(module)  // the whole module comes before the target, or is the target
    return name == layer
  }

  /// Every step of `module`: its own, its longest path's, or its children's in order.
  static func allSteps(_ module: Module) -> [WindowStep] {
    if let path = module as? WindowPath { return path.windowSteps }
    if let layer = module as? WindowLayer { return [layer.windowStep] }
    return module.children.flatMap { allSteps($0.module) }
  }

  /// Output height and width of the layer (nil when a step does not fit its input).
  public var outputSize: (height: Int, width: Int)? {
    sizes.last.map { ($0.h, $0.w) }
  }

  static func sizes(_ steps: [WindowStep], _ input: Pair) -> [Pair] {
    var size = input
    var out = [size]
    for s in steps {
      switch s {
      case .window(let k, let st, let p, let d):
        let h = (size.h + 2 * p.h - d.h * (k.h - 1) - 1) / st.h + 1
        let w = (size.w + 2 * p.w - d.w * (k.w - 1) - 1) / st.w + 1
        guard h >= 1, w >= 1 else { return [] }
        size = Pair(h, w)
      case .adaptive(let o): size = o
      case .global: size = Pair(1, 1)
      }
      out.append(size)
    }
    return out
  }

  /// The input rows and columns that unit (y, x) of the layer sees (clamped to the input): window
  /// steps are walked back from the unit, index ranges [a, b] becoming [a s - p, b s - p + d (k - 1)];
  /// adaptive pools use PyTorch's bins [floor(i I / O), ceil((i + 1) I / O) - 1].
  public func field(y: Int, x: Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>) {
    guard sizes.count == steps.count + 1 else { return (0...(inputHeight - 1), 0...(inputWidth - 1)) }
    var rows = y...y
    var cols = x...x
    for (i, s) in steps.enumerated().reversed() {
      let input = sizes[i]
      func back(_ r: ClosedRange<Int>, _ k: Int, _ st: Int, _ p: Int, _ d: Int, _ n: Int) -> ClosedRange<Int> {
        max(0, r.lowerBound * st - p)...min(n - 1, r.upperBound * st - p + d * (k - 1))
      }
      func bins(_ r: ClosedRange<Int>, _ o: Int, _ n: Int) -> ClosedRange<Int> {
        (r.lowerBound * n / o)...(((r.upperBound + 1) * n + o - 1) / o - 1)
      }
      switch s {
      case .window(let k, let st, let p, let d):
        rows = back(rows, k.h, st.h, p.h, d.h, input.h)
        cols = back(cols, k.w, st.w, p.w, d.w, input.w)
      case .adaptive(let o):
        rows = bins(rows, o.h, input.h)
        cols = bins(cols, o.w, input.w)
      case .global:
        rows = 0...(input.h - 1)
        cols = 0...(input.w - 1)
      }
    }
    return (rows, cols)
  }

  /// The centre (row, column; input pixels, not clamped to the input) of unit (y, x)'s receptive
  /// field: window steps map a centre c to c s - p + d (k - 1) / 2; adaptive pools to their bin's
  /// centre; global pools to the input's centre.
  public func centre(y: Int, x: Int) -> (y: Double, x: Double) {
    guard sizes.count == steps.count + 1 else { return (Double(inputHeight - 1) / 2, Double(inputWidth - 1) / 2) }
    var cy = Double(y)
    var cx = Double(x)
    for (i, s) in steps.enumerated().reversed() {
      let input = sizes[i]
      switch s {
      case .window(let k, let st, let p, let d):
        cy = cy * Double(st.h) - Double(p.h) + Double(d.h * (k.h - 1)) / 2
        cx = cx * Double(st.w) - Double(p.w) + Double(d.w * (k.w - 1)) / 2
      case .adaptive(let o):
        // Fractional positions map through the bin edges i I / O.
        cy = (cy + 0.5) * Double(input.h) / Double(o.h) - 0.5
        cx = (cx + 0.5) * Double(input.w) / Double(o.w) - 0.5
      case .global:
        cy = Double(input.h - 1) / 2
        cx = Double(input.w - 1) / 2
      }
    }
    return (cy, cx)
  }
}
