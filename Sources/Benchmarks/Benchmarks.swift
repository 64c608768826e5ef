import Engine
import Foundation
import Models

/// Throughput of the engine on the workloads the peer script (../shared/bench/pytorch_object_attention.py)
/// measures, plus micro-benchmarks. Every figure is the best of `repeats` timed runs after one warm-up.
public struct BenchmarkReport: Codable, Sendable {
  public var threads: Int
  public var trainImagesPerSecond: Double
  public var sweepStimuliPerSecond: Double
  /// Name -> GFLOP/s for convolutions and GEMM, the GEMM share of each convolution's time (0-1),
  /// microseconds per call for the small op.
  public var micro: [String: Double]

  public init(threads: Int, trainImagesPerSecond: Double, sweepStimuliPerSecond: Double, micro: [String: Double]) {
    self.threads = threads
    self.trainImagesPerSecond = trainImagesPerSecond
    self.sweepStimuliPerSecond = sweepStimuliPerSecond
    self.micro = micro
  }

  enum CodingKeys: String, CodingKey {
    case threads, micro
    case trainImagesPerSecond = "train_images_per_s"
    case sweepStimuliPerSecond = "sweep_stimuli_per_s"
  }
}

/// Best wall time of `repeats` runs of `body` (after one warm-up run), in seconds.
func bestTime(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
  try body()
  var best = Double.infinity
  for _ in 0..<repeats {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
  }
  return best
}

/// Runs the benchmark suite: a training batch of `batch` (2 glimpses x T = 5 with BPTT and an Adam step
/// per glimpse), an inference sweep of `sweep` stimuli in batches of 512, and micro-benchmarks.
public func runBenchmarks(batch: Int = 64, sweep: Int = 4096, repeats: Int = 5) throws -> BenchmarkReport {
  var rng = RandomGenerator(seed: 0)
  let net = ObjectAttentionNet(.mnist(), seed: 0)
  let x = Tensor<Float>.uniform([batch, 1, 28, 42], rng: &rng)
  let targets = (0..<2).map { _ in Tensor<Float>.uniform([batch, 1, 28, 42], rng: &rng) }
  let labels = (0..<2).map { _ in (0..<batch).map { _ in Int(rng.next() % 10) } }
  let trainer = ObjectAttentionTrainer(net: net, config: ObjectAttentionTrainingConfig())
  let objectBatch = ObjectBatch(images: x, targets: targets, labels: labels)
  let train = try bestTime(repeats) { _ = try trainer.step(objectBatch) }

  let inputs = (0..<((sweep + 511) / 512)).map { i in
    Tensor<Float>.uniform([min(512, sweep - i * 512), 1, 28, 42], rng: &rng)
  }
  net.eval()
  // As a protocol sweep runs: chunks of 512 stimuli, each cut into micro-batches streamed per worker.
  let micro = 16
  let sweepTime = bestTime(repeats) {
    for xb in inputs {
      let per = xb.count / xb.shape[0]
      forEachMicroBatch(xb.shape[0], size: micro) { r in
        let x = Tensor<Float>(
          shape: [r.count, 1, 28, 42], scalars: Array(xb.scalars[(r.lowerBound * per)..<(r.upperBound * per)]))
        var ior = net.emptyIOR(batch: r.count)
        for _ in 0..<2 { ior = net.glimpse(x, ior: ior).nextIOR }
      }
    }
  }

  var figures: [String: Double] = [:]
  /// Records GFLOP/s (the FLOPs of the GEMMs the op runs, over the op's whole time) and the share of
  /// the op's time spent in those GEMMs alone, measured by running the same GEMM calls by themselves.
  func convFigures(_ name: String, flops: Double, op: () -> Void, gemms: () -> Void) {
    let t = bestTime(repeats, op)
    let tg = bestTime(repeats, gemms)
    figures[name + "_gflops"] = flops / t / 1e9
    figures[name + "_gemm_share"] = min(1, tg / t)
  }
  let n = 64
  for (name, c, h, w, o) in [("conv1", 1, 28, 42, 20), ("conv2", 20, 12, 19, 50)] {
    let xi = Tensor<Float>.uniform([n, c, h, w], rng: &rng)
    let wt = Tensor<Float>.uniform([o, c, 4, 4], rng: &rng)
    let b = Tensor<Float>.uniform([o], rng: &rng)
    let (k, p) = (c * 16, (h - 3) * (w - 3))
    convFigures(
      name, flops: 2.0 * Double(n * o * p * k), op: { _ = withNoGrad { conv2d(xi, weight: wt, bias: b) } },
      gemms: { gemmCalls(batch: n, m: o, k: k, columns: p, direct: p >= Conv2dKernel.directColumns, biasColumn: true) })
  }
  // The feedback path: nearest upsampling fused into the transposed conv (GEMMs at source resolution).
  for (name, c, h, w, size, o) in [("conv2_t", 100, 4, 8, Pair(9, 16), 20), ("conv1_t", 40, 12, 19, Pair(25, 39), 1)] {
    let xi = Tensor<Float>.uniform([n, c, h, w], rng: &rng)
    let wt = Tensor<Float>.uniform([c, o, 4, 4], rng: &rng)
    let b = Tensor<Float>.uniform([o], rng: &rng)
    convFigures(
      name, flops: 2.0 * Double(n * c * h * w * o * 16),
      op: { _ = withNoGrad { upsampleNearestConvTranspose2d(xi, size: size, weight: wt, bias: b) } },
      gemms: { gemmCalls(batch: n, m: o * 16, k: c, columns: h * w, direct: false, transposedA: true) })
  }
  let large = Tensor<Float>.uniform([16, 64, 34, 34], rng: &rng)
  let largeWeight = Tensor<Float>.uniform([128, 64, 3, 3], rng: &rng)
  convFigures(
    "large_conv", flops: 2.0 * Double(16 * 128 * 32 * 32 * 64 * 9),
    op: { _ = withNoGrad { conv2d(large, weight: largeWeight) } },
    gemms: { gemmCalls(batch: 16, m: 128, k: 576, columns: 1024, direct: true) })
  let m = 512
  let a = Tensor<Float>.uniform([m, m], rng: &rng)
  let b = Tensor<Float>.uniform([m, m], rng: &rng)
  figures["gemm512_gflops"] = 2.0 * Double(m * m * m) / bestTime(repeats) { _ = withNoGrad { a.matmul(b) } } / 1e9
  let small = Tensor<Float>.uniform([16], rng: &rng)
  let calls = 100_000
  figures["small_op_us"] =
    bestTime(repeats) { withNoGrad { for _ in 0..<calls { _ = small + small } } } / Double(calls) * 1e6
  return BenchmarkReport(
    threads: Parallel.threads, trainImagesPerSecond: Double(batch) / train,
    sweepStimuliPerSecond: Double(sweep) / sweepTime, micro: figures)
}

/// The GEMM calls a convolution kernel makes for `batch` images of `columns` output positions each
/// (M = m, K = k), split over the workers and chunked as the kernels do, on scratch buffers.
/// `biasColumn`: the conv computes its bias inside the GEMM (K + 1), as conv2d does when it has one.
func gemmCalls(
  batch: Int, m: Int, k: Int, columns p: Int, direct: Bool, transposedA: Bool = false, biasColumn: Bool = false
) {
  Parallel.forEachRange(batch, minimum: Conv2dKernel.minimumImages(rows: transposedA ? m : k, cols: p)) { range, _ in
    let nbMax = direct ? 1 : Conv2dKernel.chunkSize(batch: range.count, rows: transposedA ? m : k, cols: p)
    let kg = biasColumn ? k + 1 : k
    let a = UnsafeMutablePointer<Float>.allocate(capacity: m * kg)
    let b = UnsafeMutablePointer<Float>.allocate(capacity: kg * nbMax * p)
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * nbMax * p)
    a.initialize(repeating: 0.01, count: m * kg)
    b.initialize(repeating: 0.01, count: kg * nbMax * p)
    defer {
      a.deallocate()
      b.deallocate()
      c.deallocate()
    }
    var n0 = range.lowerBound
    while n0 < range.upperBound {
      let nb = min(nbMax, range.upperBound - n0)
      gemm(transA: transposedA, m: m, n: nb * p, k: kg, a: a, b: b, c: c)
      n0 += nb
    }
  }
}

/// Sets the engine's worker threads for the benchmarks.
public func setBenchmarkThreads(_ n: Int) { Parallel.threads = n }
