import Engine

/// Attention visualisation of one image: the input and, per glimpse, the gated input, the input mask
/// after pass T-1 and the IOR mask taken in that glimpse (paper Fig. 3).
public struct AttentionVisual {
  public var input: Tensor<Float>
  public var gated: [Tensor<Float>]
  public var mask: [Tensor<Float>]
  public var ior: [Tensor<Float>]
  public var selected: [Int]
  public var predicted: [Int]
  public var labels: [Int]
}

/// What evaluation measured (definitions as in the reference code):
/// - per-object accuracy: over every glimpse of every image, prediction == class of the selected object;
/// - mean per-label accuracy: the mean over classes present of that class's accuracy (COCO's metric);
/// - inhibition per image: the input mask (conv1_in) after pass T-1 of each glimpse, averaged inside
///   the attended object (pixels where the selected object supplies at least half the value:
///   ((x - target + 1e-6) / (x + 1e-6)) / s <= 0.5) and outside it, then averaged over glimpses.
///   Images where either region is empty in some glimpse are excluded and counted.
public struct ObjectEvaluation {
  public var correct = 0
  public var total = 0
  public var truths: [Int] = []
  public var predictions: [Int] = []
  public var inhibitionAttended: [Double] = []
  public var inhibitionOutside: [Double] = []
  public var excludedFromInhibition = 0
  public var visuals: [AttentionVisual] = []

  public init() {}

  /// Fraction of objects classified correctly.
  public var accuracy: Double { Double(correct) / Double(max(1, total)) }

  /// Mean over the classes present of the per-class accuracy.
  public var meanPerLabelAccuracy: Double {
    var hit: [Int: (Int, Int)] = [:]
    for (t, p) in zip(truths, predictions) {
      let c = hit[t] ?? (0, 0)
      hit[t] = (c.0 + (t == p ? 1 : 0), c.1 + 1)
    }
    guard !hit.isEmpty else { return 0 }
    return hit.values.map { Double($0.0) / Double($0.1) }.reduce(0, +) / Double(hit.count)
  }
}

extension ObjectEvaluation {
  /// Adds another evaluation's objects, images and visualisations after this one's.
  mutating func append(_ other: ObjectEvaluation) {
    correct += other.correct
    total += other.total
    truths += other.truths
    predictions += other.predictions
    inhibitionAttended += other.inhibitionAttended
    inhibitionOutside += other.inhibitionOutside
    excludedFromInhibition += other.excludedFromInhibition
    visuals += other.visuals
  }
}

extension ObjectAttentionNet {
  /// Runs the glimpse dynamics on `batch` without gradients and adds its results to `result`;
  /// keeps visualisations until `result.visuals` holds `visualize` images. Images are independent, so
  /// the batch runs as micro-batches of 16 on all workers (results in image order, independent of the
  /// thread count).
  public func evaluate(_ batch: ObjectBatch, into result: inout ObjectEvaluation, visualize: Int = 0) {
    eval()
    let n = batch.count
    let size = 16
    let keep = max(0, min(n, visualize - result.visuals.count))
    let parts = SharedBuffer<ObjectEvaluation>(count: (n + size - 1) / size, value: ObjectEvaluation())
    forEachMicroBatch(n, size: size) { r in
      var part = ObjectEvaluation()
      evaluateSlice(batch.slice(r), into: &part, visualize: max(0, keep - r.lowerBound))
      parts[r.lowerBound / size] = part
    }
    for part in parts.array() { result.append(part) }
  }

  /// `evaluate` on one micro-batch.
  func evaluateSlice(_ batch: ObjectBatch, into result: inout ObjectEvaluation, visualize: Int) {
    withNoGrad {
      let n = batch.count
      let per = batch.images.count / n
      let maskPer = per / config.channels[0]
      var ior = emptyIOR(batch: n)
      var selected = [[Bool]](repeating: [Bool](repeating: false, count: batch.targets.count), count: n)
      var attended = [Double](repeating: 0, count: n)
      var outside = [Double](repeating: 0, count: n)
      var valid = [Bool](repeating: true, count: n)
      let keep = max(0, min(n, visualize - result.visuals.count))
      var visuals = (0..<keep).map { i in
        AttentionVisual(
          input: slice(batch.images, i), gated: [], mask: [], ior: [], selected: [], predicted: [], labels: [])
      }
      let x = batch.images.scalars
      let s = config.strength
      for _ in 0..<config.objects {
        let g = glimpse(batch.images, ior: ior)
        let choice = ObjectAttentionNet.selectObjects(
          gated: g.last.gatedInput, targets: batch.targets, alreadySelected: &selected)
        let pred = g.last.logits.argmax(dim: 1).values
        let target = batch.selectedTargets(choice).scalars
        let mask = g.masksBeforeLastPass[0].scalars
        for i in 0..<n {
          let truth = batch.labels[choice[i]][i]
          result.truths.append(truth)
          result.predictions.append(pred[i])
          result.total += 1
          if truth == pred[i] { result.correct += 1 }
          var inSum = 0.0
          var inCount = 0
          var outSum = 0.0
          var outCount = 0
          for j in 0..<per {
            let xv = x[i * per + j]
            let notAttended = ((xv - target[i * per + j] + 1e-6) / (xv + 1e-6)) / s > 0.5
            let m = Double(mask[i * maskPer + j % maskPer])
            if notAttended {
              outSum += m
              outCount += 1
            } else {
              inSum += m
              inCount += 1
            }
          }
          if inCount == 0 || outCount == 0 {
            valid[i] = false
          } else {
            attended[i] += inSum / Double(inCount)
            outside[i] += outSum / Double(outCount)
          }
        }
        for v in 0..<keep {
          visuals[v].gated.append(slice(g.last.gatedInput, v))
          visuals[v].mask.append(slice(g.masksBeforeLastPass[0], v))
          visuals[v].ior.append(slice(g.nextIOR[0], v))
          visuals[v].selected.append(choice[v])
          visuals[v].predicted.append(pred[v])
          visuals[v].labels.append(batch.labels[choice[v]][v])
        }
        ior = g.nextIOR
      }
      let k = Double(config.objects)
      for i in 0..<n {
        if valid[i] {
          result.inhibitionAttended.append(attended[i] / k)
          result.inhibitionOutside.append(outside[i] / k)
        } else {
          result.excludedFromInhibition += 1
        }
      }
      result.visuals += visuals
    }
  }
}

/// Image `i` of a batch as a [1, C, H, W] tensor.
func slice(_ t: Tensor<Float>, _ i: Int) -> Tensor<Float> {
  let per = t.count / t.shape[0]
  return Tensor(shape: [1] + Array(t.shape.dropFirst()), scalars: Array(t.scalars[(i * per)..<((i + 1) * per)]))
}
