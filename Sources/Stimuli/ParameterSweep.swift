import Foundation

/// Values a stimulus parameter takes in a sweep: a fixed value, an evenly spaced range, or a list.
public enum ParameterValues: Sendable, Equatable {
  case fixed(Double)
  /// `steps` values from `from` to `to` inclusive (like numpy.linspace).
  case range(from: Double, to: Double, steps: Int)
  /// `steps` values from `from` to `to` inclusive, evenly spaced in log (like numpy.geomspace; both
  /// ends positive): contrasts, spatial frequencies, sizes.
  case logRange(from: Double, to: Double, steps: Int)
  case list([Double])

  /// How many values.
  public var count: Int {
    switch self {
    case .fixed: return 1
    case .range(_, _, let n), .logRange(_, _, let n): return max(1, n)
    case .list(let l): return l.count
    }
  }

  /// The values in sweep order.
  public var values: [Double] {
    switch self {
    case .fixed(let v): return [v]
    case .range(let a, let b, let n):
      if n <= 1 { return [a] }
      return (0..<n).map { a + (b - a) * Double($0) / Double(n - 1) }
    case .logRange(let a, let b, let n):
      if n <= 1 { return [a] }
      let (la, lb) = (log(a), log(b))
      return (0..<n).map { i in
        i == 0 ? a : i == n - 1 ? b : exp(la + (lb - la) * Double(i) / Double(n - 1))
      }
    case .list(let l): return l
    }
  }
}

/// A full-factorial grid over named parameters: every combination, the last-named parameter varying
/// fastest (row-major, like nested loops in declaration order).
public struct ParameterGrid: Sendable, Equatable {
  /// Parameter names in declaration order.
  public var names: [String]
  /// Values per parameter.
  public var values: [[Double]]

  public init(_ parameters: [(String, ParameterValues)]) {
    names = parameters.map(\.0)
    values = parameters.map(\.1.values)
  }

  /// Number of combinations.
  public var count: Int { values.reduce(1) { $0 * $1.count } }

  /// The index of each parameter's value in combination `i`.
  public func indices(_ i: Int) -> [Int] {
    var rest = i
    var out = [Int](repeating: 0, count: names.count)
    for k in stride(from: names.count - 1, through: 0, by: -1) {
      out[k] = rest % values[k].count
      rest /= values[k].count
    }
    return out
  }

  /// The parameter values of combination `i`, by name.
  public func combination(_ i: Int) -> [String: Double] {
    Dictionary(uniqueKeysWithValues: zip(names, zip(values, indices(i)).map { $0[$1] }))
  }
}
