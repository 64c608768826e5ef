import Engine

/// A value on a graph edge. Float data of every width (float, double, float16) runs as the engine's
/// differentiable `Tensor<Float>`; integer tensors (shapes, indices, int64/int32) as `IntTensor`;
/// booleans as an `IntTensor` of 0 and 1.
public enum GraphValue {
  case float(Tensor<Float>)
  case int(IntTensor)
  case bool(IntTensor)

  /// The value's shape.
  public var shape: [Int] {
    switch self {
    case .float(let t): return t.shape
    case .int(let t), .bool(let t): return t.shape
    }
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// The element kind in words, for errors.
  public var kind: String {
    switch self {
    case .float: return "float"
    case .int: return "integer"
    case .bool: return "bool"
    }
  }

  /// The values as integers (floats truncated toward zero, as Cast does; non-finite floats are nil).
  var integers: [Int]? {
    switch self {
    case .int(let t), .bool(let t): return t.values
    case .float(let t):
      var out: [Int] = []
      out.reserveCapacity(t.count)
      for v in t.scalars {
        guard v.isFinite, abs(v) < 9.2e18 else { return nil }
        out.append(Int(v))
      }
      return out
    }
  }

  /// The values as floats.
  var floats: [Float] {
    switch self {
    case .float(let t): return t.scalars
    case .int(let t), .bool(let t): return t.values.map { Float($0) }
    }
  }
}
