import Engine
import ModelInterface
import Stimuli

/// Where a unit's receptive field (RF) lies relative to the objects of a sweep.
public enum ReceptiveFieldClass: String, Sendable, CaseIterable {
  /// The RF covers the swept object in some stimulus and never the distractor.
  case object
  /// The RF covers the distractor and never the swept object.
  case distractor
  /// The RF covers both (in the same or in different stimuli).
  case both
  /// The RF covers neither.
  case neither
}

/// The canvas pixels each object of a sweep occupies: a pixel belongs to an object in a stimulus
/// when its value there exceeds `threshold` (10%) of that object's peak in that stimulus; the
/// footprint is the union over every stimulus of the sweep. Also counts the stimuli whose swept
/// object overlaps the distractor.
public struct SweepFootprint: Sendable {
  public static let threshold: Float = 0.1
  public var width: Int
  public var object: [Bool]
  public var distractor: [Bool]
  /// Stimuli in which some pixel belongs to both the swept object and the distractor.
  public var overlappingStimuli: Int
  public var stimuli: Int

  /// Renders every stimulus of `spec` (in parallel) and takes the union of each object's pixels.
  public init(_ spec: StimulusSpec) {
    width = spec.canvasWidth
    let pixels = spec.canvasHeight * spec.canvasWidth
    let n = spec.count
    let workers = max(1, Parallel.threads)
    var objectMasks = [[Bool]](repeating: [Bool](repeating: false, count: pixels), count: workers)
    var distractorMasks = objectMasks
    var overlaps = [Int](repeating: 0, count: workers)
    objectMasks.withUnsafeMutableBufferPointer { om in
      distractorMasks.withUnsafeMutableBufferPointer { dm in
        overlaps.withUnsafeMutableBufferPointer { ov in
          let (o, d, v) = (
            SharedPointer(om.baseAddress!), SharedPointer(dm.baseAddress!), SharedPointer(ov.baseAddress!)
          )
          Parallel.forEachRange(n, minimum: 16) { range, worker in
            for i in range {
              let s = spec.stimulus(i)
              let po = (s.object.max() ?? 0) * SweepFootprint.threshold
              let pd = (s.distractor.max() ?? 0) * SweepFootprint.threshold
              var overlap = false
              for j in 0..<pixels {
                let inObject = po > 0 && s.object[j] > po
                let inDistractor = pd > 0 && s.distractor[j] > pd
                if inObject { o.pointer[worker][j] = true }
                if inDistractor { d.pointer[worker][j] = true }
                if inObject && inDistractor { overlap = true }
              }
              if overlap { v.pointer[worker] += 1 }
            }
          }
        }
      }
    }
    object = objectMasks.dropFirst().reduce(objectMasks[0]) { zip($0, $1).map { $0 || $1 } }
    distractor = distractorMasks.dropFirst().reduce(distractorMasks[0]) { zip($0, $1).map { $0 || $1 } }
    overlappingStimuli = overlaps.reduce(0, +)
    stimuli = n
  }

  /// The class of a receptive field (input rows and columns): which footprints it contains a pixel of.
  public func classify(_ rf: (rows: ClosedRange<Int>, cols: ClosedRange<Int>)) -> ReceptiveFieldClass {
    var seesObject = false
    var seesDistractor = false
    let height = object.count / max(1, width)
    for r in max(0, rf.rows.lowerBound)...min(height - 1, rf.rows.upperBound) {
      for c in max(0, rf.cols.lowerBound)...min(width - 1, rf.cols.upperBound) {
        if object[r * width + c] { seesObject = true }
        if distractor[r * width + c] { seesDistractor = true }
      }
      if seesObject && seesDistractor { break }
    }
    switch (seesObject, seesDistractor) {
    case (true, false): return .object
    case (false, true): return .distractor
    case (true, true): return .both
    case (false, false): return .neither
    }
  }
}
