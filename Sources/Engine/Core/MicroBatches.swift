import Kernels

/// Runs `body(range)` over 0..<n cut into micro-batches [0, size), [size, 2 size), ..., the
/// micro-batches spread over the engine's workers in contiguous runs. Inside `body` engine ops run
/// single-threaded and record no gradients, so each worker streams small batches whose activations stay
/// in its own core's cache, with no synchronisation between ops (inference sweeps). The cut does not
/// depend on the thread count, so neither do the results. `body` must write only memory that belongs
/// to its range.
public func forEachMicroBatch(_ n: Int, size: Int, _ body: (Range<Int>) -> Void) {
  precondition(size > 0, "micro-batch size must be positive")
  let batches = (n + size - 1) / size
  Parallel.forEachRange(batches) { run, _ in
    withNoGrad {
      for b in run { body((b * size)..<Swift.min(n, (b + 1) * size)) }
    }
  }
}

/// A mutable pointer that micro-batch workers writing disjoint elements may share.
public struct SharedPointer<T>: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<T>
  public init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}

/// A fixed-size buffer that micro-batch workers fill at disjoint positions; freed with the object.
public final class SharedBuffer<T>: @unchecked Sendable {
  /// The storage (valid while the buffer is alive).
  public let base: UnsafeMutablePointer<T>
  public let count: Int

  public init(count: Int, value: T) {
    self.count = count
    base = UnsafeMutablePointer<T>.allocate(capacity: count)
    base.initialize(repeating: value, count: count)
  }

  deinit {
    base.deinitialize(count: count)
    base.deallocate()
  }

  /// Element `i` (workers write only their own elements).
  public subscript(i: Int) -> T {
    get { base[i] }
    set { base[i] = newValue }
  }

  /// The contents as an array (a copy).
  public func array() -> [T] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
