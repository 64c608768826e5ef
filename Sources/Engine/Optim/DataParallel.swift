import Kernels

/// Data-parallel gradients for any module: the batch is cut into contiguous slices, one per worker;
/// worker 0 trains `model` itself and workers 1, 2, ... train copies (`replica()`), each with
/// single-threaded ops and no synchronisation between them; the caller scales each slice's loss so
/// that the slices add up to the full batch's loss; the copies' parameter gradients are then summed
/// into `model`'s in worker order, ready for one optimiser step. The cut depends only on the batch
/// size and the worker count, so results are identical for the same thread count (and differ
/// across thread counts by float rounding only). As in PyTorch's `DataParallel`, BatchNorm uses each
/// slice's statistics; running statistics are those of worker 0's slice.
public final class DataParallel<Model: Module> {
  public let model: Model
  private let makeReplica: () -> Model
  /// Copies of `model` for workers 1, 2, ... (made on first use, kept across steps).
  public private(set) var replicas: [Model] = []

  /// `replica` builds a network of the same architecture (its weights are overwritten each step).
  public init(model: Model, replica: @escaping () -> Model) {
    self.model = model
    makeReplica = replica
  }

  /// The slices of a batch of `n` items: as many workers as there are threads (or `limit`), each with
  /// at least `minimumPerWorker` items.
  public func slices(_ n: Int, minimumPerWorker: Int = 8, limit: Int? = nil) -> [Range<Int>] {
    let count = max(1, min(limit ?? Parallel.threads, n / max(1, minimumPerWorker)))
    return (0..<count).map { w in (n * w / count)..<(n * (w + 1) / count) }
  }

  /// The networks of `count` workers in training mode, copies holding `model`'s current weights and
  /// buffers; every gradient cleared.
  public func prepare(workers count: Int) -> [Model] {
    while replicas.count < count - 1 { replicas.append(makeReplica()) }
    model.train()
    model.zeroGrad()
    let state = model.namedState()
    for r in replicas.prefix(count - 1) {
      r.train()
      for (mine, theirs) in zip(r.namedState(), state) {
        precondition(mine.name == theirs.name, "DataParallel: replica tensor \(mine.name) is not \(theirs.name)")
        mine.tensor.assign(theirs.tensor.scalars)
      }
      r.zeroGrad()
    }
    return [model] + replicas.prefix(count - 1)
  }

  /// Runs `body(worker)` for each of `count` workers in parallel (ops inside run single-threaded).
  public func forEachWorker(_ count: Int, _ body: (Int) -> Void) {
    Parallel.run(count, body)
  }

  /// Adds the gradients of workers 1 ..< `count` to `model`'s, in worker order.
  public func reduceGradients(workers count: Int) {
    let parameters = model.parameters()
    for r in replicas.prefix(count - 1) {
      for (p, q) in zip(parameters, r.parameters()) {
        guard let dq = q.grad else { continue }
        guard let dp = p.grad else {
          p.grad = dq
          continue
        }
        dp.withMutableScalars { d in
          dq.scalars.withUnsafeBufferPointer { Elementwise.addInPlace(d.baseAddress!, $0.baseAddress!, d.count) }
        }
      }
    }
  }

  /// One data-parallel backward pass over a batch of `n` items: `loss(worker, network, slice)` returns the
  /// slice's share of the batch loss (one element); each share is back-propagated on its worker (not
  /// when it is not finite) and the gradients reduced into `model`. Returns the batch loss (the sum
  /// of the shares); the caller refuses a non-finite one before stepping.
  public func lossAndGradients(
    batchSize n: Int, minimumPerWorker: Int = 8, limit: Int? = nil,
    _ loss: (_ worker: Int, _ network: Model, _ slice: Range<Int>) -> Tensor<Float>
  ) -> Double {
    let cut = slices(n, minimumPerWorker: minimumPerWorker, limit: limit)
    let networks = prepare(workers: cut.count)
    var shares = [Double](repeating: 0, count: cut.count)
    shares.withUnsafeMutableBufferPointer { buf in
      let out = SharedPointer(buf.baseAddress!)
      forEachWorker(cut.count) { w in
        let l = loss(w, networks[w], cut[w])
        out.pointer[w] = Double(l.item)
        if l.item.isFinite { l.backward() }
      }
    }
    reduceGradients(workers: cut.count)
    return shares.reduce(0, +)
  }

  /// `lossAndGradients` whose slices also report something each (hit counts, predictions,
  /// statistics): `body` returns the slice's loss share and its report; the reports come back in
  /// worker order with the batch loss.
  public func lossAndGradients<Report>(
    batchSize n: Int, minimumPerWorker: Int = 8, limit: Int? = nil, empty: Report,
    _ body: (_ worker: Int, _ network: Model, _ slice: Range<Int>) -> (loss: Tensor<Float>, report: Report)
  ) -> (loss: Double, reports: [Report]) {
    var reports = [Report](
      repeating: empty, count: slices(n, minimumPerWorker: minimumPerWorker, limit: limit).count)
    let loss = reports.withUnsafeMutableBufferPointer { buf in
      let out = SharedPointer(buf.baseAddress!)
      return lossAndGradients(batchSize: n, minimumPerWorker: minimumPerWorker, limit: limit) { worker, net, range in
        let (l, report) = body(worker, net, range)
        out.pointer[worker] = report
        return l
      }
    }
    return (loss, reports)
  }
}
