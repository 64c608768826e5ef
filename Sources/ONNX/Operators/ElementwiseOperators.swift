import Engine
import Foundation

/// A unary float operator from an engine op.
private func unary(_ f: @escaping @Sendable (Tensor<Float>) -> Tensor<Float>) -> OperatorKernel {
  { call in [.float(f(try call.float(0)))] }
}

/// Integer values of both inputs broadcast together, combined by `f` (shape arithmetic).
private func integerBinary(
  _ call: OperatorCall, _ a: IntTensor, _ b: IntTensor, _ f: (Int, Int) throws -> Int
) throws -> IntTensor {
  let shape = try Shapes.broadcast(a.shape, b.shape, call.node)
  _ = try Shapes.count(shape, call.node)
  let x = Shapes.expand(a, to: shape).values
  let y = Shapes.expand(b, to: shape).values
  var out = [Int](repeating: 0, count: x.count)
  for i in 0..<x.count { out[i] = try f(x[i], y[i]) }
  return IntTensor(shape: shape, values: out)
}

/// Both inputs as float tensors (integer inputs become constants) with a checked broadcast.
private func floatPair(_ call: OperatorCall) throws -> (Tensor<Float>, Tensor<Float>) {
  func asFloat(_ v: GraphValue) -> Tensor<Float> {
    if case .float(let t) = v { return t }
    return Tensor(shape: v.shape, scalars: v.floats)
  }
  let a = asFloat(try call.input(0))
  let b = asFloat(try call.input(1))
  _ = try Shapes.count(try Shapes.broadcast(a.shape, b.shape, call.node), call.node)
  return (a, b)
}

/// Add, Sub, Mul, Div: engine ops (with gradients) on floats, exact integer arithmetic on integers.
private func arithmetic(
  _ floatOp: @escaping @Sendable (Tensor<Float>, Tensor<Float>) -> Tensor<Float>,
  _ intOp: @escaping @Sendable (Int, Int) throws -> Int
) -> OperatorKernel {
  { call in
    switch (try call.input(0), try call.input(1)) {
    case (.int(let a), .int(let b)), (.int(let a), .bool(let b)), (.bool(let a), .int(let b)):
      return [.int(try integerBinary(call, a, b, intOp))]
    default:
      let (a, b) = try floatPair(call)
      return [.float(floatOp(a, b))]
    }
  }
}

/// Equal, Greater, Less: booleans from a comparison of both inputs (broadcast).
private func comparison(_ compare: @escaping @Sendable (Double, Double) -> Bool) -> OperatorKernel {
  { call in
    let a = try call.input(0)
    let b = try call.input(1)
    if !a.isFloat && !b.isFloat, let x = a.integers, let y = b.integers {
      let r = try integerBinary(
        call, IntTensor(shape: a.shape, values: x), IntTensor(shape: b.shape, values: y)
      ) { compare(Double($0), Double($1)) ? 1 : 0 }
      return [.bool(r)]
    }
    let shape = try Shapes.broadcast(a.shape, b.shape, call.node)
    _ = try Shapes.count(shape, call.node)
    let x = Tensor<Float>(shape: a.shape, scalars: a.floats).expanded(to: shape).scalars
    let y = Tensor<Float>(shape: b.shape, scalars: b.floats).expanded(to: shape).scalars
    return [.bool(IntTensor(shape: shape, values: zip(x, y).map { compare(Double($0), Double($1)) ? 1 : 0 }))]
  }
}

extension GraphValue {
  var isFloat: Bool {
    if case .float = self { return true }
    return false
  }
}

let activationOperators: [String: OperatorKernel] = [
  "Relu": unary { $0.relu() },
  "Sigmoid": unary { $0.sigmoid() },
  "Tanh": unary { $0.tanh() },
  "Erf": unary { $0.erf() },
  "Sqrt": unary { $0.sqrt() },
  "LeakyRelu": { call in
    [.float(try call.float(0).leakyRelu(slope: try call.node.float("alpha", 0.01)))]
  },
  "Identity": { call in [try call.input(0)] },
  "Dropout": { call in
    // Inference: the identity; a requested mask is all true.
    let x = try call.input(0)
    if call.node.outputs.count > 1 && !call.node.outputs[1].isEmpty {
      return [x, .bool(IntTensor(shape: x.shape, values: Array(repeating: 1, count: x.count)))]
    }
    return [x]
  },
  "Clip": { call in
    let node = call.node
    var lo = -Float.infinity
    var hi = Float.infinity
    if call.opset < 11 {
      lo = try node.float("min", lo)
      hi = try node.float("max", hi)
    } else {
      for (i, isMin) in [(1, true), (2, false)] {
        guard let v = call.optional(i) else { continue }
        guard v.count == 1 else { throw node.error("\(isMin ? "min" : "max") must be a scalar, found \(v.shape)") }
        if isMin { lo = v.floats[0] } else { hi = v.floats[0] }
      }
    }
    switch try call.input(0) {
    case .float(let x): return [.float(x.clamp(min: lo, max: hi))]
    case .int(let t), .bool(let t):
      let l = Shapes.integer(Double(lo)) ?? (lo < 0 ? Int.min : Int.max)
      let h = Shapes.integer(Double(hi)) ?? (hi < 0 ? Int.min : Int.max)
      return [.int(IntTensor(shape: t.shape, values: t.values.map { min(max($0, l), h) }))]
    }
  },
  "Pow": { call in
    let node = call.node
    let exponent = try call.input(1)
    guard exponent.count == 1 else {
      throw node.error("only a scalar exponent is supported, found \(exponent.shape)")
    }
    let p = exponent.floats[0]
    switch try call.input(0) {
    case .float(let x): return [.float(x.pow(p))]
    case .int(let t), .bool(let t):
      let values = try t.values.map { v -> Int in
        guard let r = Shapes.integer(Foundation.pow(Double(v), Double(p))) else {
          throw node.error("\(v)^\(p) is not a representable integer")
        }
        return r
      }
      return [.int(IntTensor(shape: t.shape, values: values))]
    }
  },
]

let arithmeticOperators: [String: OperatorKernel] = [
  "Add": arithmetic({ $0 + $1 }, { a, b in a &+ b }),
  "Sub": arithmetic({ $0 - $1 }, { a, b in a &- b }),
  "Mul": arithmetic({ $0 * $1 }, { a, b in a &* b }),
  "Div": arithmetic(
    { $0 / $1 },
    { a, b in
      guard b != 0, !(a == Int.min && b == -1) else {
        throw CheckpointError("Div: integer division by zero or overflow")
      }
      return a / b
    }),
  "Equal": comparison { $0 == $1 },
  "Greater": comparison { $0 > $1 },
  "Less": comparison { $0 < $1 },
  "Not": { call in
    let t = try call.integers(0)
    return [.bool(IntTensor(shape: t.shape, values: t.values.map { $0 == 0 ? 1 : 0 }))]
  },
  "Where": { call in
    let node = call.node
    let condition = try call.integers(0)
    let a = try call.input(1)
    let b = try call.input(2)
    let shape = try Shapes.broadcast(try Shapes.broadcast(condition.shape, a.shape, node), b.shape, node)
    _ = try Shapes.count(shape, node)
    if !a.isFloat && !b.isFloat, let x = a.integers, let y = b.integers {
      let c = Shapes.expand(condition, to: shape).values
      let xa = Shapes.expand(IntTensor(shape: a.shape, values: x), to: shape).values
      let yb = Shapes.expand(IntTensor(shape: b.shape, values: y), to: shape).values
      return [.int(IntTensor(shape: shape, values: (0..<c.count).map { c[$0] != 0 ? xa[$0] : yb[$0] }))]
    }
    func asFloat(_ v: GraphValue) -> Tensor<Float> {
      if case .float(let t) = v { return t }
      return Tensor(shape: v.shape, scalars: v.floats)
    }
    let c = Tensor<Float>(shape: condition.shape, scalars: condition.values.map { $0 != 0 ? 1 : 0 })
    return [.float(Tensor.where(c, asFloat(a), asFloat(b)))]
  },
  "Cast": { call in
    let node = call.node
    let to = try node.int("to", 0)
    guard let type = ElementType(rawValue: Int32(clamping: to)), type != .string else {
      throw node.error("cast to \(ElementType.name(Int32(clamping: to))) is not supported")
    }
    let x = try call.input(0)
    if type.isFloat {
      if case .float = x { return [x] }
      return [.float(Tensor(shape: x.shape, scalars: x.floats))]
    }
    if type == .bool {
      return [.bool(IntTensor(shape: x.shape, values: x.floats.map { $0 != 0 ? 1 : 0 }))]
    }
    guard let v = x.integers else { throw node.error("cannot cast non-finite values to integers") }
    return [.int(IntTensor(shape: x.shape, values: v))]
  },
]
