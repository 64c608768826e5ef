import Engine
import Foundation
import Models

/// Throughput of the engine on the workloads the peer script (../shared/bench/pytorch_object_attention.py)
/// measures, plus micro-benchmarks. Every figure is the best of `repeats` timed runs after one warm-up.
public struct BenchmarkReport: Codable, Sendable {
  public var threads: Int
  public var trainImagesPerSecond: Double
  public var sweepStimuliPerSecond: Double
  /// Name -> GFLOP/s for convolutions and GEMM, microseconds per call for the small op.
  public var micro: [String: Double]

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
  let sweepTime = bestTime(max(1, repeats / 2)) {
    withNoGrad {
      for xb in inputs {
        var ior = net.emptyIOR(batch: xb.shape[0])
        for _ in 0..<2 { ior = net.glimpse(xb, ior: ior).nextIOR }
      }
    }
  }

  var micro: [String: Double] = [:]
  func convGFLOPs(_ name: String, n: Int, c: Int, h: Int, w: Int, o: Int, k: Int) {
    let xi = Tensor<Float>.uniform([n, c, h, w], rng: &rng)
    let wt = Tensor<Float>.uniform([o, c, k, k], rng: &rng)
    let t = bestTime(repeats) { _ = withNoGrad { conv2d(xi, weight: wt) } }
    let outputs = n * o * (h - k + 1) * (w - k + 1)
    let flops = 2.0 * Double(outputs) * Double(c * k * k)
    micro[name] = flops / t / 1e9
  }
  func convTGFLOPs(_ name: String, n: Int, c: Int, h: Int, w: Int, o: Int, k: Int) {
    let xi = Tensor<Float>.uniform([n, c, h, w], rng: &rng)
    let wt = Tensor<Float>.uniform([c, o, k, k], rng: &rng)
    let t = bestTime(repeats) { _ = withNoGrad { convTranspose2d(xi, weight: wt) } }
    let flops = 2.0 * Double(n * c * h * w) * Double(o * k * k)
    micro[name] = flops / t / 1e9
  }
  convGFLOPs("conv1_gflops", n: 64, c: 1, h: 28, w: 42, o: 20, k: 4)
  convGFLOPs("conv2_gflops", n: 64, c: 20, h: 12, w: 19, o: 50, k: 4)
  convTGFLOPs("conv2_t_gflops", n: 64, c: 100, h: 9, w: 16, o: 20, k: 4)
  convTGFLOPs("conv1_t_gflops", n: 64, c: 40, h: 25, w: 39, o: 1, k: 4)
  convGFLOPs("large_conv_gflops", n: 16, c: 64, h: 34, w: 34, o: 128, k: 3)
  let m = 512
  let a = Tensor<Float>.uniform([m, m], rng: &rng)
  let b = Tensor<Float>.uniform([m, m], rng: &rng)
  micro["gemm512_gflops"] = 2.0 * Double(m * m * m) / bestTime(repeats) { _ = withNoGrad { a.matmul(b) } } / 1e9
  let small = Tensor<Float>.uniform([16], rng: &rng)
  let calls = 100_000
  micro["small_op_us"] =
    bestTime(repeats) { withNoGrad { for _ in 0..<calls { _ = small + small } } } / Double(calls) * 1e6
  return BenchmarkReport(
    threads: Parallel.threads, trainImagesPerSecond: Double(batch) / train,
    sweepStimuliPerSecond: Double(sweep) / sweepTime, micro: micro)
}

/// Sets the engine's worker threads for the benchmarks.
public func setBenchmarkThreads(_ n: Int) { Parallel.threads = n }
