import Dispatch
import Foundation

/// `items.map(transform)` computed on all cores in contiguous slices (the per-unit statistics and
/// fits are independent; GSL workspaces are per call). Results keep the input order, so they do not
/// depend on the thread count. `EPHYS_THREADS` caps the workers, as for the engine.
func parallelMap<T, R>(_ items: [T], _ transform: (T) -> R) -> [R] {
  let env = ProcessInfo.processInfo.environment["EPHYS_THREADS"].flatMap { Int($0) }
  let workers = max(1, min(env ?? ProcessInfo.processInfo.activeProcessorCount, items.count / 64))
  if workers == 1 { return items.map(transform) }
  var slices = [[R]](repeating: [], count: workers)
  withoutActuallyEscaping(transform) { transform in
    slices.withUnsafeMutableBufferPointer { out in
      let box = ParallelMapBox(out: out, items: items, transform: transform)
      DispatchQueue.concurrentPerform(iterations: workers) { w in
        let lo = box.items.count * w / workers
        let hi = box.items.count * (w + 1) / workers
        box.out[w] = box.items[lo..<hi].map(box.transform)
      }
    }
  }
  return slices.flatMap { $0 }
}

/// Carries the map's inputs into the workers; each worker writes only its own slot of `out`.
private final class ParallelMapBox<T, R>: @unchecked Sendable {
  let out: UnsafeMutableBufferPointer<[R]>
  let items: [T]
  let transform: (T) -> R
  init(out: UnsafeMutableBufferPointer<[R]>, items: [T], transform: @escaping (T) -> R) {
    self.out = out
    self.items = items
    self.transform = transform
  }
}
