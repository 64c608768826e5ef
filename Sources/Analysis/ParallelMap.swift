import Dispatch
import Foundation

/// `items.map(transform)` computed on all cores (the per-unit statistics and fits are independent;
/// GSL workspaces are per call). The items are cut into slices of at least `grain`, up to 16 per
/// worker, that the workers take as they become free: units' costs are uneven (silent units cost
/// nothing and come in runs of a channel's positions), so equal halves would leave a core idle. A
/// worker for every 4 grains (grain 16 for per-unit work); grain 1 for a few large items such as the
/// layers' summaries (a worker per item). Results keep the input order, so they do not depend on the
/// thread count. `EPHYS_THREADS` caps the workers, as for the engine.
public func parallelMap<T, R>(_ items: [T], grain: Int = 16, _ transform: (T) -> R) -> [R] {
  let env = ProcessInfo.processInfo.environment["EPHYS_THREADS"].flatMap { Int($0) }
  let workers = max(
    1, min(env ?? ProcessInfo.processInfo.activeProcessorCount, grain == 1 ? items.count : items.count / (4 * grain)))
  if workers == 1 { return items.map(transform) }
  let count = max(workers, min(16 * workers, items.count / grain))
  var slices = [[R]](repeating: [], count: count)
  withoutActuallyEscaping(transform) { transform in
    slices.withUnsafeMutableBufferPointer { out in
      let box = ParallelMapBox(out: out, items: items, transform: transform)
      DispatchQueue.concurrentPerform(iterations: workers) { _ in
        while let s = box.nextSlice(below: count) {
          let lo = box.items.count * s / count
          let hi = box.items.count * (s + 1) / count
          box.out[s] = box.items[lo..<hi].map(box.transform)
        }
      }
    }
  }
  return slices.flatMap { $0 }
}

/// Carries the map's inputs into the workers and hands out slices; each slice is written by the one
/// worker that took it.
private final class ParallelMapBox<T, R>: @unchecked Sendable {
  let out: UnsafeMutableBufferPointer<[R]>
  let items: [T]
  let transform: (T) -> R
  private let lock = NSLock()
  private var next = 0

  /// The next slice no worker has taken, or nil when all are taken.
  func nextSlice(below count: Int) -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard next < count else { return nil }
    next += 1
    return next - 1
  }

  init(out: UnsafeMutableBufferPointer<[R]>, items: [T], transform: @escaping (T) -> R) {
    self.out = out
    self.items = items
    self.transform = transform
  }
}
