import CBLAS
import Dispatch
import Foundation
import Synchronization

/// Data parallelism over the batch. The engine runs its own workers (one per core by default) and
/// keeps OpenBLAS single-threaded inside them, so thread pools never nest.
public enum Parallel {
  /// The start-up default: `EPHYS_THREADS` when set to a positive number, else the active processors
  /// (read once; the environment is not consulted on every op).
  private static let count = Atomic<Int>(
    ProcessInfo.processInfo.environment["EPHYS_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
      ?? max(1, ProcessInfo.processInfo.activeProcessorCount))
  /// Set once, before the first kernel: OpenBLAS gets one thread, and glibc keeps freed large blocks
  /// in the heap instead of returning them with munmap, so the per-op output arrays of a sweep reuse
  /// memory rather than faulting in fresh zero pages on every op.
  static let blasConfigured: Bool = {
    openblas_set_num_threads(1)
    #if canImport(Glibc)
      _ = mallopt(M_MMAP_THRESHOLD, 1 << 30)
      _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
    #endif
    return true
  }()

  /// Worker threads used by batch-parallel kernels (default: `EPHYS_THREADS`, else the active
  /// processors); 1 on a worker of `run`.
  public static var threads: Int {
    get {
      _ = blasConfigured
      return insideWorker ? 1 : count.load(ordering: .relaxed)
    }
    set {
      _ = blasConfigured
      count.store(max(1, newValue), ordering: .relaxed)
    }
  }

  /// True on a worker of `run`: kernels called from there run single-threaded, so model-level
  /// parallelism (one micro-batch per worker) never nests pools.
  @TaskLocal public static var insideWorker = false

  /// Splits 0..<n into at most `threads` contiguous ranges of at least `minimum` items and runs
  /// `body(range, worker)` for each, concurrently when there is more than one.
  public static func forEachRange(_ n: Int, minimum: Int = 1, _ body: (Range<Int>, Int) -> Void) {
    let parts = ranges(n, minimum: minimum)
    run(parts.count) { body(parts[$0], $0) }
  }

  /// 0..<n cut into at most `threads` contiguous ranges of at least `minimum` items (one range when
  /// n is small).
  public static func ranges(_ n: Int, minimum: Int = 1) -> [Range<Int>] {
    let workers = max(1, min(threads, n / max(1, minimum)))
    return (0..<workers).map { w in (n * w / workers)..<(n * (w + 1) / workers) }
  }

  /// Runs `body(worker)` for workers 0..<count, concurrently when count > 1.
  public static func run(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 {
      if count == 1 { body(0) }
      return
    }
    withoutActuallyEscaping(body) { work in
      let box = UncheckedBox(work)
      DispatchQueue.concurrentPerform(iterations: count) { w in $insideWorker.withValue(true) { box.value(w) } }
    }
  }
}

/// Carries a non-Sendable value into `concurrentPerform`; the kernels guarantee that workers touch
/// disjoint memory.
struct UncheckedBox<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
