import Kernels

// Comparisons give 0/1 tensors and carry no gradient; `where` and `clamp` route gradients.

extension Tensor {
  @inlinable
  func compare<Op: BinaryKernelOp>(_ op: Op.Type, _ other: Tensor) -> Tensor {
    let shape = broadcastShapes(self.shape, other.shape)
    return Tensor(shape: shape, scalars: applyBinary(op, scalars, self.shape, other.scalars, other.shape, shape))
  }
  /// 1 where self == other, else 0 (no gradient).
  public func eq(_ other: Tensor) -> Tensor { compare(EqualOp.self, other) }
  /// 1 where self != other, else 0.
  public func ne(_ other: Tensor) -> Tensor { compare(NotEqualOp.self, other) }
  /// 1 where self < other, else 0.
  public func lt(_ other: Tensor) -> Tensor { compare(LessOp.self, other) }
  /// 1 where self <= other, else 0.
  public func le(_ other: Tensor) -> Tensor { compare(LessEqualOp.self, other) }
  /// 1 where self > other, else 0.
  public func gt(_ other: Tensor) -> Tensor { compare(GreaterOp.self, other) }
  /// 1 where self >= other, else 0.
  public func ge(_ other: Tensor) -> Tensor { compare(GreaterEqualOp.self, other) }
  /// 1 where self < s, else 0.
  public func lt(_ s: Scalar) -> Tensor { lt(Tensor(s)) }
  /// 1 where self > s, else 0.
  public func gt(_ s: Scalar) -> Tensor { gt(Tensor(s)) }

  /// min(max(x, lo), hi); either bound may be nil. Gradient passes where lo <= x <= hi.
  public func clamp(min lo: Scalar? = nil, max hi: Scalar? = nil) -> Tensor {
    let l = lo ?? -Scalar.infinity
    let h = hi ?? Scalar.infinity
    let v: [Scalar] = makeArray(count) { y in
      scalars.withUnsafeBufferPointer { Elementwise.clamp($0.baseAddress!, y, count, lo: l, hi: h) }
    }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars, count] g in
      [
        makeArray(count) { dx in
          scalars.withUnsafeBufferPointer { x in
            g.withUnsafeBufferPointer {
              Elementwise.clampBackward(x.baseAddress!, $0.baseAddress!, dx, count, lo: l, hi: h)
            }
          }
        }
      ]
    }
  }
}

extension Tensor {
  /// Elementwise `condition != 0 ? a : b` with broadcasting of all three (torch.where). The gradient
  /// goes to `a` where the condition holds and to `b` elsewhere; the condition gets none.
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
    typealias T = Scalar
    let shape = broadcastShapes(broadcastShapes(condition.shape, a.shape), b.shape)
    let c = condition.broadcastValues(to: shape)
    let av = a.broadcastValues(to: shape)
    let bv = b.broadcastValues(to: shape)
    let n = shape.reduce(1, *)
    let v: [T] = makeArray(n) { out in
      c.withUnsafeBufferPointer { pc in
        av.withUnsafeBufferPointer { pa in
          bv.withUnsafeBufferPointer { Elementwise.select(pc.baseAddress!, pa.baseAddress!, $0.baseAddress!, out, n) }
        }
      }
    }
    return .result(shape: shape, scalars: v, inputs: [a, b]) { g in
      var ga: [T]? = nil
      var gb: [T]? = nil
      if a.requiresGrad { ga = a.unbroadcast(zip(g, c).map { $1 != 0 ? $0 : 0 }, from: shape) }
      if b.requiresGrad { gb = b.unbroadcast(zip(g, c).map { $1 != 0 ? 0 : $0 }, from: shape) }
      return [ga, gb]
    }
  }
}
