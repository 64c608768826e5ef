import Datasets
import Engine

/// Greedy inference on held-out canvases: the metrics of `MultisetMetrics`, attn_saliency (the mean
/// saliency at the glimpses of the meta steps that produced a label: raw sum_c V^2 and normalised to
/// the canvas's maximum) and, for the first few canvases, every step's maps and actions.
public struct MultisetEvaluation: Sendable {
  public var metrics: MultisetMetrics
  public var attnSaliency = 0.0
  public var attnSaliencyNormalised = 0.0
  public var glimpses = 0
  /// Canvases that never chose "stop" within the step limit.
  public var neverStopped = 0
  public var visuals: [(canvas: MultiDigitCanvas, steps: [MetaStepVisual])] = []
}

extension SaliencyMultisetNet {
  /// Greedy rollouts (argmax at every step) of `canvases` in batches, each until every canvas has
  /// chosen "stop" or `maxSteps` meta steps; predicted labels are those before the first "stop".
  public func evaluate(
    _ canvases: [MultiDigitCanvas], maxSteps: Int, batchSize: Int = 100, visualize: Int = 0,
    progress: (Int) -> Void = { _ in }
  ) -> MultisetEvaluation {
    var result = MultisetEvaluation(metrics: MultisetMetrics(classes: config.classes))
    var rawSum = 0.0
    var normalisedSum = 0.0
    var start = 0
    while start < canvases.count {
      let batch = Array(canvases[start..<min(canvases.count, start + batchSize)])
      let want = max(0, min(batch.count, visualize - result.visuals.count))
      let r = withNoGrad {
        rollout(
          volume: volumes(MultisetTask.images(batch)), batch: batch.count, steps: maxSteps,
          policy: ActionPolicies.greedy(), stopWhenDone: true, visualize: want)
      }
      for (b, canvas) in batch.enumerated() {
        let predicted = r.predicted(b, stop: config.stop)
        result.metrics.add(predicted: predicted, truth: canvas.labels)
        if predicted.count == r.steps && r.labels[r.steps - 1][b] != config.stop { result.neverStopped += 1 }
        for t in 0..<min(predicted.count, r.steps) {
          for i in 0..<r.glimpses[t].count {
            rawSum += Double(r.rawSaliencyAtGlimpse[t][i][b])
            normalisedSum += Double(r.saliencyAtGlimpse[t][i][b])
            result.glimpses += 1
          }
        }
      }
      for b in 0..<want { result.visuals.append((batch[b], r.visuals[b])) }
      start += batch.count
      progress(start)
    }
    result.attnSaliency = rawSum / Double(max(1, result.glimpses))
    result.attnSaliencyNormalised = normalisedSum / Double(max(1, result.glimpses))
    return result
  }
}
