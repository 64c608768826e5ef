/// An integer array with a shape: class labels, argmax results, pooling indices, gather indices.
public struct IntTensor: Sendable, Equatable {
  /// Extent of each dimension.
  public let shape: [Int]
  /// Row-major values.
  public let values: [Int]

  /// Wraps `values` as an array of `shape`.
  public init(shape: [Int], values: [Int]) {
    precondition(
      shape.reduce(1, *) == values.count,
      "shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
    self.shape = shape
    self.values = values
  }

  /// A 1-D array.
  public init(_ values: [Int]) { self.init(shape: [values.count], values: values) }

  /// Number of elements.
  public var count: Int { values.count }
}
