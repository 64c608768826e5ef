import Engine

/// Shape arithmetic that throws instead of trapping: every operator checks its inputs with these
/// before calling an engine op (whose preconditions would stop the process).
enum Shapes {
  /// The multidirectional (NumPy) broadcast of two shapes, or an error naming both.
  static func broadcast(_ a: [Int], _ b: [Int], _ node: Node) throws -> [Int] {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
      let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
      let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
      guard da == db || da == 1 || db == 1 else { throw node.error("shapes \(a) and \(b) do not broadcast") }
      out[i] = da == 1 ? db : da
    }
    return out
  }

  /// `axis` (negative counts from the end) as an index into a shape of `rank`, or an error.
  static func axis(_ axis: Int, rank: Int, _ node: Node, inclusive: Bool = false) throws -> Int {
    let r = inclusive ? rank + 1 : rank
    let a = axis < 0 ? axis + r : axis
    guard a >= 0 && a < r else { throw node.error("axis \(axis) is out of range for rank \(rank)") }
    return a
  }

  /// The element count of `shape`, or an error when it overflows or exceeds the read budget.
  static func count(_ shape: [Int], _ node: Node) throws -> Int {
    var n = 1
    for d in shape {
      guard d >= 0 else { throw node.error("negative dimension in shape \(shape)") }
      let (p, o) = n.multipliedReportingOverflow(by: d)
      guard !o, p <= ReadBudget.bytes / 4 else { throw node.error("shape \(shape) is too large") }
      n = p
    }
    return n
  }

  /// `value` as an integer when it is finite and within +-2^53 (nil otherwise: converting it would trap).
  static func integer(_ value: Double) -> Int? {
    value.isFinite && abs(value) <= 0x1p53 ? Int(value) : nil
  }

  /// `t` broadcast to `shape` (integer values).
  static func expand(_ t: IntTensor, to shape: [Int]) -> IntTensor {
    let offset = shape.count - t.shape.count
    let s = contiguousStrides(t.shape)
    let map = rowMajorMap(shape) { c in
      var i = 0
      for d in 0..<t.shape.count where t.shape[d] != 1 { i += c[d + offset] * s[d] }
      return i
    }
    return IntTensor(shape: shape, values: map.map { t.values[$0] })
  }

  /// `t` with its axes in `order` (integer values).
  static func permute(_ t: IntTensor, _ order: [Int]) -> IntTensor {
    let s = contiguousStrides(t.shape)
    let shape = order.map { t.shape[$0] }
    let map = rowMajorMap(shape) { c in
      var i = 0
      for (k, d) in order.enumerated() { i += c[k] * s[d] }
      return i
    }
    return IntTensor(shape: shape, values: map.map { t.values[$0] })
  }

  /// Entries `indices` along `axis` of `t` (integer values); the output shape puts `indexShape` in
  /// place of the axis.
  static func take(_ t: IntTensor, axis: Int, indices: [Int], indexShape: [Int]) -> IntTensor {
    let outer = t.shape[..<axis].reduce(1, *)
    let inner = t.shape[(axis + 1)...].reduce(1, *)
    let n = t.shape[axis]
    var values: [Int] = []
    values.reserveCapacity(outer * indices.count * inner)
    for o in 0..<outer {
      for i in indices {
        let base = (o * n + i) * inner
        values.append(contentsOf: t.values[base..<(base + inner)])
      }
    }
    return IntTensor(shape: Array(t.shape[..<axis]) + indexShape + Array(t.shape[(axis + 1)...]), values: values)
  }

  /// Integer tensors joined along `axis`.
  static func concat(_ parts: [IntTensor], axis: Int) -> IntTensor {
    let outer = parts[0].shape[..<axis].reduce(1, *)
    var values: [Int] = []
    for o in 0..<outer {
      for p in parts {
        let inner = p.shape[axis...].reduce(1, *)
        values.append(contentsOf: p.values[(o * inner)..<((o + 1) * inner)])
      }
    }
    var shape = parts[0].shape
    shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
    return IntTensor(shape: shape, values: values)
  }
}
