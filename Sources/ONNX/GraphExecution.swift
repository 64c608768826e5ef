import Engine

extension Graph {
  /// Runs the graph on `feeds` (one value per graph input, by name) and returns every graph output by
  /// name. Each float value a node computes passes through `tap(name, value)` first, which may record
  /// it or replace it (a layer gain); gradients flow through every operator. Values are released after
  /// their last use. The shape-derived nodes are computed on the first run with a given set of input
  /// shapes and reused after (shape subgraphs folded per input shape).
  public func run(
    _ feeds: [String: GraphValue], tap: ((String, Tensor<Float>) -> Tensor<Float>)? = nil
  ) throws -> [String: GraphValue] {
    try execute(feeds, tap: tap, trace: nil)
  }

  /// `run`, with `trace` shown every node run: its call (node and inputs) and its outputs.
  func execute(
    _ feeds: [String: GraphValue], tap: ((String, Tensor<Float>) -> Tensor<Float>)?,
    trace: ((OperatorCall, [GraphValue]) throws -> Void)?
  ) throws -> [String: GraphValue] {
    var values: [String: GraphValue] = [:]
    for port in inputs {
      guard let v = feeds[port.name] else {
        throw CheckpointError("no value for graph input '\(port.name)'", file: path)
      }
      guard port.dims.isEmpty || v.shape.count == port.dims.count,
        zip(v.shape, port.dims).allSatisfy({ $1 == nil || $0 == $1 })
      else {
        throw CheckpointError(
          "input '\(port.name)' is \(v.shape), the model declares \(port.shapeDescription)", file: path)
      }
      values[port.name] = v
    }
    let key = inputs.map { values[$0.name]!.shape }
    let plan = dataDependentShapes ? nil : plans[key]
    var learned: [String: GraphValue] = [:]
    if let plan { values.merge(plan) { a, _ in a } }
    // The last node run that reads each value, so it can be dropped after.
    var lastUse: [String: Int] = [:]
    for (k, node) in nodes.enumerated() where plan == nil || !shapeDerived.contains(k) {
      for i in node.inputs where !i.isEmpty { lastUse[i] = k }
    }
    let kept = Set(outputs.map(\.name))
    for (k, node) in nodes.enumerated() {
      if plan != nil && shapeDerived.contains(k) { continue }
      let call = OperatorCall(
        node: node, opset: opset,
        inputs: node.inputs.map { $0.isEmpty ? nil : (values[$0] ?? constants[$0]) }, folder: folder)
      var out: [GraphValue]
      do { out = try OperatorTable.kernels[node.opType]!(call) } catch let e as CheckpointError { throw e.inFile(path) }
      try trace?(call, out)
      for (o, var v) in zip(node.outputs, out) where !o.isEmpty {
        if let tap, case .float(let t) = v { v = .float(tap(o, t)) }
        values[o] = v
        if shapeDerived.contains(k) { learned[o] = v }
      }
      for i in node.inputs where !i.isEmpty && lastUse[i] == k && !kept.contains(i) { values[i] = nil }
    }
    if plan == nil && !dataDependentShapes { plans[key] = learned }
    var result: [String: GraphValue] = [:]
    for o in outputs { result[o.name] = values[o.name] ?? constants[o.name] }
    return result
  }
}
