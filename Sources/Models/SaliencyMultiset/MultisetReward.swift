/// The multiset reward of HSAL-RL's class steps (paper, section 4.2): a sampled label earns +1 when it
/// is in the multiset of labels not yet claimed, which then loses one copy of it, and -1 otherwise
/// ("stop" before the end, a label not on the canvas, or one more copy than there are). The reward of
/// a sequence does not depend on its order.
public enum MultisetReward {
  /// The reward of each of `predicted` in turn against `truth` (a multiset: repeats are copies).
  public static func classRewards(predicted: [Int], truth: [Int]) -> [Float] {
    var remaining = truth
    return predicted.map { y in
      guard let i = remaining.firstIndex(of: y) else { return -1 }
      remaining.remove(at: i)
      return 1
    }
  }

  /// How many times each class 0..<classes occurs in `labels` (labels out of range are not counted).
  public static func counts(_ labels: [Int], classes: Int) -> [Int] {
    var c = [Int](repeating: 0, count: classes)
    for y in labels where (0..<classes).contains(y) { c[y] += 1 }
    return c
  }
}

/// Multiset classification metrics on count vectors. For an example and class c with predicted count
/// p and true count t: precision = min(p, t) / max(p, 1), recall = min(p, t) / max(t, 1). A class's
/// precision is the mean over the examples that predict it (p > 0; 0 when none does), its recall the
/// mean over the examples that hold it (t > 0); its F1 is their harmonic mean; macro F1 is the mean
/// over the classes that are predicted or present at least once. Exact match: the predicted multiset
/// equals the true one (order ignored). Also kept: exact match by the true number of labels.
public struct MultisetMetrics: Sendable, Equatable {
  public let classes: Int
  private var precisionSum, recallSum: [Double]
  private var predictedExamples, trueExamples: [Int]
  public private(set) var examples = 0
  public private(set) var exactMatches = 0
  /// Examples and exact matches by the true number of labels.
  public private(set) var examplesByCount: [Int: Int] = [:]
  public private(set) var exactByCount: [Int: Int] = [:]

  public init(classes: Int) {
    self.classes = classes
    precisionSum = Array(repeating: 0, count: classes)
    recallSum = Array(repeating: 0, count: classes)
    predictedExamples = Array(repeating: 0, count: classes)
    trueExamples = Array(repeating: 0, count: classes)
  }

  /// Adds one example: its predicted labels (without "stop") and its true labels.
  public mutating func add(predicted: [Int], truth: [Int]) {
    let p = MultisetReward.counts(predicted, classes: classes)
    let t = MultisetReward.counts(truth, classes: classes)
    for c in 0..<classes {
      let hit = Double(min(p[c], t[c]))
      if p[c] > 0 {
        precisionSum[c] += hit / Double(p[c])
        predictedExamples[c] += 1
      }
      if t[c] > 0 {
        recallSum[c] += hit / Double(t[c])
        trueExamples[c] += 1
      }
    }
    examples += 1
    examplesByCount[truth.count, default: 0] += 1
    if p == t && predicted.allSatisfy({ (0..<classes).contains($0) }) {
      exactMatches += 1
      exactByCount[truth.count, default: 0] += 1
    }
  }

  /// Class c's precision (0 when it is never predicted).
  public func precision(_ c: Int) -> Double {
    predictedExamples[c] > 0 ? precisionSum[c] / Double(predictedExamples[c]) : 0
  }
  /// Class c's recall (0 when it is never present).
  public func recall(_ c: Int) -> Double { trueExamples[c] > 0 ? recallSum[c] / Double(trueExamples[c]) : 0 }
  /// Class c's F1 (0 when precision and recall are 0).
  public func f1(_ c: Int) -> Double {
    let (p, r) = (precision(c), recall(c))
    return p + r > 0 ? 2 * p * r / (p + r) : 0
  }
  /// The classes predicted or present at least once.
  public var seenClasses: [Int] { (0..<classes).filter { predictedExamples[$0] > 0 || trueExamples[$0] > 0 } }
  /// Mean of the classes' F1 over `seenClasses` (0 with no examples).
  public var macroF1: Double {
    let seen = seenClasses
    return seen.isEmpty ? 0 : seen.map(f1).reduce(0, +) / Double(seen.count)
  }
  public var macroPrecision: Double {
    let seen = seenClasses
    return seen.isEmpty ? 0 : seen.map(precision).reduce(0, +) / Double(seen.count)
  }
  public var macroRecall: Double {
    let seen = seenClasses
    return seen.isEmpty ? 0 : seen.map(recall).reduce(0, +) / Double(seen.count)
  }
  /// The share of examples whose predicted multiset is exactly right.
  public var exactMatch: Double { examples > 0 ? Double(exactMatches) / Double(examples) : 0 }
  /// Exact match among the examples with `count` true labels (nil: none).
  public func exactMatch(count: Int) -> Double? {
    guard let n = examplesByCount[count], n > 0 else { return nil }
    return Double(exactByCount[count, default: 0]) / Double(n)
  }
}
