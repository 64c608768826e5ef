import Engine

extension ObjectAttentionNet {
  /// Runs the glimpse dynamics (no object targets: the model's own sequence with IOR) on `input`
  /// [N, C, H, W] in batches and streams into `writer`: for each requested conv layer its post-ReLU,
  /// pre-pool output at the last pass of each glimpse as [N, glimpses, C, H, W], `logits`
  /// [N, glimpses, classes] and `gated_input` [N, glimpses, C, H, W].
  public func extract(
    _ input: Tensor<Float>, layers: [String], into writer: NPZStreamWriter, batchSize: Int = 256,
    progress: (Int) -> Void = { _ in }
  ) throws {
    let names = config.convLayerNames
    let indices = try layers.map { name -> Int in
      guard let i = names.firstIndex(of: name) else {
        throw CheckpointError(
          "unknown layer '\(name)'; object-attention-\(config.variant.rawValue) has \(names.joined(separator: ", "))")
      }
      return i
    }
    let n = input.shape[0]
    let glimpseCount = config.objects
    let sizes = config.blockInputSizes
    var outputs: [NPYStreamWriter] = []
    for (name, l) in zip(layers, indices) {
      let s = config.convSize(sizes[l])
      outputs.append(try writer.member(name, shape: [n, glimpseCount, config.channels[l + 1], s.h, s.w]))
    }
    let logits = try writer.member("logits", shape: [n, glimpseCount, config.classes])
    let gated = try writer.member("gated_input", shape: [n, glimpseCount] + Array(input.shape.dropFirst()))
    eval()
    var start = 0
    while start < n {
      let count = min(batchSize, n - start)
      let per = input.count / n
      let x = Tensor<Float>(
        shape: [count] + Array(input.shape.dropFirst()),
        scalars: Array(input.scalars[(start * per)..<((start + count) * per)]))
      var perGlimpse: [AttentionPass] = []
      withNoGrad {
        var ior = emptyIOR(batch: count)
        for _ in 0..<glimpseCount {
          let g = glimpse(x, ior: ior)
          perGlimpse.append(g.last)
          ior = g.nextIOR
        }
      }
      func interleave(_ tensors: [Tensor<Float>], into w: NPYStreamWriter) throws {
        let each = tensors[0].count / count
        var buf = [Float]()
        buf.reserveCapacity(each * glimpseCount * count)
        for i in 0..<count { for t in tensors { buf += t.scalars[(i * each)..<((i + 1) * each)] } }
        try w.append(buf)
      }
      for (w, l) in zip(outputs, indices) { try interleave(perGlimpse.map { $0.convOutputs[l] }, into: w) }
      try interleave(perGlimpse.map(\.logits), into: logits)
      try interleave(perGlimpse.map(\.gatedInput), into: gated)
      start += count
      progress(start)
    }
    try writer.finish()
  }
}
