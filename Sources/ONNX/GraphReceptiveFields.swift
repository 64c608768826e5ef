import Engine

extension Graph {
  /// The window steps from the graph's image input to value `name`, read off the graph: convs and
  /// pools add a window (kernel from the weight or kernel_shape, strides, symmetric pads, dilations),
  /// global pooling, Flatten, Gemm and MatMul make every unit see the whole input, pointwise operators
  /// keep the geometry, and where paths join (Add, Mul, Concat on channels) the path whose units see
  /// the most is taken (the shortcut of a residual block lies inside its conv path). nil where the
  /// value is not reached through such a chain (Resize, Reshape, Transpose, Slice, Pad, ceil-mode or
  /// asymmetric windows): its fields must be measured (the RF-mapping protocol).
  public func windowSteps(to name: String) -> [WindowStep]? {
    allWindowSteps()[name]
  }

  /// The window steps of every value reached through a chain (one pass in topological order).
  public func allWindowSteps() -> [String: [WindowStep]] {
    var known: [String: [WindowStep]] = [:]
    for input in inputs { known[input.name] = [] }
    for node in nodes {
      guard let s = steps(node, known) else { continue }
      for o in node.outputs where !o.isEmpty { known[o] = s }
    }
    return known
  }

  /// How far the unit at the map's origin sees (rows), a measure to choose between joining paths.
  private static func extent(_ steps: [WindowStep]) -> Int {
    var size = 1
    var jump = 1
    for s in steps {
      switch s {
      case .window(let k, let st, _, let d):
        size += (k.h - 1) * d.h * jump
        jump *= st.h
      case .adaptive, .global: return Int.max
      }
    }
    return size
  }

  /// The steps to `node`'s outputs from those of its inputs (`known`), nil where the chain breaks.
  private func steps(_ node: Node, _ known: [String: [WindowStep]]) -> [WindowStep]? {
    let live = node.inputs.filter { !$0.isEmpty && constants[$0] == nil }
    func chain(_ i: Int) -> [WindowStep]? {
      guard i < node.inputs.count, !node.inputs[i].isEmpty else { return nil }
      return known[node.inputs[i]]
    }
    func widest() -> [WindowStep]? {
      live.compactMap { known[$0] }.max { Self.extent($0) < Self.extent($1) }
    }
    switch node.opType {
    case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Clip", "Identity", "Dropout", "BatchNormalization",
      "LRN", "Cast", "Pow", "Not":
      return chain(0)
    case "Add", "Sub", "Mul", "Div", "Where", "Equal", "Greater", "Less":
      return widest()
    case "Concat":
      guard (try? node.int("axis", 0)) == 1 else { return nil }
      return widest()
    case "Softmax", "LogSoftmax":
      guard (try? node.int("axis", opset >= 13 ? -1 : 1)) == 1 else { return nil }
      return chain(0)
    case "Conv":
      guard let before = chain(0), node.inputs.count > 1, let w = constants[node.inputs[1]], w.shape.count == 4,
        let window = try? WindowAttributes(node, kernel: Array(w.shape[2...]), input: [1 << 20, 1 << 20]),
        window.symmetric
      else { return nil }
      return before + [step(window)]
    case "MaxPool", "AveragePool":
      guard let before = chain(0), (try? node.int("ceil_mode", 0)) == 0, let k = try? node.ints("kernel_shape"),
        k.count == 2, let window = try? WindowAttributes(node, kernel: k, input: [1 << 20, 1 << 20]), window.symmetric
      else { return nil }
      return before + [step(window)]
    case "GlobalAveragePool", "Flatten", "Gemm", "MatMul", "ReduceMean", "ReduceSum":
      guard let before = chain(0) else { return nil }
      return before + [.global]
    default:
      return nil
    }
  }

  private func step(_ w: WindowAttributes) -> WindowStep {
    .window(
      kernel: Pair(w.kernel[0], w.kernel[1]), stride: Pair(w.strides[0], w.strides[1]),
      padding: Pair(w.begin[0], w.begin[1]), dilation: Pair(w.dilations[0], w.dilations[1]))
  }
}
