import Foundation
import Kernels
import Testing

@testable import Engine

/// The reusable data-parallel piece: slices summed in worker order equal one batch's gradient.
@Suite("Data-parallel gradients")
struct DataParallelTests {
  static func network(seed: UInt64) -> Sequential {
    var rng = RandomGenerator(seed: seed)
    return Sequential([Linear(6, 16, rng: &rng), ReLU(), Linear(16, 4, rng: &rng)])
  }

  @Test("gradients over 4 slices equal the whole batch's; replicas hold the model's weights")
  func matchesOneBatch() {
    let n = 40
    let x = Tensor<Float>(shape: [n, 6], scalars: (0..<(n * 6)).map { Float(($0 * 13) % 17) / 8 - 1 })
    let labels = IntTensor((0..<n).map { $0 % 4 })
    let whole = Self.network(seed: 3)
    let loss = crossEntropy(whole(x), labels)
    loss.backward()
    let model = Self.network(seed: 3)
    let parallel = DataParallel(model: model) { Self.network(seed: 99) }
    let total = parallel.lossAndGradients(batchSize: n, minimumPerWorker: 8, limit: 4) { _, net, range in
      let xs = Tensor<Float>(
        shape: [range.count, 6], scalars: Array(x.scalars[(range.lowerBound * 6)..<(range.upperBound * 6)]))
      return crossEntropy(net(xs), IntTensor(Array(labels.values[range])), reduction: .sum) / Float(n)
    }
    #expect(parallel.slices(n, minimumPerWorker: 8, limit: 4).count == 4)
    #expect(parallel.replicas.count == 3)
    #expect(abs(total - Double(loss.item)) < 1e-5)
    for (a, b) in zip(whole.parameters(), model.parameters()) {
      let worst = zip(a.grad!.scalars, b.grad!.scalars).map { abs($0 - $1) }.max()!
      #expect(worst < 1e-6)
    }
    for (r, m) in zip(parallel.replicas[0].parameters(), model.parameters()) { #expect(r.scalars == m.scalars) }
  }
}
