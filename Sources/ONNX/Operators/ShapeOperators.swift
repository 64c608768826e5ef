import Engine

/// Applies a layout change to any value: `float` on float tensors (an engine op, so gradients pass),
/// `int` on integer or boolean values (kept boolean).
private func relayout(
  _ v: GraphValue, float: (Tensor<Float>) throws -> Tensor<Float>, int: (IntTensor) throws -> IntTensor
) rethrows -> GraphValue {
  switch v {
  case .float(let t): return .float(try float(t))
  case .int(let t): return .int(try int(t))
  case .bool(let t): return .bool(try int(t))
  }
}

/// An integer vector input or attribute (opset-dependent) named `what`.
private func integerList(_ call: OperatorCall, attribute: String, input: Int, fromOpset: Int) throws -> [Int]? {
  if call.opset < fromOpset { return try call.node.ints(attribute) }
  guard let v = call.optional(input) else { return nil }
  guard let values = v.integers, v.shape.count <= 1 else {
    throw call.error("\(attribute) must be a 1-D integer tensor, found \(v.kind) \(v.shape)")
  }
  return values
}

/// `v` reshaped to `shape` (element count already checked).
private func reshape(_ v: GraphValue, _ shape: [Int]) -> GraphValue {
  relayout(v, float: { $0.reshaped(shape) }, int: { IntTensor(shape: shape, values: $0.values) })
}

/// Entries `indices` (already in range) along `axis`, the axis replaced by `indexShape`.
private func take(_ v: GraphValue, axis: Int, indices: [Int], indexShape: [Int]) -> GraphValue {
  relayout(
    v,
    float: { t in
      let picked = t.indexSelect(dim: axis, IntTensor(indices))
      return picked.reshaped(Array(t.shape[..<axis]) + indexShape + Array(t.shape[(axis + 1)...]))
    },
    int: { Shapes.take($0, axis: axis, indices: indices, indexShape: indexShape) })
}

/// The input indices a Slice node keeps, per sliced axis (axes it keeps whole are left out), for an
/// input of `shape`.
func slicePicks(_ call: OperatorCall, shape: [Int]) throws -> [(axis: Int, picked: [Int])] {
  let node = call.node
  let starts: [Int]
  let ends: [Int]
  var axes: [Int]?
  var steps: [Int]?
  if call.opset < 10 {
    guard let s = try node.ints("starts", clamping: true), let e = try node.ints("ends", clamping: true) else {
      throw node.error("starts and ends are missing")
    }
    starts = s
    ends = e
    axes = try node.ints("axes")
  } else {
    guard let s = try integerList(call, attribute: "starts", input: 1, fromOpset: 10),
      let e = try integerList(call, attribute: "ends", input: 2, fromOpset: 10)
    else { throw node.error("starts and ends are missing") }
    starts = s
    ends = e
    axes = try integerList(call, attribute: "axes", input: 3, fromOpset: 10)
    steps = try integerList(call, attribute: "steps", input: 4, fromOpset: 10)
  }
  let rank = shape.count
  let resolvedAxes = try (axes ?? Array(0..<starts.count)).map { try Shapes.axis($0, rank: rank, node) }
  let stepList = steps ?? Array(repeating: 1, count: starts.count)
  guard ends.count == starts.count, resolvedAxes.count == starts.count, stepList.count == starts.count,
    Set(resolvedAxes).count == resolvedAxes.count
  else { throw node.error("starts \(starts), ends \(ends), axes \(axes ?? []), steps \(stepList) do not agree") }
  var picks: [(axis: Int, picked: [Int])] = []
  for (k, axis) in resolvedAxes.enumerated() {
    let n = shape[axis]
    let step = stepList[k]
    guard step != 0 else { throw node.error("step 0 on axis \(axis)") }
    var start = starts[k] < 0 ? starts[k] + n : starts[k]
    var end = ends[k] < 0 ? ends[k] + n : ends[k]
    if step > 0 {
      start = min(max(start, 0), n)
      end = min(max(end, 0), n)
    } else {
      start = min(max(start, 0), n - 1)
      end = min(max(end, -1), n - 1)
    }
    let picked = Array(stride(from: start, to: end, by: step))
    if picked.count == n && step == 1 { continue }
    picks.append((axis, picked))
  }
  return picks
}

let shapeOperators: [String: OperatorKernel] = [
  "Shape": { call in
    let shape = try call.input(0).shape
    var start = try call.node.int("start", 0)
    var end = try call.node.int("end", shape.count)
    if start < 0 { start += shape.count }
    if end < 0 { end += shape.count }
    start = min(max(start, 0), shape.count)
    end = min(max(end, start), shape.count)
    return [.int(IntTensor(Array(shape[start..<end])))]
  },
  "Size": { call in [.int(IntTensor(shape: [], values: [try call.input(0).count]))] },

  "Constant": { call in
    let node = call.node
    if let t = try node.tensor("value") {
      return [try TensorDecoder(folder: call.folder).decode(t, what: "\(node.label) value")]
    }
    if node.attributes["value_float"] != nil {
      return [.float(Tensor(shape: [], scalars: [try node.float("value_float", 0)]))]
    }
    if let v = try node.floats("value_floats") { return [.float(Tensor(shape: [v.count], scalars: v))] }
    if node.attributes["value_int"] != nil {
      return [.int(IntTensor(shape: [], values: [try node.int("value_int", 0)]))]
    }
    if let v = try node.ints("value_ints") { return [.int(IntTensor(v))] }
    throw node.error(
      "needs a value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)")
  },

  "ConstantOfShape": { call in
    let node = call.node
    let shape = try call.integers(0)
    guard shape.shape.count <= 1 else { throw node.error("shape must be 1-D, found \(shape.shape)") }
    let count = try Shapes.count(shape.values, node)
    guard let t = try node.tensor("value") else {
      return [.float(Tensor(shape: shape.values, scalars: Array(repeating: 0, count: count)))]
    }
    let value = try TensorDecoder(folder: call.folder).decode(t, what: "\(node.label) value")
    guard value.count == 1 else { throw node.error("value must hold one element, found \(value.shape)") }
    switch value {
    case .float(let v):
      return [.float(Tensor(shape: shape.values, scalars: Array(repeating: v.scalars[0], count: count)))]
    case .int(let v): return [.int(IntTensor(shape: shape.values, values: Array(repeating: v.values[0], count: count)))]
    case .bool(let v):
      return [.bool(IntTensor(shape: shape.values, values: Array(repeating: v.values[0], count: count)))]
    }
  },

  "Reshape": { call in
    let node = call.node
    let x = try call.input(0)
    let target = try call.integers(1)
    guard target.shape.count == 1 else { throw node.error("shape must be 1-D, found \(target.shape)") }
    let allowZero = try node.int("allowzero", 0) != 0
    var shape = target.values
    for (i, d) in shape.enumerated() where d == 0 && !allowZero {
      guard i < x.shape.count else { throw node.error("shape \(target.values) copies axis \(i) of \(x.shape)") }
      shape[i] = x.shape[i]
    }
    let unknown = shape.indices.filter { shape[$0] == -1 }
    guard unknown.count <= 1, shape.allSatisfy({ $0 >= -1 }) else { throw node.error("shape \(target.values)") }
    let known = try Shapes.count(shape.filter { $0 != -1 }, node)
    if let u = unknown.first {
      guard known > 0, x.count % known == 0 else { throw node.error("cannot reshape \(x.shape) to \(target.values)") }
      shape[u] = x.count / known
    }
    guard try Shapes.count(shape, node) == x.count else {
      throw node.error("cannot reshape \(x.shape) to \(target.values)")
    }
    return [reshape(x, shape)]
  },

  "Flatten": { call in
    let x = try call.input(0)
    let axis = try Shapes.axis(try call.node.int("axis", 1), rank: x.shape.count, call.node, inclusive: true)
    return [reshape(x, [x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *)])]
  },

  "Transpose": { call in
    let x = try call.input(0)
    let rank = x.shape.count
    let perm = try call.node.ints("perm") ?? Array((0..<rank).reversed())
    guard perm.count == rank, Set(perm) == Set(0..<rank) else {
      throw call.error("perm \(perm) is not a permutation of \(rank) axes")
    }
    return [relayout(x, float: { $0.permuted(perm) }, int: { Shapes.permute($0, perm) })]
  },

  "Squeeze": { call in
    let x = try call.input(0)
    let listed = try integerList(call, attribute: "axes", input: 1, fromOpset: 13)
    let axes =
      try listed.map { try $0.map { try Shapes.axis($0, rank: x.shape.count, call.node) } }
      ?? x.shape.indices.filter { x.shape[$0] == 1 }
    guard axes.allSatisfy({ x.shape[$0] == 1 }) else {
      throw call.error("axes \(listed ?? []) of \(x.shape) are not all 1")
    }
    return [reshape(x, x.shape.indices.filter { !axes.contains($0) }.map { x.shape[$0] })]
  },

  "Unsqueeze": { call in
    let x = try call.input(0)
    guard let listed = try integerList(call, attribute: "axes", input: 1, fromOpset: 13) else {
      throw call.error("axes are missing")
    }
    let rank = x.shape.count + listed.count
    let axes = try listed.map { try Shapes.axis($0, rank: rank, call.node) }
    guard Set(axes).count == axes.count else { throw call.error("axes \(listed) repeat an axis") }
    var shape: [Int] = []
    var rest = x.shape.makeIterator()
    for d in 0..<rank { shape.append(axes.contains(d) ? 1 : rest.next()!) }
    return [reshape(x, shape)]
  },

  "Concat": { call in
    let node = call.node
    let parts = try (0..<call.inputs.count).compactMap { i -> GraphValue? in
      call.inputs[i] == nil ? nil : try call.input(i)
    }
    guard let first = parts.first else { throw node.error("no inputs") }
    let rank = first.shape.count
    guard node.attributes["axis"] != nil else { throw node.error("the axis attribute is missing") }
    let axis = try Shapes.axis(try node.int("axis", 0), rank: rank, node)
    for p in parts {
      guard p.shape.count == rank,
        (0..<rank).allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] })
      else { throw node.error("inputs \(parts.map(\.shape)) do not join along axis \(axis)") }
    }
    if parts.allSatisfy({ !$0.isFloat }) {
      let ints = parts.map { IntTensor(shape: $0.shape, values: $0.integers!) }
      let joined = Shapes.concat(ints, axis: axis)
      return [
        parts.allSatisfy({ if case .bool = $0 { return true } else { return false } }) ? .bool(joined) : .int(joined)
      ]
    }
    let floats = parts.map { v -> Tensor<Float> in
      if case .float(let t) = v { return t }
      return Tensor(shape: v.shape, scalars: v.floats)
    }
    return [.float(concat(floats, dim: axis))]
  },

  "Gather": { call in
    let node = call.node
    let data = try call.input(0)
    let indices = try call.integers(1)
    guard !data.shape.isEmpty else { throw node.error("data must have at least one axis") }
    let axis = try Shapes.axis(try node.int("axis", 0), rank: data.shape.count, node)
    let n = data.shape[axis]
    let flat = try indices.values.map { i -> Int in
      let j = i < 0 ? i + n : i
      guard j >= 0 && j < n else { throw node.error("index \(i) is out of range for axis \(axis) of \(data.shape)") }
      return j
    }
    _ = try Shapes.count(Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...]), node)
    return [take(data, axis: axis, indices: flat, indexShape: indices.shape)]
  },

  "Slice": { call in
    var x = try call.input(0)
    for (axis, picked) in try slicePicks(call, shape: x.shape) {
      x = take(x, axis: axis, indices: picked, indexShape: [picked.count])
    }
    return [x]
  },

  "Split": { call in
    let node = call.node
    let x = try call.input(0)
    let axis = try Shapes.axis(try node.int("axis", 0), rank: x.shape.count, node)
    let n = x.shape[axis]
    let outputs = node.outputs.count
    var sizes = try integerList(call, attribute: "split", input: 1, fromOpset: 13) ?? []
    if sizes.isEmpty {
      guard outputs > 0, n % outputs == 0 else {
        throw node.error("axis \(axis) of \(x.shape) does not split into \(outputs) equal parts")
      }
      sizes = Array(repeating: n / outputs, count: outputs)
    }
    guard sizes.count == outputs, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == n else {
      throw node.error("split \(sizes) does not cut axis \(axis) of \(x.shape) into \(outputs) parts")
    }
    var start = 0
    return sizes.map { size in
      defer { start += size }
      return take(x, axis: axis, indices: Array(start..<(start + size)), indexShape: [size])
    }
  },

  "Expand": { call in
    let node = call.node
    let x = try call.input(0)
    let target = try call.integers(1)
    guard target.shape.count == 1 else { throw node.error("shape must be 1-D, found \(target.shape)") }
    let shape = try Shapes.broadcast(x.shape, target.values, node)
    _ = try Shapes.count(shape, node)
    if shape == x.shape { return [x] }
    let padded = Array(repeating: 1, count: shape.count - x.shape.count) + x.shape
    return [
      relayout(
        reshape(x, padded), float: { $0.expanded(to: shape) }, int: { Shapes.expand($0, to: shape) })
    ]
  },
]
