import Engine
import Stimuli

/// Mean responses per combination of chosen stimulus parameters (the "kept" ones, e.g. orientation,
/// frequency, phase and aperture for V1 property measures), averaged over every other parameter and
/// over repeats, per phase and unit: [combination, phase, unit]. Combinations run in grid order of
/// the kept parameters (the last varying fastest).
public struct ConditionAccumulator: Sendable {
  /// The kept parameters and their values.
  public let names: [String]
  public let values: [[Double]]
  public let units: Int
  let gridAxes: [Int]
  let grid: ParameterGrid
  /// The grid of the kept parameters alone (combination order).
  let keptGrid: ParameterGrid
  var sum: [Double]
  var count: [Int]

  /// An accumulator for `spec`'s sweep keeping `keep` (parameters of the sweep, in any order; the
  /// combinations follow the grid's order).
  public init(spec: StimulusSpec, keep: [String], units: Int) {
    let g = spec.grid
    let axes = g.names.indices.filter { keep.contains(g.names[$0]) }
    let kept = axes.map { g.values[$0] }
    grid = g
    gridAxes = axes
    names = axes.map { g.names[$0] }
    values = kept
    keptGrid = ParameterGrid(zip(axes.map { g.names[$0] }, kept).map { ($0, .list($1)) })
    self.units = units
    let combinations = kept.reduce(1) { $0 * $1.count }
    sum = [Double](repeating: 0, count: combinations * 2 * units)
    count = [Int](repeating: 0, count: combinations)
  }

  /// Number of combinations of the kept parameters.
  public var combinations: Int { count.count }

  /// The combination index of stimulus `i` of the sweep.
  func combination(_ i: Int) -> Int {
    let idx = grid.indices(i)
    var c = 0
    for (k, a) in gridAxes.enumerated() { c = c * values[k].count + idx[a] }
    return c
  }

  /// The kept parameters' value indices of combination `c`.
  public func indices(_ c: Int) -> [Int] {
    keptGrid.indices(c)
  }

  /// Adds the rows ([n, 2 * units]) of stimuli `range` of the sweep; units split across workers.
  public mutating func add(stimuli range: Range<Int>, rows: UnsafePointer<Float>) {
    let slots = range.map(combination)
    for c in slots { count[c] += 1 }
    let width = 2 * units
    sum.withUnsafeMutableBufferPointer { sm in
      let sp = SharedPointer(sm.baseAddress!)
      Parallel.forEachRange(width, minimum: 4096) { cols, _ in
        for (i, c) in slots.enumerated() {
          let row = rows + i * width
          let base = c * width
          for j in cols { sp.pointer[base + j] += Double(row[j]) }
        }
      }
    }
  }

  /// Mean response of `unit` in `phase` at every combination.
  public func means(unit: Int, phase: Int) -> [Double] {
    (0..<combinations).map { c in sum[(c * 2 + phase) * units + unit] / Double(max(1, count[c])) }
  }
}
