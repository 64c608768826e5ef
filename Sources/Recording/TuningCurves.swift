import Engine

/// How tuning values reduce over the parameters that are not the tuning axis.
public enum TuningReduce: String, Sendable, CaseIterable {
  /// The maximum over the other conditions (the reference's choice).
  case max
  /// The mean, with its standard error.
  case mean
}

/// Accumulates tuning curves while responses stream past: for every (trial, axis value, phase, unit),
/// the maximum, sum and sum of squares over the stimuli of that trial at that axis value. Without
/// repeats there is one trial; slots are numbered trial * axis count + axis index.
public struct TuningAccumulator: Sendable {
  public let axisValues: [Double]
  public let phases: Int
  public let units: Int
  /// Trials (repeats of the sweep's conditions).
  public let trials: Int
  /// Whether sums and sums of squares are kept (needed by `.mean` only; a max-only accumulator
  /// costs 4 bytes and one comparison per value instead of 20 bytes and five operations).
  public let keepsMoments: Bool
  var maximum: [Float]
  var sum: [Double]
  var sumSquares: [Double]
  var count: [Int]

  /// An accumulator for `units` units in `phases` phases at each axis value of each trial; with
  /// `moments: false` only maxima are kept (then `curves(.mean)` is not available).
  public init(axisValues: [Double], phases: Int, units: Int, trials: Int = 1, moments: Bool = true) {
    self.axisValues = axisValues
    self.phases = phases
    self.units = units
    self.trials = max(1, trials)
    keepsMoments = moments
    let n = axisValues.count * self.trials * phases * units
    maximum = [Float](repeating: -.infinity, count: n)
    sum = [Double](repeating: 0, count: moments ? n : 0)
    sumSquares = [Double](repeating: 0, count: moments ? n : 0)
    count = [Int](repeating: 0, count: axisValues.count * self.trials)
  }

  /// Adds a batch: row i of `rows` ([n, phases * units]) is a stimulus in slot `axisIndices[i]`
  /// (trial * axis count + axis index).
  /// Rows are added in order; the units are split across the engine's workers.
  public mutating func add(axisIndices: [Int], rows: UnsafePointer<Float>) {
    for a in axisIndices { count[a] += 1 }
    let (phases, units) = (self.phases, self.units)
    guard keepsMoments else {
      maximum.withUnsafeMutableBufferPointer { mx in
        let mp = SharedPointer(mx.baseAddress!)
        let width = phases * units
        Parallel.forEachRange(width, minimum: 4096) { cols, _ in
          for (i, a) in axisIndices.enumerated() {
            let row = rows + i * width
            let out = mp.pointer + a * width
            for j in cols where row[j] > out[j] { out[j] = row[j] }
          }
        }
      }
      return
    }
    maximum.withUnsafeMutableBufferPointer { mx in
      sum.withUnsafeMutableBufferPointer { sm in
        sumSquares.withUnsafeMutableBufferPointer { sq in
          let (mp, sp, qp) = (
            SharedPointer(mx.baseAddress!), SharedPointer(sm.baseAddress!), SharedPointer(sq.baseAddress!)
          )
          let width = phases * units
          Parallel.forEachRange(width, minimum: 4096) { cols, _ in
            for (i, a) in axisIndices.enumerated() {
              let row = rows + i * width
              let base = a * width
              for j in cols {
                let v = row[j]
                if v > mp.pointer[base + j] { mp.pointer[base + j] = v }
                sp.pointer[base + j] += Double(v)
                qp.pointer[base + j] += Double(v) * Double(v)
              }
            }
          }
        }
      }
    }
  }

  /// Tuning values [axis, phase, unit], the mean over trials of each trial's curve reduced by `reduce`
  /// over the other parameters, with standard errors: over trials when there are several, else (for
  /// `.mean`) over the other parameters' stimuli.
  public func curves(_ reduce: TuningReduce) -> (values: [Float], sem: [Float]?) {
    let perTrial = trialCurves(reduce)
    guard trials > 1 else { return perTrial }
    let width = axisValues.count * phases * units
    var values = [Float](repeating: 0, count: width)
    var sem = values
    for j in 0..<width {
      var s = 0.0
      var q = 0.0
      for t in 0..<trials {
        let v = Double(perTrial.values[t * width + j])
        s += v
        q += v * v
      }
      let n = Double(trials)
      let m = s / n
      values[j] = Float(m)
      sem[j] = Float((max(0, (q - n * m * m) / (n - 1)) / n).squareRoot())
    }
    return (values, sem)
  }

  /// Each trial's tuning values [trial, axis, phase, unit] reduced by `reduce` over the other
  /// parameters, and for `.mean` their standard errors over those parameters' stimuli.
  public func trialCurves(_ reduce: TuningReduce) -> (values: [Float], sem: [Float]?) {
    switch reduce {
    case .max:
      return (maximum, nil)
    case .mean:
      precondition(keepsMoments, "mean tuning curves need an accumulator that keeps moments")
      var values = [Float](repeating: 0, count: sum.count)
      var sem = values
      for a in 0..<(axisValues.count * trials) {
        let n = Double(max(1, count[a]))
        for i in (a * phases * units)..<((a + 1) * phases * units) {
          let m = sum[i] / n
          values[i] = Float(m)
          let variance = n > 1 ? max(0, (sumSquares[i] - n * m * m) / (n - 1)) : 0
          sem[i] = Float((variance / n).squareRoot())
        }
      }
      return (values, sem)
    }
  }
}
