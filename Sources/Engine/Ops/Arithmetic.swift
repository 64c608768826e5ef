import Kernels

// Elementwise arithmetic with broadcasting; each op's pullback sits beside it.

extension Tensor {
  /// a + b (broadcasting). d/da = g, d/db = g, each summed over stretched axes.
  public static func + (a: Tensor, b: Tensor) -> Tensor {
    let shape = broadcastShapes(a.shape, b.shape)
    let v = applyBinary(AddOp.self, a.scalars, a.shape, b.scalars, b.shape, shape)
    return .result(shape: shape, scalars: v, inputs: [a, b], op: .add) { g in
      [
        a.requiresGrad ? a.unbroadcast(g, from: shape) : nil,
        b.requiresGrad ? b.unbroadcast(g, from: shape) : nil,
      ]
    }
  }

  /// a - b (broadcasting). d/da = g, d/db = -g.
  public static func - (a: Tensor, b: Tensor) -> Tensor {
    let shape = broadcastShapes(a.shape, b.shape)
    let v = applyBinary(SubOp.self, a.scalars, a.shape, b.scalars, b.shape, shape)
    return .result(shape: shape, scalars: v, inputs: [a, b]) { g in
      [
        a.requiresGrad ? a.unbroadcast(g, from: shape) : nil,
        b.requiresGrad ? b.unbroadcast(g.map { -$0 }, from: shape) : nil,
      ]
    }
  }

  /// a * b (broadcasting). d/da = g * b, d/db = g * a.
  public static func * (a: Tensor, b: Tensor) -> Tensor {
    let shape = broadcastShapes(a.shape, b.shape)
    let v = applyBinary(MulOp.self, a.scalars, a.shape, b.scalars, b.shape, shape)
    return .result(shape: shape, scalars: v, inputs: [a, b]) { g in
      [
        a.requiresGrad ? a.unbroadcast(applyBinary(MulOp.self, g, shape, b.scalars, b.shape, shape), from: shape) : nil,
        b.requiresGrad ? b.unbroadcast(applyBinary(MulOp.self, g, shape, a.scalars, a.shape, shape), from: shape) : nil,
      ]
    }
  }

  /// a / b (broadcasting). d/da = g / b, d/db = -g * a / b^2.
  public static func / (a: Tensor, b: Tensor) -> Tensor {
    let shape = broadcastShapes(a.shape, b.shape)
    let v = applyBinary(DivOp.self, a.scalars, a.shape, b.scalars, b.shape, shape)
    return .result(shape: shape, scalars: v, inputs: [a, b]) { g in
      var ga: [Scalar]? = nil
      var gb: [Scalar]? = nil
      let gOverB = applyBinary(DivOp.self, g, shape, b.scalars, b.shape, shape)
      if a.requiresGrad { ga = a.unbroadcast(gOverB, from: shape) }
      if b.requiresGrad {
        // -g/b * (a/b) = -(g/b) * out
        var t = applyBinary(MulOp.self, gOverB, shape, v, shape, shape)
        for i in t.indices { t[i] = -t[i] }
        gb = b.unbroadcast(t, from: shape)
      }
      return [ga, gb]
    }
  }

  /// -x
  public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1, shift: 0) }

  /// scale * x + shift, elementwise. d/dx = scale * g.
  public func affine(scale: Scalar, shift: Scalar) -> Tensor {
    let v: [Scalar] = makeArray(count) { y in
      scalars.withUnsafeBufferPointer { Elementwise.affine($0.baseAddress!, y, count, scale: scale, shift: shift) }
    }
    return .result(shape: shape, scalars: v, inputs: [self]) { g in [g.map { $0 * scale }] }
  }

  /// x + s
  public static func + (x: Tensor, s: Scalar) -> Tensor { x.affine(scale: 1, shift: s) }
  /// s + x
  public static func + (s: Scalar, x: Tensor) -> Tensor { x.affine(scale: 1, shift: s) }
  /// x - s
  public static func - (x: Tensor, s: Scalar) -> Tensor { x.affine(scale: 1, shift: -s) }
  /// s - x
  public static func - (s: Scalar, x: Tensor) -> Tensor { x.affine(scale: -1, shift: s) }
  /// x * s
  public static func * (x: Tensor, s: Scalar) -> Tensor { x.affine(scale: s, shift: 0) }
  /// s * x
  public static func * (s: Scalar, x: Tensor) -> Tensor { x.affine(scale: s, shift: 0) }
  /// x / s
  public static func / (x: Tensor, s: Scalar) -> Tensor { x.affine(scale: 1 / s, shift: 0) }
  /// s / x
  public static func / (s: Scalar, x: Tensor) -> Tensor { Tensor(s) / x }

  /// x^p elementwise. d/dx = p x^(p-1) g.
  public func pow(_ p: Scalar) -> Tensor {
    let v: [Scalar] = makeArray(count) { y in
      scalars.withUnsafeBufferPointer { Elementwise.pow($0.baseAddress!, y, count, exponent: p) }
    }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      if p == 2 { return [zip(g, scalars).map { gi, x in gi * 2 * x }] }
      if let n = Int(exactly: p - 1) { return [zip(g, scalars).map { gi, x in gi * p * Scalar.pow(x, n) }] }
      return [zip(g, scalars).map { gi, x in gi * p * Scalar.pow(x, p - 1) }]
    }
  }

  /// sqrt(x) elementwise. d/dx = g / (2 sqrt(x)).
  public func sqrt() -> Tensor {
    let v: [Scalar] = makeArray(count) { y in
      scalars.withUnsafeBufferPointer { Elementwise.sqrt($0.baseAddress!, y, count) }
    }
    return .result(shape: shape, scalars: v, inputs: [self]) { g in
      [zip(g, v).map { gi, s in gi / (2 * s) }]
    }
  }

  /// |x| elementwise. d/dx = sign(x) g (0 at 0, like PyTorch).
  public func abs() -> Tensor {
    let v = scalars.map { Swift.abs($0) }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      [zip(g, scalars).map { gi, x in x > 0 ? gi : (x < 0 ? -gi : 0) }]
    }
  }
}
