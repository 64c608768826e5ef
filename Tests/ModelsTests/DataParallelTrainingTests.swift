import Engine
import Foundation
import Models
import Testing

/// The data-parallel trainer (a slice of the batch per worker, gradients summed) must compute the
/// full batch's loss and gradient.
@Suite("Data-parallel object-attention training")
struct DataParallelTrainingTests {
  /// One training step with `workers` workers; returns the loss and every parameter's gradient.
  func step(workers: Int, classWeights: [Float]?) throws -> (loss: Double, grads: [String: [Float]]) {
    var rng = RandomGenerator(seed: 5)
    let n = 40
    // One glimpse (one Adam step), so the gradients left on the parameters are the step's.
    let net = ObjectAttentionNet(.mnist(objects: 1), seed: 3)
    let shape = [n, 1, net.config.inputHeight, net.config.inputWidth]
    let x = Tensor<Float>.uniform(shape, rng: &rng)
    let targets = (0..<2).map { _ in Tensor<Float>.uniform(shape, rng: &rng) }
    let labels = (0..<2).map { _ in (0..<n).map { _ in Int(rng.next() % 10) } }
    var config = ObjectAttentionTrainingConfig()
    config.workers = workers
    config.classWeights = classWeights
    let trainer = ObjectAttentionTrainer(net: net, config: config)
    let stats = try trainer.step(ObjectBatch(images: x, targets: targets, labels: labels))
    var grads: [String: [Float]] = [:]
    for (name, p) in net.namedParameters() { grads[name] = p.grad?.scalars }
    return (stats.loss, grads)
  }

  @Test("2 and 3 workers give the single worker's loss and gradients", arguments: [false, true])
  func matchesSingleWorker(weighted: Bool) throws {
    let weights: [Float]? = weighted ? (0..<10).map { 0.5 + Float($0) / 10 } : nil
    let one = try step(workers: 1, classWeights: weights)
    for workers in [2, 3] {
      let many = try step(workers: workers, classWeights: weights)
      #expect(abs(many.loss - one.loss) / one.loss < 1e-5, "\(workers) workers: loss \(many.loss) vs \(one.loss)")
      #expect(Set(many.grads.keys) == Set(one.grads.keys))
      for (name, g) in one.grads {
        let e = relErr(many.grads[name] ?? [], g)
        #expect(e < 1e-4, "\(workers) workers, \(name): gradient relative error \(e)")
      }
    }
  }
}
