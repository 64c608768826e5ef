import Engine
import Foundation

/// ONNX Resize's mapping from output to input coordinates and its interpolation kernels, per axis.
struct ResizeAxis {
  var mode: String
  var coordinates: String
  var nearestMode: String
  var cubicA: Double
  var excludeOutside: Bool

  /// The input coordinate of output position `o` (input size `n`, output size `m`, scale m / n or the
  /// given scale).
  func source(_ o: Int, input n: Int, output m: Int, scale: Double) -> Double {
    let x = Double(o)
    switch coordinates {
    case "half_pixel": return (x + 0.5) / scale - 0.5
    case "pytorch_half_pixel": return m > 1 ? (x + 0.5) / scale - 0.5 : 0
    case "align_corners": return m > 1 ? x * Double(n - 1) / Double(m - 1) : 0
    case "tf_half_pixel_for_nn": return (x + 0.5) / scale
    default: return x / scale  // asymmetric
    }
  }

  /// Taps of every output position.
  func taps(input n: Int, output m: Int, scale: Double) -> [ResampleTaps<Float>] {
    (0..<m).map { o in
      let x = min(max(source(o, input: n, output: m, scale: scale), -2), Double(n) + 2)
      switch mode {
      case "nearest":
        var i: Int
        switch nearestMode {
        case "floor": i = Int(x.rounded(.down))
        case "ceil": i = Int(x.rounded(.up))
        case "round_prefer_ceil": i = Int((x + 0.5).rounded(.down))
        default: i = x == x.rounded(.down) + 0.5 ? Int(x.rounded(.down)) : Int(x.rounded())  // round_prefer_floor
        }
        return [(index: min(max(i, 0), n - 1), weight: Float(1))]
      case "linear":
        let c = min(max(x, 0), Double(n - 1))
        let i0 = Int(c.rounded(.down))
        let i1 = min(i0 + 1, n - 1)
        let t = Float(c - Double(i0))
        return i1 == i0 ? [(index: i0, weight: Float(1))] : [(index: i0, weight: 1 - t), (index: i1, weight: t)]
      default:  // cubic
        let f = x.rounded(.down)
        let t = x - f
        let a = cubicA
        func w(_ d: Double) -> Double {
          let s = abs(d)
          if s <= 1 { return ((a + 2) * s - (a + 3)) * s * s + 1 }
          if s < 2 { return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a }
          return 0
        }
        var taps: [(Int, Double)] = []
        for k in -1...2 {
          let i = Int(f) + k
          let weight = w(t - Double(k))
          if excludeOutside && (i < 0 || i >= n) { continue }
          taps.append((min(max(i, 0), n - 1), weight))
        }
        let total = excludeOutside ? taps.reduce(0) { $0 + $1.1 } : 1
        return taps.map { (index: $0.0, weight: Float($0.1 / total)) }
      }
    }
  }
}

/// The taps per output row and column that resize a 4-D float input to `sizes` (or by `scales`)
/// with ONNX's modes (any N and C resizing is refused).
private func resizeTaps(_ call: OperatorCall, _ x: Tensor<Float>, scales: [Double]?, sizes: [Int]?, axis: ResizeAxis)
  throws -> (rows: [ResampleTaps<Float>], cols: [ResampleTaps<Float>])
{
  let node = call.node
  guard x.rank == 4 else { throw node.error("only 4-D [N, C, H, W] inputs are resized, found \(x.shape)") }
  guard ["nearest", "linear", "cubic"].contains(axis.mode) else { throw node.error("mode '\(axis.mode)'") }
  guard
    ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn"].contains(
      axis.coordinates)
  else { throw node.error("coordinate_transformation_mode '\(axis.coordinates)' is not supported") }
  var out: [Int]
  var scale: [Double]
  if let sizes {
    guard sizes.count == 4, sizes[0] == x.shape[0], sizes[1] == x.shape[1] else {
      throw node.error("sizes \(sizes) must keep N and C of \(x.shape)")
    }
    out = Array(sizes[2...])
    scale = (0..<2).map { Double(out[$0]) / Double(x.shape[2 + $0]) }
  } else if let scales {
    guard scales.count == 4, scales[0] == 1, scales[1] == 1, scales[2] > 0, scales[3] > 0,
      scales.allSatisfy(\.isFinite)
    else { throw node.error("scales \(scales) must be [1, 1, sH, sW] with positive sH, sW") }
    scale = Array(scales[2...])
    out = try (0..<2).map { d in
      guard let n = Shapes.integer((Double(x.shape[2 + d]) * scale[d]).rounded(.down)) else {
        throw node.error("scales \(scales) give an output too large for \(x.shape)")
      }
      return n
    }
  } else {
    throw node.error("needs scales or sizes")
  }
  guard out.allSatisfy({ $0 > 0 }), x.shape[2] > 0, x.shape[3] > 0 else { throw node.error("empty output \(out)") }
  _ = try Shapes.count([x.shape[0], x.shape[1]] + out, node)
  let rows = axis.taps(input: x.shape[2], output: out[0], scale: scale[0])
  let cols = axis.taps(input: x.shape[3], output: out[1], scale: scale[1])
  return (rows, cols)
}

/// What a Resize or Upsample node does to its input: the input and the taps of every output row and
/// column (the kernel applies them; the receptive-field tables follow them).
func resampling(_ call: OperatorCall) throws -> (
  x: Tensor<Float>, rows: [ResampleTaps<Float>], cols: [ResampleTaps<Float>]
) {
  let node = call.node
  let x = try call.float(0)
  if node.opType == "Upsample" {
    let mode = try node.string("mode", "nearest")
    let axis = ResizeAxis(
      mode: mode == "bilinear" ? "linear" : mode, coordinates: "asymmetric", nearestMode: "floor", cubicA: -0.75,
      excludeOutside: false)
    let scales = try node.floats("scales").map { $0.map(Double.init) } ?? call.optional(1)?.floats.map(Double.init)
    let taps = try resizeTaps(call, x, scales: scales, sizes: nil, axis: axis)
    return (x, taps.rows, taps.cols)
  }
  var axis = ResizeAxis(
    mode: try node.string("mode", "nearest"),
    coordinates: try node.string("coordinate_transformation_mode", call.opset >= 11 ? "half_pixel" : "asymmetric"),
    nearestMode: try node.string("nearest_mode", "round_prefer_floor"),
    cubicA: Double(try node.float("cubic_coeff_a", -0.75)), excludeOutside: try node.int("exclude_outside", 0) != 0)
  if call.opset < 11 {
    axis.nearestMode = "floor"
    axis.coordinates = "asymmetric"
  }
  let scaleInput = call.opset < 11 ? 1 : 2
  var scales: [Double]?
  if let s = call.optional(scaleInput), s.count > 0 { scales = s.floats.map { Double($0) } }
  var sizes: [Int]?
  if call.opset >= 11, let s = call.optional(3), s.count > 0 {
    guard let v = s.integers else { throw node.error("sizes must be integers") }
    sizes = v
  }
  if axis.coordinates == "tf_crop_and_resize" { throw node.error("tf_crop_and_resize is not supported") }
  let taps = try resizeTaps(call, x, scales: sizes == nil ? scales : nil, sizes: sizes, axis: axis)
  return (x, taps.rows, taps.cols)
}

/// A Pad node's amounts before and after each axis (negative: cropped) and its mode.
func padding(_ call: OperatorCall) throws -> (before: [Int], after: [Int], mode: PadMode) {
  let node = call.node
  let x = try call.float(0)
  let pads: [Int]
  var value: Float = 0
  if call.opset < 11 {
    guard let p = try node.ints("pads") else { throw node.error("pads are missing") }
    pads = p
    value = try node.float("value", 0)
  } else {
    let p = try call.integers(1)
    pads = p.values
    if let v = call.optional(2), v.count > 0 {
      guard v.count == 1 else { throw node.error("constant_value must be a scalar") }
      value = v.floats[0]
    }
  }
  let rank = x.rank
  guard pads.count == 2 * rank, pads.allSatisfy({ abs($0) < 1 << 20 }) else {
    throw node.error("pads \(pads) must hold \(2 * rank) values for \(x.shape)")
  }
  let before = Array(pads[..<rank])
  let after = Array(pads[rank...])
  let out = (0..<rank).map { x.shape[$0] + before[$0] + after[$0] }
  guard out.allSatisfy({ $0 >= 0 }) else { throw node.error("pads \(pads) crop \(x.shape) below zero") }
  _ = try Shapes.count(out, node)
  let modeName = try node.string("mode", "constant")
  switch modeName {
  case "constant": return (before, after, .constant(Double(value)))
  case "edge":
    guard !x.shape.contains(0) else { throw node.error("edge padding of an empty axis") }
    return (before, after, .edge)
  case "reflect":
    guard (0..<rank).allSatisfy({ before[$0] < x.shape[$0] && after[$0] < x.shape[$0] }) else {
      throw node.error("reflect pads \(pads) must be smaller than the axes of \(x.shape)")
    }
    return (before, after, .reflect)
  default: throw node.error("mode '\(modeName)' is not one of constant, reflect, edge")
  }
}

let resizeOperators: [String: OperatorKernel] = [
  "Resize": { call in
    let r = try resampling(call)
    return [.float(separableResample(r.x, rows: r.rows, cols: r.cols))]
  },
  "Upsample": { call in
    let r = try resampling(call)
    return [.float(separableResample(r.x, rows: r.rows, cols: r.cols))]
  },
  "Pad": { call in
    let p = try padding(call)
    return [.float(pad(try call.float(0), before: p.before, after: p.after, mode: p.mode))]
  },
]
