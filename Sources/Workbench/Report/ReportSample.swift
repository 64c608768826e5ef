import Engine
import Foundation

/// Which units of a run the report's per-unit figures draw (histograms, scatter plots, example and
/// population tuning curves): every unit when the run has at most `limit` (`allUnitsUpTo` unless
/// given); otherwise, in each layer and receptive-field class, every unit up to `perGroup` of them
/// (limit / groups, at least limit / 50), or a uniform random sample of `perGroup` drawn with the
/// run's seed. Statistics, tables and layer summaries always use every unit;
/// `notes` say which figures are sampled, for page 1.
struct ReportSample {
  static let allUnitsUpTo = 50_000
  let perGroup: Int
  private let kept: [Bool]?
  let notes: [String]

  init(_ record: RunRecord, limit: Int = allUnitsUpTo) {
    let count = record.units.count
    var groups: [String: [Int]] = [:]
    var order: [String] = []
    if count > limit {
      for k in 0..<count {
        let label = record.units[k].layer + (record.classes.map { " rf:" + $0[k] } ?? "")
        if groups[label] == nil { order.append(label) }
        groups[label, default: []].append(k)
      }
    }
    perGroup = max(1, limit / 50, limit / max(1, order.count))
    guard count > limit else {
      kept = nil
      notes = []
      return
    }
    var keep = [Bool](repeating: false, count: count)
    var notes: [String] = []
    var random = RandomGenerator(seed: record.seed)
    for label in order {
      let members = groups[label]!
      if members.count <= perGroup {
        for k in members { keep[k] = true }
        continue
      }
      // Selection sampling (Knuth's algorithm S): each subset of perGroup members equally likely,
      // kept in unit order.
      var needed = perGroup
      for (seen, k) in members.enumerated() where needed > 0 {
        if Double(members.count - seen) * random.nextUnit() < Double(needed) {
          keep[k] = true
          needed -= 1
        }
      }
      notes.append(
        "Per-unit figures of \(label) show a random sample of \(perGroup) of its \(members.count) units (seed \(record.seed)); its statistics and tables use every unit."
      )
    }
    kept = keep
    self.notes = notes
  }

  /// Whether the report draws unit `k`.
  func keeps(_ k: Int) -> Bool { kept?[k] ?? true }
}
