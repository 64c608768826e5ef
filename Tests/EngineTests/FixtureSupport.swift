import Foundation
import Testing

@testable import Engine

/// Locates a committed fixture file under Tests/EngineTests/Fixtures.
func fixturePath(_ relative: String) -> String {
  Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(relative).path
}

/// One parity case from a fixture file: op name, parameters and its stored tensors.
struct OpCase: @unchecked Sendable, CustomStringConvertible {
  let name: String
  let op: String
  let params: [String: Any]
  let archive: TensorArchive

  var description: String { name }

  func tensor(_ role: String) -> StoredTensor? { archive["\(name)/\(role)"] }

  /// Float inputs in0, in1, ... as tensors of T.
  func inputs<T: KernelScalar>(_: T.Type) throws -> [Tensor<T>] {
    var out: [Tensor<T>] = []
    var i = 0
    while let t = tensor("in\(i)") {
      out.append(try t.tensor(T.self))
      i += 1
    }
    return out
  }

  /// Integer inputs idx0, idx1, ...
  func indices() throws -> [IntTensor] {
    var out: [IntTensor] = []
    var i = 0
    while let t = tensor("idx\(i)") {
      out.append(try t.intTensor())
      i += 1
    }
    return out
  }

  func int(_ k: String) -> Int? { (params[k] as? NSNumber)?.intValue }
  func double(_ k: String) -> Double? { (params[k] as? NSNumber)?.doubleValue }
  func bool(_ k: String) -> Bool? { params[k] as? Bool ?? (params[k] as? NSNumber)?.boolValue }
  func pair(_ k: String) -> Pair? {
    if let a = params[k] as? [Any], a.count == 2, let h = (a[0] as? NSNumber)?.intValue,
      let w = (a[1] as? NSNumber)?.intValue
    {
      return Pair(h, w)
    }
    if let v = int(k) { return Pair(v, v) }
    return nil
  }
}

/// All cases of one fixture family (Tests/EngineTests/Fixtures/ops/<family>.safetensors).
func loadCases(_ family: String) throws -> [OpCase] {
  let archive = try Safetensors.read(fixturePath("ops/\(family).safetensors"))
  let json = try JSONSerialization.jsonObject(with: Data(archive.metadata["cases"]!.utf8)) as! [[String: Any]]
  return json.map {
    OpCase(
      name: $0["name"] as! String, op: $0["op"] as! String, params: $0["params"] as? [String: Any] ?? [:],
      archive: archive)
  }
}

/// Normwise relative error: max |a - b| / max(max |b|, 1e-6) (the figure reported for parity).
func relativeError<T: KernelScalar>(_ a: [T], _ b: [T]) -> Double {
  precondition(a.count == b.count, "size mismatch \(a.count) vs \(b.count)")
  var diff = 0.0
  var scale = 0.0
  for (x, y) in zip(a, b) {
    // NaN anywhere (or a NaN/finite mismatch) is an infinite error: max() would skip it silently.
    if x.isNaN != y.isNaN || x.isInfinite != y.isInfinite { return .infinity }
    if x.isNaN || x.isInfinite { continue }
    diff = max(diff, abs(Double(x) - Double(y)))
    scale = max(scale, abs(Double(y)))
  }
  return diff / max(scale, 1e-6)
}

/// Runs a fixture case's op on `inputs`; returns the differentiated output and any extra outputs.
func runOp<T: KernelScalar>(_ c: OpCase, _ x: [Tensor<T>], _ idx: [IntTensor], rng: inout RandomGenerator) -> (
  Tensor<T>, [Any]
) {
  let p = c
  switch c.op {
  case "add": return (x[0] + x[1], [])
  case "sub": return (x[0] - x[1], [])
  case "mul": return (x[0] * x[1], [])
  case "div": return (x[0] / x[1], [])
  case "affine": return (x[0].affine(scale: T(p.double("scale")!), shift: T(p.double("shift")!)), [])
  case "pow": return (x[0].pow(T(p.double("p")!)), [])
  case "sqrt": return (x[0].sqrt(), [])
  case "where": return (Tensor.where(x[0].gt(0), x[1], x[2]), [])
  case "clamp": return (x[0].clamp(min: p.double("min").map { T($0) }, max: p.double("max").map { T($0) }), [])
  case "lt": return (x[0].lt(x[1]), [])
  case "ge": return (x[0].ge(x[1]), [])
  case "eq": return (x[0].eq(x[1]), [])
  case "relu": return (x[0].relu(), [])
  case "leaky_relu": return (x[0].leakyRelu(slope: T(p.double("slope")!)), [])
  case "tanh": return (x[0].tanh(), [])
  case "sigmoid": return (x[0].sigmoid(), [])
  case "softplus": return (x[0].softplus(beta: T(p.double("beta")!), threshold: T(p.double("threshold")!)), [])
  case "exp": return (x[0].exp(), [])
  case "log": return (x[0].log(), [])
  case "matmul": return (x[0].matmul(x[1]), [])
  case "linear": return (linear(x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil), [])
  case "conv2d":
    return (
      conv2d(
        x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil, stride: p.pair("stride") ?? 1,
        padding: p.pair("padding") ?? 0, dilation: p.pair("dilation") ?? 1, groups: p.int("groups") ?? 1), []
    )
  case "conv_transpose2d":
    return (
      convTranspose2d(
        x[0], weight: x[1], bias: x.count > 2 ? x[2] : nil, stride: p.pair("stride") ?? 1,
        padding: p.pair("padding") ?? 0, outputPadding: p.pair("output_padding") ?? 0,
        dilation: p.pair("dilation") ?? 1, groups: p.int("groups") ?? 1, outputSize: p.pair("output_size")), []
    )
  case "upsample_conv_transpose2d":
    return (
      upsampleNearestConvTranspose2d(
        x[0], size: p.pair("size")!, weight: x[1], bias: x.count > 2 ? x[2] : nil, stride: p.pair("stride") ?? 1,
        padding: p.pair("padding") ?? 0, outputSize: p.pair("output_size")), []
    )
  case "max_pool":
    return (
      maxPool(
        x[0], kernel: p.pair("kernel_size")!, stride: p.pair("stride"), padding: p.pair("padding") ?? 0,
        dilation: p.pair("dilation") ?? 1, ceilMode: p.bool("ceil_mode") ?? false), []
    )
  case "max_pool2d":
    let r = maxPool2d(
      x[0], kernel: p.pair("kernel_size")!, stride: p.pair("stride"), padding: p.pair("padding") ?? 0,
      dilation: p.pair("dilation") ?? 1, ceilMode: p.bool("ceil_mode") ?? false)
    return (r.output, [r.indices])
  case "avg_pool2d":
    return (
      avgPool2d(
        x[0], kernel: p.pair("kernel_size")!, stride: p.pair("stride"), padding: p.pair("padding") ?? 0,
        ceilMode: p.bool("ceil_mode") ?? false, countIncludePad: p.bool("count_include_pad") ?? true), []
    )
  case "adaptive_avg_pool2d": return (adaptiveAvgPool2d(x[0], outputSize: p.pair("output_size")!), [])
  case "interpolate":
    let mode = UpsampleMode(rawValue: p.params["mode"] as! String)!
    return (
      interpolate(
        x[0], size: p.pair("size"), scaleFactor: p.double("scale_factor"), mode: mode,
        alignCorners: p.bool("align_corners") ?? false), []
    )
  case "softmax": return (x[0].softmax(dim: p.int("dim")!), [])
  case "log_softmax": return (x[0].logSoftmax(dim: p.int("dim")!), [])
  case "cross_entropy":
    let red = LossReduction(rawValue: p.params["reduction"] as! String)!
    return (
      crossEntropy(
        x[0], idx[0], weight: (p.bool("weighted") ?? false) ? x[1] : nil, reduction: red,
        ignoreIndex: p.int("ignore_index") ?? -100), []
    )
  case "mse": return (mseLoss(x[0], x[1], reduction: LossReduction(rawValue: p.params["reduction"] as! String)!), [])
  case "bce_with_logits":
    return (
      binaryCrossEntropyWithLogits(
        x[0], x[1], posWeight: T(p.double("pos_weight") ?? 1),
        reduction: LossReduction(rawValue: p.params["reduction"] as! String)!), []
    )
  case "cat": return (concat(x, dim: p.int("dim")!), [])
  case "stack": return (stack(x, dim: p.int("dim")!), [])
  case "reshape": return (x[0].reshaped((p.params["shape"] as! [NSNumber]).map(\.intValue)), [])
  case "flatten": return (x[0].flattened(from: p.int("start")!, to: p.int("end")!), [])
  case "permute": return (x[0].permuted((p.params["order"] as! [NSNumber]).map(\.intValue)), [])
  case "slice":
    return (x[0].slice(dim: p.int("dim")!, start: p.int("start")!, end: p.int("end"), step: p.int("step")!), [])
  case "index_select": return (x[0].indexSelect(dim: p.int("dim")!, idx[0]), [])
  case "gather": return (x[0].gather(dim: p.int("dim")!, idx[0]), [])
  case "sum":
    if let dims = p.params["dims"] as? [NSNumber] {
      return (x[0].sum(dims: dims.map(\.intValue), keepDim: p.bool("keepdim")!), [])
    }
    if let d = p.int("dim") { return (x[0].sum(dim: d, keepDim: p.bool("keepdim")!), []) }
    return (x[0].sum(), [])
  case "mean":
    if let dims = p.params["dims"] as? [NSNumber] {
      return (x[0].mean(dims: dims.map(\.intValue), keepDim: p.bool("keepdim")!), [])
    }
    if let d = p.int("dim") { return (x[0].mean(dim: d, keepDim: p.bool("keepdim")!), []) }
    return (x[0].mean(), [])
  case "max":
    if let d = p.int("dim") {
      let r = x[0].max(dim: d, keepDim: p.bool("keepdim")!)
      return (r.values, [r.indices])
    }
    return (x[0].max(), [])
  case "argmax":
    let r = x[0].argmax(dim: p.int("dim")!)
    return (Tensor(shape: r.shape, scalars: r.values.map { T($0) }), [])
  case "batch_norm":
    let rm = try! c.tensor("running_mean0")!.tensor(T.self)
    let rv = try! c.tensor("running_var0")!.tensor(T.self)
    let y = batchNorm(x[0], runningMean: rm, runningVar: rv, weight: x[1], bias: x[2], training: p.bool("training")!)
    return (y, [rm, rv])
  case "lrn":
    return (
      localResponseNorm(
        x[0], size: p.int("size")!, alpha: T(p.double("alpha")!), beta: T(p.double("beta")!), k: T(p.double("k")!)), []
    )
  case "gru_cell":
    return (gruCell(x[0], x[1], weightIH: x[2], weightHH: x[3], biasIH: x[4], biasHH: x[5]), [])
  case "gru":
    let layers = (0..<p.int("layers")!).map { l in
      GRULayerWeights(weightIH: x[2 + 4 * l], weightHH: x[3 + 4 * l], biasIH: x[4 + 4 * l], biasHH: x[5 + 4 * l])
    }
    let r = gru(x[0], h0: x[1], layers: layers)
    return (r.output, [r.hidden])
  case "one_hot":
    return (oneHot(idx[0], classes: p.int("classes")!, as: T.self), [])
  default:
    fatalError("no runner for op \(c.op)")
  }
}

/// Every fixture family.
let opFamilies = [
  "elementwise", "activations", "matmul", "conv", "pooling", "upsample", "softmax", "losses", "shape",
  "reductions", "normalization", "recurrent", "fused",
]
