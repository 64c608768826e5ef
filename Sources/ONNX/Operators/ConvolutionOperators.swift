import Engine

/// Spatial window attributes shared by Conv, ConvTranspose and the pools: kernel, strides, dilations
/// and the begin/end pads per spatial axis (explicit, or from auto_pad SAME_UPPER / SAME_LOWER / VALID).
struct WindowAttributes {
  var kernel: [Int]
  var strides: [Int]
  var dilations: [Int]
  var begin: [Int]
  var end: [Int]

  /// Reads the attributes of `node` for an input whose spatial sizes are `input`; `kernel` comes from
  /// the weight (convs) or kernel_shape (pools). `stridesDefault` is 1 everywhere in ONNX.
  init(_ node: Node, kernel: [Int], input: [Int], allowDilation: Bool = true) throws {
    let n = input.count
    if let k = try node.ints("kernel_shape"), k != kernel {
      throw node.error("kernel_shape \(k) does not match the weight's \(kernel)")
    }
    self.kernel = kernel
    strides = try node.ints("strides") ?? Array(repeating: 1, count: n)
    dilations =
      allowDilation ? (try node.ints("dilations") ?? Array(repeating: 1, count: n)) : Array(repeating: 1, count: n)
    guard kernel.count == n, strides.count == n, dilations.count == n else {
      throw node.error("kernel \(kernel), strides \(strides) and dilations \(dilations) need \(n) spatial axes")
    }
    guard kernel.allSatisfy({ $0 > 0 }), strides.allSatisfy({ $0 > 0 && $0 < 1 << 20 }),
      dilations.allSatisfy({ $0 > 0 && $0 < 1 << 20 }), kernel.allSatisfy({ $0 < 1 << 20 })
    else {
      throw node.error("kernel \(kernel), strides \(strides) and dilations \(dilations) must be positive")
    }
    let autoPad = try node.string("auto_pad", "NOTSET")
    switch autoPad {
    case "NOTSET":
      let pads = try node.ints("pads") ?? Array(repeating: 0, count: 2 * n)
      guard pads.count == 2 * n, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else {
        throw node.error("pads \(pads) must be \(2 * n) non-negative values")
      }
      begin = Array(pads[..<n])
      end = Array(pads[n...])
    case "VALID":
      begin = Array(repeating: 0, count: n)
      end = begin
    case "SAME_UPPER", "SAME_LOWER":
      begin = []
      end = []
      for d in 0..<n {
        let out = (input[d] + strides[d] - 1) / strides[d]
        let span = (kernel[d] - 1) * dilations[d] + 1
        let total = max(0, (out - 1) * strides[d] + span - input[d])
        let small = total / 2
        begin.append(autoPad == "SAME_UPPER" ? small : total - small)
        end.append(autoPad == "SAME_UPPER" ? total - small : small)
      }
    default: throw node.error("auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
    }
  }

  var symmetric: Bool { begin == end }

  /// Output size per axis (floor, or ceil mode) for input sizes `input`.
  func outputSize(_ input: [Int], ceil: Bool = false) -> [Int] {
    (0..<input.count).map { d in
      let span = (kernel[d] - 1) * dilations[d] + 1
      let room = input[d] + begin[d] + end[d] - span
      guard room >= 0 else { return 0 }
      return (ceil ? (room + strides[d] - 1) / strides[d] : room / strides[d]) + 1
    }
  }
}

/// Lifts a 1-D op's [N, C, L] input to [N, C, 1, L] (and back), so every spatial op runs in 2-D.
private func as2D(_ x: Tensor<Float>, _ node: Node) throws -> (Tensor<Float>, lifted: Bool) {
  switch x.rank {
  case 4: return (x, false)
  case 3: return (x.unsqueezed(2), true)
  default: throw node.error("input \(x.shape) must be [N, C, H, W] (or [N, C, L]); 3-D volumes are not supported")
  }
}

/// The window of a 2-D op (`kernel` and `input` are 2-D); for a lifted 1-D op the node's attributes
/// describe the last axis only and the first axis gets kernel 1, stride 1, no padding.
private func spatialWindow(
  _ node: Node, kernel: [Int], input: [Int], lifted: Bool, allowDilation: Bool = true
) throws -> WindowAttributes {
  guard lifted else { return try WindowAttributes(node, kernel: kernel, input: input, allowDilation: allowDilation) }
  var w = try WindowAttributes(node, kernel: [kernel[1]], input: [input[1]], allowDilation: allowDilation)
  w.kernel.insert(1, at: 0)
  w.strides.insert(1, at: 0)
  w.dilations.insert(1, at: 0)
  w.begin.insert(0, at: 0)
  w.end.insert(0, at: 0)
  return w
}

/// A pool's input (lifted to 2-D), its window from kernel_shape and the other attributes, and ceil_mode;
/// an error when the output would be empty.
private func poolWindow(_ call: OperatorCall, allowDilation: Bool) throws -> (
  x: Tensor<Float>, lifted: Bool, window: WindowAttributes, ceil: Bool
) {
  let node = call.node
  let (x, lifted) = try as2D(try call.float(0), node)
  guard let kernel = try node.ints("kernel_shape"), kernel.count == (lifted ? 1 : 2) else {
    throw node.error("kernel_shape is missing or not \(lifted ? 1 : 2)-D")
  }
  let window = try spatialWindow(
    node, kernel: lifted ? [1] + kernel : kernel, input: Array(x.shape[2...]), lifted: lifted,
    allowDilation: allowDilation)
  let ceil = try node.int("ceil_mode", 0) != 0
  guard window.outputSize(Array(x.shape[2...]), ceil: ceil).allSatisfy({ $0 > 0 }) else {
    throw node.error("output would be empty for input \(x.shape)")
  }
  return (x, lifted, window, ceil)
}

/// `x` with the window's pads added explicitly (filled with `value`), its size checked first.
private func explicitlyPadded(_ x: Tensor<Float>, _ window: WindowAttributes, _ node: Node, value: Float = 0) throws
  -> Tensor<Float>
{
  let padded = (0..<2).map { x.shape[2 + $0] + window.begin[$0] + window.end[$0] }
  _ = try Shapes.count(Array(x.shape[..<2]) + padded, node)
  return pad(x, before: [0, 0] + window.begin, after: [0, 0] + window.end, mode: .constant(Double(value)))
}

/// A ConvTranspose node's geometry for spatial input sizes `input` and kernel `kernel`: strides,
/// dilations, output padding, the full output size, and the pads cropped from it before and after.
struct TransposedWindow {
  var strides, dilations, outputPadding, full, begin, end: [Int]

  init(_ node: Node, input: [Int], kernel: [Int]) throws {
    let strides = try node.ints("strides") ?? [1, 1]
    let dilations = try node.ints("dilations") ?? [1, 1]
    let outputPadding = try node.ints("output_padding") ?? [0, 0]
    let positive: Bool = (strides + dilations).allSatisfy { $0 > 0 && $0 < 1 << 20 }
    let paddingOK: Bool = outputPadding.allSatisfy { $0 >= 0 && $0 < 1 << 20 }
    guard strides.count == 2, dilations.count == 2, outputPadding.count == 2, positive, paddingOK else {
      throw node.error("strides \(strides), dilations \(dilations), output_padding \(outputPadding)")
    }
    var full: [Int] = []
    for d in 0..<2 {
      let span: Int = (kernel[d] - 1) * dilations[d] + 1
      full.append((input[d] - 1) * strides[d] + span + outputPadding[d])
    }
    var begin: [Int]
    var end: [Int]
    let autoPad = try node.string("auto_pad", "NOTSET")
    if let shape = try node.ints("output_shape") {
      let target = Array(shape.suffix(2))
      guard target.count == 2 else { throw node.error("output_shape \(shape)") }
      let total = (0..<2).map { full[$0] - target[$0] }
      guard total.allSatisfy({ $0 >= 0 }) else {
        throw node.error("output_shape \(shape) exceeds the full output \(full)")
      }
      begin = total.map { autoPad == "SAME_UPPER" ? $0 / 2 : $0 - $0 / 2 }
      end = total.map { autoPad == "SAME_UPPER" ? $0 - $0 / 2 : $0 / 2 }
    } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
      let total = (0..<2).map { max(0, full[$0] - input[$0] * strides[$0]) }
      begin = total.map { autoPad == "SAME_UPPER" ? $0 / 2 : $0 - $0 / 2 }
      end = total.map { autoPad == "SAME_UPPER" ? $0 - $0 / 2 : $0 / 2 }
    } else {
      let pads = try node.ints("pads") ?? [0, 0, 0, 0]
      guard pads.count == 4, pads.allSatisfy({ $0 >= 0 && $0 < 1 << 20 }) else { throw node.error("pads \(pads)") }
      begin = Array(pads[..<2])
      end = Array(pads[2...])
    }
    self.strides = strides
    self.dilations = dilations
    self.outputPadding = outputPadding
    self.full = full
    self.begin = begin
    self.end = end
  }
}

let convolutionOperators: [String: OperatorKernel] = [
  "Conv": { call in
    let node = call.node
    let (x, lifted) = try as2D(try call.float(0), node)
    var w = try call.float(1)
    if lifted && w.rank == 3 { w = w.unsqueezed(2) }
    guard w.rank == 4 else { throw node.error("weight \(w.shape) must be [M, C/group, kH, kW]") }
    let group = try node.int("group", 1)
    let (c, m) = (x.shape[1], w.shape[0])
    guard group > 0, c % group == 0, m % group == 0, w.shape[1] * group == c else {
      throw node.error("input channels \(c), weight \(w.shape) and group \(group) do not agree")
    }
    let window = try spatialWindow(node, kernel: Array(w.shape[2...]), input: Array(x.shape[2...]), lifted: lifted)
    var bias: Tensor<Float>?
    if let b = call.optional(2) {
      guard case .float(let t) = b, t.shape == [m] else { throw node.error("bias \(b.shape) must be float [\(m)]") }
      bias = t
    }
    let out = window.outputSize(Array(x.shape[2...]))
    guard out.allSatisfy({ $0 > 0 }) else { throw node.error("output would be empty for input \(x.shape)") }
    _ = try Shapes.count([x.shape[0], m] + out, node)
    var input = x
    var padding = Pair(window.begin[0], window.begin[1])
    if !window.symmetric {
      input = try explicitlyPadded(x, window, node)
      padding = 0
    }
    let y = conv2d(
      input, weight: w, bias: bias, stride: Pair(window.strides[0], window.strides[1]), padding: padding,
      dilation: Pair(window.dilations[0], window.dilations[1]), groups: group)
    return [.float(lifted ? y.squeezed(2) : y)]
  },

  "ConvTranspose": { call in
    let node = call.node
    let x = try call.float(0)
    let w = try call.float(1)
    guard x.rank == 4, w.rank == 4 else { throw node.error("input \(x.shape) and weight \(w.shape) must be 4-D") }
    let group = try node.int("group", 1)
    guard group > 0, x.shape[1] == w.shape[0], w.shape[0] % group == 0 else {
      throw node.error("input channels \(x.shape[1]), weight \(w.shape) and group \(group) do not agree")
    }
    let m = w.shape[1] * group
    var bias: Tensor<Float>?
    if let b = call.optional(2) {
      guard case .float(let t) = b, t.shape == [m] else { throw node.error("bias \(b.shape) must be float [\(m)]") }
      bias = t
    }
    let t = try TransposedWindow(node, input: Array(x.shape[2...]), kernel: Array(w.shape[2...]))
    let (strides, dilations, outputPadding, full, begin, end) = (
      t.strides, t.dilations, t.outputPadding, t.full, t.begin, t.end
    )
    let out = (0..<2).map { full[$0] - begin[$0] - end[$0] }
    guard out.allSatisfy({ $0 > 0 }) else { throw node.error("output would be empty for input \(x.shape)") }
    _ = try Shapes.count([x.shape[0], m] + full, node)
    // The full transposed convolution, then the pads cropped (negative padding).
    let y = convTranspose2d(
      x, weight: w, bias: bias, stride: Pair(strides[0], strides[1]), padding: 0,
      outputPadding: Pair(outputPadding[0], outputPadding[1]), dilation: Pair(dilations[0], dilations[1]),
      groups: group)
    if begin == [0, 0] && end == [0, 0] { return [.float(y)] }
    return [.float(pad(y, before: [0, 0] + begin.map { -$0 }, after: [0, 0] + end.map { -$0 }))]
  },

  "MaxPool": { call in
    let node = call.node
    if node.outputs.count > 1 && !node.outputs[1].isEmpty {
      throw node.error("the Indices output is not supported")
    }
    let (x, lifted, window, ceil) = try poolWindow(call, allowDilation: call.opset >= 10)
    var input = x
    var padding = Pair(window.begin[0], window.begin[1])
    let halfKernel = (0..<2).allSatisfy { window.begin[$0] * 2 <= window.kernel[$0] }
    if !window.symmetric || !halfKernel {
      input = try explicitlyPadded(x, window, node, value: -.infinity)
      padding = 0
    }
    let y = maxPool(
      input, kernel: Pair(window.kernel[0], window.kernel[1]), stride: Pair(window.strides[0], window.strides[1]),
      padding: padding, dilation: Pair(window.dilations[0], window.dilations[1]), ceilMode: ceil)
    return [.float(lifted ? y.squeezed(2) : y)]
  },

  "AveragePool": { call in
    let node = call.node
    let (x, lifted, window, ceil) = try poolWindow(call, allowDilation: false)
    let includePad = try node.int("count_include_pad", 0) != 0
    var input = x
    var padding = Pair(window.begin[0], window.begin[1])
    let halfKernel = (0..<2).allSatisfy { window.begin[$0] * 2 <= window.kernel[$0] }
    if !window.symmetric || !halfKernel {
      guard includePad else {
        throw node.error("asymmetric pads \(window.begin) / \(window.end) with count_include_pad = 0 are not supported")
      }
      input = try explicitlyPadded(x, window, node)
      padding = 0
    }
    let y = avgPool2d(
      input, kernel: Pair(window.kernel[0], window.kernel[1]), stride: Pair(window.strides[0], window.strides[1]),
      padding: padding, ceilMode: ceil, countIncludePad: includePad)
    return [.float(lifted ? y.squeezed(2) : y)]
  },

  "GlobalAveragePool": { call in
    let x = try call.float(0)
    guard x.rank >= 3 else { throw call.error("input \(x.shape) must be [N, C, ...]") }
    guard x.shape[2...].allSatisfy({ $0 > 0 }) else { throw call.error("empty spatial axes in \(x.shape)") }
    if x.rank == 4 { return [.float(adaptiveAvgPool2d(x, outputSize: Pair(1, 1)))] }
    return [.float(x.mean(dims: Array(2..<x.rank), keepDim: true))]
  },

  "BatchNormalization": { call in
    let node = call.node
    let x = try call.float(0)
    guard x.rank >= 2 else { throw node.error("input \(x.shape) must be [N, C, ...]") }
    if try node.int("training_mode", 0) != 0 {
      throw node.error("training_mode = 1 is not supported (export in eval mode)")
    }
    if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
      throw node.error("the running-statistics outputs (training mode) are not supported")
    }
    let c = x.shape[1]
    var parameters: [Tensor<Float>] = []
    for i in 1...4 {
      let t = try call.float(i)
      guard t.shape == [c] else { throw node.error("input \(i + 1) \(t.shape) must be [\(c)]") }
      parameters.append(t)
    }
    let eps = try node.float("epsilon", 1e-5)
    return [
      .float(
        batchNorm(
          x, runningMean: parameters[2], runningVar: parameters[3], weight: parameters[0], bias: parameters[1],
          training: false, eps: eps))
    ]
  },

  "LRN": { call in
    let node = call.node
    let x = try call.float(0)
    guard x.rank >= 3 else { throw node.error("input \(x.shape) must be [N, C, ...]") }
    let size = try node.int("size", 0)
    guard size > 0, size % 2 == 1 else {
      throw node.error("size \(size) must be a positive odd number (ONNX and PyTorch windows differ for even sizes)")
    }
    return [
      .float(
        localResponseNorm(
          x, size: size, alpha: try node.float("alpha", 1e-4), beta: try node.float("beta", 0.75),
          k: try node.float("bias", 1)))
    ]
  },
]
