import Engine

extension Graph {
  /// The receptive fields of every value computed from the image input `input` at height x width,
  /// read off the graph in one run on zeros (so sizes, pads, slices and resize taps are the ones the
  /// operators use at that size). Values missing from the result mix positions in a way no per-axis
  /// field describes (a Reshape or Transpose across channels and positions, a Gather of positions
  /// by a matrix, a softmax over positions) or are not computed from the image.
  ///
  /// Rules: convs and pools (any pads, ceil mode, dilation) add a window; ConvTranspose inverts one;
  /// Resize/Upsample take the hull of their taps' fields (centre: the taps' weighted mean); Pad and
  /// Slice move indices (a constant pad's positions see nothing, a reflected one sees its mirror);
  /// Transpose of H and W swaps the axes; global pools, reductions over H and W, Flatten, Gemm and
  /// MatMul give one position seeing all its input saw; pointwise operators keep the fields; joined
  /// paths (Add, Mul, Where, Concat on channels) take the hull of their fields per position; a path
  /// broadcast over positions (a squeeze-excitation gate, a global context vector) widens every
  /// position's field to what the gate sees (the response depends on it) but leaves the centres to
  /// the paths that vary over positions, so spatial gains and maps keep their places.
  public func unitFields(input: String, channels: Int, height: Int, width: Int) throws -> [String: ValueFields] {
    var known: [String: ValueFields] = [input: .input(height: height, width: width)]
    // Values whose numbers depend on the image's pixels (not only on its size, as Shape's do).
    var pixels: Set<String> = [input]
    let zeros = Tensor<Float>(
      shape: [1, channels, height, width], scalars: .init(repeating: 0, count: channels * height * width))
    _ = try withNoGrad {
      try execute([input: .float(zeros)], tap: nil) { call, outputs in
        let node = call.node
        if !["Shape", "Size"].contains(node.opType) && node.inputs.contains(where: { pixels.contains($0) }) {
          for o in node.outputs where !o.isEmpty { pixels.insert(o) }
        }
        let found = self.fields(call, outputs, known, pixels)
        for (k, o) in node.outputs.enumerated() where !o.isEmpty && k < min(outputs.count, found.count) {
          guard let f = found[k], Self.fits(f, outputs[k].shape) else { continue }
          known[o] = f
        }
      }
    }
    return known
  }

  /// Whether `f` describes a value of `shape` ([N, C, H, W] with its H and W, or [N, F] as one position).
  static func fits(_ f: ValueFields, _ shape: [Int]) -> Bool {
    guard f.axes.count == 2 else { return false }
    switch shape.count {
    case 4: return f.axes[0].count == shape[2] && f.axes[1].count == shape[3]
    case 2: return f.axes[0].count == 1 && f.axes[1].count == 1
    default: return false
    }
  }

  /// The fields of each output of the node in `call` (nil, or missing: unknown), from its inputs'.
  private func fields(
    _ call: OperatorCall, _ outputs: [GraphValue], _ known: [String: ValueFields], _ pixels: Set<String>
  ) -> [ValueFields?] {
    let node = call.node
    func fieldsOf(_ i: Int) -> ValueFields? {
      i < node.inputs.count && !node.inputs[i].isEmpty ? known[node.inputs[i]] : nil
    }
    let shape0 = call.inputs.first??.shape ?? []
    let out0 = outputs.first?.shape ?? []
    func every(_ f: ValueFields?) -> [ValueFields?] { Array(repeating: f, count: outputs.count) }
    guard let x = fieldsOf(0) else {
      // A join whose first input is a constant still follows its other inputs.
      let joins: Set = ["Add", "Sub", "Mul", "Div", "Where", "Pow", "Equal", "Greater", "Less", "Concat"]
      return joins.contains(node.opType) ? every(joinRule(call, outputs, known, pixels)) : []
    }
    switch node.opType {
    case "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Sqrt", "Clip", "Identity", "Dropout", "BatchNormalization",
      "LRN", "Cast", "Not":
      return every(x)
    case "Add", "Sub", "Mul", "Div", "Where", "Pow", "Equal", "Greater", "Less", "Expand":
      return every(joinRule(call, outputs, known, pixels))
    case "Concat":
      guard let axis = try? Shapes.axis(try node.int("axis", 0), rank: out0.count, node) else { return [] }
      if axis < 2 { return every(joinRule(call, outputs, known, pixels)) }
      let parts = node.inputs.filter { !$0.isEmpty }.map { known[$0] }
      guard out0.count == 4, parts.allSatisfy({ $0 != nil }) else { return [] }
      let a = axis - 2
      guard let along = AxisFields.concatenated(parts.map { $0!.axes[a] }),
        let across = AxisFields.joined(parts.map { $0!.axes[1 - a] })
      else { return [] }
      let f = x.with(a == 0 ? [along, across] : [across, along])
      return every(f)
    case "Split":
      guard let axis = try? Shapes.axis(try node.int("axis", 0), rank: shape0.count, node) else { return [] }
      if axis < 2 { return every(x) }
      let a = axis - 2
      var start = 0
      var parts: [ValueFields?] = []
      for o in outputs {
        guard o.shape.count == 4, start + o.shape[axis] <= x.axes[a].count else { return [] }
        var axes = x.axes
        axes[a] = x.axes[a].part(start..<(start + o.shape[axis]))
        parts.append(x.with(axes))
        start += o.shape[axis]
      }
      return parts
    case "Softmax", "LogSoftmax":
      let axis = (try? node.int("axis", call.opset >= 13 ? -1 : 1)) ?? 0
      let resolved = axis < 0 ? axis + shape0.count : axis
      return resolved == 1 && (shape0.count == 2 || call.opset >= 13) ? every(x) : []
    case "Conv", "MaxPool", "AveragePool", "LpPool":
      guard shape0.count == 4, out0.count == 4 else { return [] }
      let kernel: [Int]?
      if node.opType == "Conv" {
        kernel = call.inputs.count > 1 ? call.inputs[1].map { Array($0.shape.dropFirst(2)) } : nil
      } else {
        kernel = try? node.ints("kernel_shape")
      }
      guard let kernel, kernel.count == 2,
        let w = try? WindowAttributes(node, kernel: kernel, input: Array(shape0[2...]))
      else { return [] }
      let f = x.with(
        (0..<2).map { a in
          x.axes[a].window(
            kernel: w.kernel[a], stride: w.strides[a], begin: w.begin[a], dilation: w.dilations[a], size: out0[2 + a])
        })
      return every(f)
    case "ConvTranspose":
      guard shape0.count == 4, out0.count == 4, call.inputs.count > 1, let weight = call.inputs[1],
        weight.shape.count == 4,
        let t = try? TransposedWindow(node, input: Array(shape0[2...]), kernel: Array(weight.shape[2...]))
      else { return [] }
      let f = x.with(
        (0..<2).map { a in
          x.axes[a].transposedWindow(
            kernel: weight.shape[2 + a], stride: t.strides[a], begin: t.begin[a], dilation: t.dilations[a],
            size: out0[2 + a])
        })
      return every(f)
    case "GlobalAveragePool", "GlobalMaxPool":
      let f = x.with(x.axes.map { $0.collapsed() })
      return every(f)
    case "ReduceMean", "ReduceSum", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Gemm", "MatMul":
      if out0 == shape0 && (out0.count == 4 || out0.count == 2) { return every(x) }
      if out0.count == 4 && shape0.count == 4 && out0[0] == shape0[0] && node.opType.hasPrefix("Reduce") {
        // Reduced over H and/or W with keepdims: a reduced axis becomes one position seeing all of it.
        let f = x.with(
          (0..<2).map { a in out0[2 + a] == 1 && shape0[2 + a] > 1 ? x.axes[a].collapsed() : x.axes[a] })
        return every(f)
      }
      guard out0.count == 2, out0[0] == shape0.first, shape0.count == 4 || shape0.count == 2 else { return [] }
      let f = x.with(x.axes.map { $0.collapsed() })
      return every(f)
    case "Transpose":
      guard let perm = try? node.ints("perm"), perm.count == 4, perm[0] == 0, perm[1] == 1 else { return [] }
      let f = perm[2] == 2 ? x : x.with([x.axes[1], x.axes[0]])
      return every(f)
    case "Slice":
      guard let picks = try? slicePicks(call, shape: shape0) else { return [] }
      var axes = x.axes
      for (axis, picked) in picks where axis >= 2 {
        let step = picked.count > 1 ? Double(picked[1] - picked[0]) : 1
        axes[axis - 2] = axes[axis - 2].picked(picked.map { (index: $0, at: Double($0)) }, step: step)
      }
      let f = x.with(axes)
      return every(f)
    case "Pad":
      guard shape0.count == 4, let p = try? padding(call) else { return [] }
      let f = x.with(
        (0..<2).map { a in
          let n = shape0[2 + a]
          let b = p.before[2 + a]
          let m = n + b + p.after[2 + a]
          return x.axes[a].picked(
            (0..<m).map { i -> (index: Int?, at: Double) in
              let src = i - b
              switch p.mode {
              case .constant: return ((0..<n).contains(src) ? src : nil, Double(src))
              case .edge:
                let e = min(max(src, 0), n - 1)
                return (e, Double(e))
              case .reflect:
                let r = src < 0 ? -src : src >= n ? 2 * (n - 1) - src : src
                return (r, Double(r))
              }
            }, step: 1)
        })
      return every(f)
    case "Resize", "Upsample":
      guard let r = try? resampling(call) else { return [] }
      let f = x.with([x.axes[0].resampled(r.rows), x.axes[1].resampled(r.cols)])
      return every(f)
    case "Gather":
      guard let axis = try? Shapes.axis(try node.int("axis", 0), rank: shape0.count, node),
        let indices = try? call.integers(1)
      else { return [] }
      if axis == 1 && out0.count == shape0.count { return every(x) }
      guard axis >= 2, shape0.count == 4, indices.shape.count == 1 else { return [] }
      let n = shape0[axis]
      var axes = x.axes
      axes[axis - 2] = axes[axis - 2].picked(
        indices.values.map { i in (index: i < 0 ? i + n : i, at: Double(i < 0 ? i + n : i)) }, step: 1)
      let f = x.with(axes)
      return every(f)
    default:
      return []
    }
  }

  /// Joined paths (elementwise operators, Concat on channels, Expand): per output axis the hull of the
  /// fields of the inputs; an input of size 1 along an axis (a broadcast gate) widens every position's
  /// field by what it sees but does not move the centres, which follow the inputs that vary along
  /// the axis. Inputs that do not depend on the image's pixels
  /// (constants, shape arithmetic, ConstantOfShape) are left out; one that does but has no fields
  /// makes the output's fields unknown.
  private func joinRule(
    _ call: OperatorCall, _ outputs: [GraphValue], _ known: [String: ValueFields], _ pixels: Set<String>
  ) -> ValueFields? {
    let node = call.node
    guard let shape = outputs.first?.shape, shape.count == 4 || shape.count == 2 else { return nil }
    var paths: [ValueFields] = []
    for name in node.inputs where !name.isEmpty && pixels.contains(name) {
      guard let f = known[name] else { return nil }
      paths.append(f)
    }
    guard let first = paths.first else { return nil }
    var axes: [AxisFields] = []
    for a in 0..<2 {
      let m = shape.count == 4 ? shape[2 + a] : 1
      let all = paths.map { $0.axes[a] }
      guard all.allSatisfy({ $0.count == m || $0.count == 1 }) else { return nil }
      let varying = all.filter { $0.count == m }
      let gates = all.filter { $0.count != m }.map { $0.broadcast(to: m) }
      guard var joined = AxisFields.joined(varying.isEmpty ? gates : varying) else { return nil }
      if !varying.isEmpty, let gate = AxisFields.joined(gates) {
        guard gate.source == joined.source else { return nil }
        for i in 0..<m {
          joined.spans[i] = AxisFields.union(joined.spans[i], gate.spans[i])
        }
      }
      axes.append(joined)
    }
    return first.with(axes)
  }
}
