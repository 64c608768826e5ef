import Engine
import Foundation
import ModelInterface
import Stimuli
import Testing

@testable import Models

/// Sweeps run in micro-batches on all workers; that must not change what is recorded.
@Suite("Object-attention recording adapter")
struct ObjectAttentionRecordingTests {
  @Test("micro-batches give the single batch's activity, selections and predictions")
  func matchesOneBatch() throws {
    let digit = (0..<784).map { Float(($0 * 37) % 255) / 255 }
    let spec = StimulusSpec(
      kind: .gaussianBar(.analytic),
      parameters: [
        ("orientation", .range(from: 0, to: 150, steps: 6)), ("width", .list([1, 2, 3])), ("x", .list([6, 9])),
      ],
      canvasHeight: 28, canvasWidth: 42,
      distractor: Distractor(kind: .digit(image: digit, label: 3), top: 0, left: 14, height: 28, width: 28))
    let stimuli = (0..<spec.count).map { spec.stimulus($0) }  // 36: two full micro-batches and a partial one
    let net = ObjectAttentionNet(.mnist(), seed: 4)
    net.eval()
    let micro = try net.record(stimuli, condition: .model("glimpses"), layers: ["conv1", "conv2"])
    let whole = withNoGrad {
      net.recordGlimpses(stimuli, layers: [.init(index: 0, pass: nil), .init(index: 1, pass: nil)])
    }
    #expect(micro.attendedGlimpse == whole.attendedGlimpse)
    #expect(micro.predictions == whole.predictions)
    for p in 0..<2 {
      for k in 0..<2 {
        #expect(micro.activity[p][k].shape == whole.activity[p][k].shape)
        let a = micro.activity[p][k].scalars
        let b = whole.activity[p][k].scalars
        let scale = b.map(abs).max() ?? 1
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5 * max(scale, 1), "phase \(p) layer \(k): max difference \(worst)")
      }
    }
  }
}
