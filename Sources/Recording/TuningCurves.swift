import Engine

/// How tuning values reduce over the parameters that are not the tuning axis.
public enum TuningReduce: String, Sendable, CaseIterable {
  /// The maximum over the other conditions (the reference's choice).
  case max
  /// The mean, with its standard error.
  case mean
}

/// Accumulates tuning curves while responses stream past: for every (axis value, phase, unit), the
/// maximum, sum and sum of squares over the stimuli at that axis value.
public struct TuningAccumulator: Sendable {
  public let axisValues: [Double]
  public let phases: Int
  public let units: Int
  var maximum: [Float]
  var sum: [Double]
  var sumSquares: [Double]
  var count: [Int]

  public init(axisValues: [Double], phases: Int, units: Int) {
    self.axisValues = axisValues
    self.phases = phases
    self.units = units
    let n = axisValues.count * phases * units
    maximum = [Float](repeating: -.infinity, count: n)
    sum = [Double](repeating: 0, count: n)
    sumSquares = [Double](repeating: 0, count: n)
    count = [Int](repeating: 0, count: axisValues.count)
  }

  /// Adds a batch: row i of `rows` ([n, phases * units]) is a stimulus at axis position `axisIndices[i]`.
  /// Rows are added in order; the units are split across the engine's workers.
  public mutating func add(axisIndices: [Int], rows: UnsafePointer<Float>) {
    for a in axisIndices { count[a] += 1 }
    let (phases, units) = (self.phases, self.units)
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

  /// Tuning values [axis, phase, unit] reduced by `reduce`, and for `.mean` their standard errors.
  public func curves(_ reduce: TuningReduce) -> (values: [Float], sem: [Float]?) {
    switch reduce {
    case .max:
      return (maximum, nil)
    case .mean:
      var values = [Float](repeating: 0, count: sum.count)
      var sem = values
      for a in 0..<axisValues.count {
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
