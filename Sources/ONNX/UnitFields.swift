import Engine

/// The input pixels seen along one spatial axis of a graph value, index by index: what a unit at
/// each index sees along the input axis this one runs along, and where its field is centred.
public struct AxisFields: Sendable, Equatable {
  /// The input axis this one runs along: 0 rows, 1 columns (a Transpose can swap them).
  public var source: Int
  /// Per index, the input pixels its units see (nil: none, as at a constant pad).
  public var spans: [ClosedRange<Int>?]
  /// Per index, the geometric centre of the field, input pixels (not clamped to the input).
  public var centres: [Double]
  /// Input pixels per index step, to place centres beyond the ends (padding).
  public var jump: Double

  /// Indices along the axis.
  public var count: Int { spans.count }

  /// The image input's own axis of `n` pixels: index i sees pixel i.
  static func identity(_ n: Int, source: Int) -> AxisFields {
    AxisFields(source: source, spans: (0..<n).map { $0...$0 }, centres: (0..<n).map(Double.init), jump: 1)
  }

  /// The centre at fractional index `t`: interpolated between indices, extrapolated by `jump` beyond
  /// the ends (the unclamped geometric centre of a padded position).
  func centre(at t: Double) -> Double {
    guard count > 0 else { return t * jump }  // an empty axis (a crop to nothing): no centres to read
    let last = Double(count - 1)
    if t <= 0 { return centres[0] + t * jump }
    if t >= last { return centres[count - 1] + (t - last) * jump }
    let i = Int(t.rounded(.down))
    let f = t - Double(i)
    return f == 0 ? centres[i] : centres[i] + f * (centres[i + 1] - centres[i])
  }

  /// The smallest range holding the spans at those of `indices` that lie on the axis (nil: none).
  func hull(_ indices: some Sequence<Int>) -> ClosedRange<Int>? {
    var lo = Int.max
    var hi = Int.min
    for i in indices where i >= 0 && i < count {
      guard let s = spans[i] else { continue }
      lo = min(lo, s.lowerBound)
      hi = max(hi, s.upperBound)
    }
    return lo <= hi ? lo...hi : nil
  }

  /// A sliding window's output of `size` indices (conv or pool): index o covers the input indices
  /// o s - b + t d for t < k; its centre is at o s - b + d (k - 1) / 2.
  func window(kernel k: Int, stride s: Int, begin b: Int, dilation d: Int, size: Int) -> AxisFields {
    AxisFields(
      source: source,
      spans: (0..<size).map { o in hull(Swift.stride(from: o * s - b, through: o * s - b + d * (k - 1), by: d)) },
      centres: (0..<size).map { o in centre(at: Double(o * s - b) + Double(d * (k - 1)) / 2) },
      jump: jump * Double(s))
  }

  /// A transposed convolution's output of `size` indices after cropping `b` at the start: index o
  /// takes input i wherever o + b = i s + t d (t < k); its centre is at (o + b - d (k - 1) / 2) / s.
  func transposedWindow(kernel k: Int, stride s: Int, begin b: Int, dilation d: Int, size: Int) -> AxisFields {
    AxisFields(
      source: source,
      spans: (0..<size).map { o in
        hull((0..<k).compactMap { t in (o + b - t * d) >= 0 && (o + b - t * d) % s == 0 ? (o + b - t * d) / s : nil })
      },
      centres: (0..<size).map { o in centre(at: (Double(o + b) - Double(d * (k - 1)) / 2) / Double(s)) },
      jump: jump / Double(s))
  }

  /// Output index o copies input index `from[o].index` (nil: a constant, seeing nothing) and is
  /// centred where input position `from[o].at` is; `step` input indices per output index.
  func picked(_ from: [(index: Int?, at: Double)], step: Double) -> AxisFields {
    AxisFields(
      source: source, spans: from.map { f in f.index.flatMap { spans[$0] } },
      centres: from.map { centre(at: $0.at) }, jump: jump * abs(step))
  }

  /// Resampled with `taps` per output index: each sees what its taps of nonzero weight see, centred on
  /// the weighted mean of their centres.
  func resampled(_ taps: [ResampleTaps<Float>]) -> AxisFields {
    let mixed = taps.map { t -> Double in
      let total = t.reduce(0.0) { $0 + Double($1.weight) }
      if total == 0 { return t.reduce(0.0) { $0 + centres[$1.index] } / Double(max(1, t.count)) }
      return t.reduce(0.0) { $0 + Double($1.weight) * centres[$1.index] } / total
    }
    return AxisFields(
      source: source, spans: taps.map { t in hull(t.filter { $0.weight != 0 }.map(\.index)) }, centres: mixed,
      jump: jump * Double(count) / Double(max(1, taps.count)))
  }

  /// One index seeing the whole axis (global pooling, flattening), centred on its middle.
  func collapsed() -> AxisFields {
    AxisFields(
      source: source, spans: [hull(0..<count)], centres: [centre(at: Double(count - 1) / 2)],
      jump: jump * Double(count))
  }

  /// A single index repeated `size` times (a value broadcast over positions).
  func broadcast(to size: Int) -> AxisFields {
    AxisFields(
      source: source, spans: Array(repeating: spans[0], count: size),
      centres: Array(repeating: centres[0], count: size),
      jump: 0)
  }

  /// Indices `range` of the axis (a Split along it).
  func part(_ range: Range<Int>) -> AxisFields {
    AxisFields(source: source, spans: Array(spans[range]), centres: Array(centres[range]), jump: jump)
  }

  /// Joined paths of the same size (Add, Mul, Concat on channels): per index the hull of their spans,
  /// centred as the path that sees the most there (a residual block's shortcut lies inside its conv
  /// path). nil when the paths run along different input axes or have different sizes.
  static func joined(_ axes: [AxisFields]) -> AxisFields? {
    guard let first = axes.first, axes.allSatisfy({ $0.source == first.source && $0.count == first.count }) else {
      return nil
    }
    if axes.count == 1 { return first }
    var out = first
    for i in 0..<first.count {
      func width(_ a: AxisFields) -> Int { a.spans[i].map { $0.count } ?? -1 }
      let widest = axes.max { width($0) < width($1) }!
      out.spans[i] = axes.reduce(nil) { union($0, $1.spans[i]) }
      out.centres[i] = widest.centres[i]
    }
    return out
  }

  /// The smallest range holding both (nil where both are nil).
  static func union(_ a: ClosedRange<Int>?, _ b: ClosedRange<Int>?) -> ClosedRange<Int>? {
    guard let a else { return b }
    guard let b else { return a }
    return min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
  }

  /// Paths laid end to end along the axis (Concat along a spatial axis).
  static func concatenated(_ axes: [AxisFields]) -> AxisFields? {
    guard let first = axes.first, axes.allSatisfy({ $0.source == first.source }) else { return nil }
    return AxisFields(
      source: first.source, spans: axes.flatMap(\.spans), centres: axes.flatMap(\.centres), jump: first.jump)
  }
}

/// Where the units of one graph value look in the image input, read off the graph: for a
/// [N, C, H, W] value the fields along H and W (`axes[0]`, `axes[1]`); a [N, F] value is one
/// position seeing everything its input saw. Every channel at a position shares the field.
public struct ValueFields: UnitFieldMap, Equatable {
  /// The value's height and width axes.
  public var axes: [AxisFields]
  /// The image input's height and width, pixels.
  public let inputHeight, inputWidth: Int

  /// The image input itself.
  static func input(height: Int, width: Int) -> ValueFields {
    ValueFields(
      axes: [.identity(height, source: 0), .identity(width, source: 1)], inputHeight: height, inputWidth: width)
  }

  /// The same input with other axes.
  func with(_ axes: [AxisFields]) -> ValueFields {
    ValueFields(axes: axes, inputHeight: inputHeight, inputWidth: inputWidth)
  }

  public var outputSize: (height: Int, width: Int)? { (axes[0].count, axes[1].count) }

  /// Whether every position sees at least one input pixel (a constant pad's positions see none).
  public var complete: Bool { axes.allSatisfy { $0.spans.allSatisfy { $0 != nil } } }

  /// The axis along input rows (0) or columns (1), and the index of map position (y, x) on it.
  private func along(_ source: Int, _ y: Int, _ x: Int) -> (AxisFields, Int) {
    axes[0].source == source ? (axes[0], y) : (axes[1], x)
  }

  /// The input rows and columns seen at map position (y, x); a position that sees nothing (only for
  /// values that are not complete) gives the input pixel nearest its centre.
  public func field(y: Int, x: Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>) {
    let (r, i) = along(0, y, x)
    let (c, j) = along(1, y, x)
    let fallback = { (v: Double, n: Int) -> ClosedRange<Int> in
      let p = min(max(Int(v.rounded()), 0), n - 1)
      return p...p
    }
    return (
      r.spans[i] ?? fallback(r.centres[i], inputHeight), c.spans[j] ?? fallback(c.centres[j], inputWidth)
    )
  }

  public func centre(y: Int, x: Int) -> (y: Double, x: Double) {
    let (r, i) = along(0, y, x)
    let (c, j) = along(1, y, x)
    return (r.centres[i], c.centres[j])
  }
}
