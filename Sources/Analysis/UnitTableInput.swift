import Foundation

/// One unit's paired observations: attended and unattended responses per stimulus condition (the
/// trial means when there are trials), optionally the trials themselves, and the labels of the groups
/// the unit belongs to (its receptive-field class, or a table's subject and session).
public struct UnitObservations: Sendable {
  public var unit: String
  public var layer: String
  public var conditions: [String]
  public var attended: [Double]
  public var unattended: [Double]
  /// Per condition, the trials of each phase (paired by index: trial r of both phases saw the same
  /// stimulus draw); nil with one value per condition.
  public var attendedTrials, unattendedTrials: [[Double]]?
  /// Group labels as (column, value), in table order: summaries are stratified by them.
  public var groups: [(name: String, value: String)]

  public init(
    unit: String, layer: String, conditions: [String], attended: [Double], unattended: [Double],
    groups: [(name: String, value: String)] = []
  ) {
    self.unit = unit
    self.layer = layer
    self.conditions = conditions
    self.attended = attended
    self.unattended = unattended
    self.groups = groups
  }

  /// Observations with trials: the per-condition means are computed from them.
  public init(
    unit: String, layer: String, conditions: [String], attendedTrials: [[Double]], unattendedTrials: [[Double]],
    groups: [(name: String, value: String)] = []
  ) {
    func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
    self.init(
      unit: unit, layer: layer, conditions: conditions, attended: attendedTrials.map(mean),
      unattended: unattendedTrials.map(mean), groups: groups)
    self.attendedTrials = attendedTrials
    self.unattendedTrials = unattendedTrials
  }

  /// The stratum the unit is summarised in: its group labels as "name=value, ..." ("" without groups).
  public var stratum: String { groups.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") }
}

/// Why a table could not be read: names the file, line and column.
public struct TableError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Reads a long-format CSV with columns `unit, condition, attended, unattended`, optionally `layer` and
/// `trial`, and any other columns as group labels (e.g. `subject`, `session`, `rf_class`), in any order
/// with a header row. One row per unit and condition, or per unit, condition and trial: trials pair
/// the attended and unattended values of one stimulus draw, and every condition of a unit needs the
/// same trials. A unit is identified by its group labels and name; a unit whose rows name different
/// layers is an error; missing columns and non-numeric cells are errors naming the line and column;
/// NaN cells are kept (the analysis excludes such units with a reason).
public func readUnitTable(_ path: String) throws -> [UnitObservations] {
  guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
    throw TableError(message: "\(path): cannot be read")
  }
  let records = try parseCSV(text, file: path)
  guard let headerRecord = records.first else {
    throw TableError(message: "\(path): the file is empty (expected a header row)")
  }
  let header = headerRecord.fields.map { $0.lowercased() }
  let required = ["unit", "condition", "attended", "unattended"]
  let missing = required.filter { !header.contains($0) }
  guard missing.isEmpty else {
    throw TableError(
      message:
        "\(path):\(headerRecord.line): missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) (the table needs unit, condition, attended, unattended and optionally layer, trial and group columns)"
    )
  }
  for name in Set(header) where header.filter({ $0 == name }).count > 1 {
    throw TableError(message: "\(path):\(headerRecord.line): column '\(name)' appears twice")
  }
  let iu = header.firstIndex(of: "unit")!
  let ic = header.firstIndex(of: "condition")!
  let ia = header.firstIndex(of: "attended")!
  let iun = header.firstIndex(of: "unattended")!
  let il = header.firstIndex(of: "layer")
  let it = header.firstIndex(of: "trial")
  let groupColumns = header.indices.filter { ![iu, ic, ia, iun, il, it].contains($0) && !header[$0].isEmpty }
  struct Pending {
    var layer: String
    var groups: [(name: String, value: String)]
    var conditions: [String] = []
    var rows: [String: [(trial: String, a: Double, u: Double, line: Int)]] = [:]
    var flat: [(condition: String, a: Double, u: Double)] = []
  }
  var order: [String] = []
  var byUnit: [String: Pending] = [:]
  for record in records.dropFirst() {
    let f = record.fields
    let line = record.line
    guard f.count == header.count else {
      throw TableError(
        message: "\(path):\(line): expected \(header.count) cells, found \(f.count) (one per header column)")
    }
    func number(_ i: Int) throws -> Double {
      let s = f[i]
      if s.lowercased() == "nan" { return .nan }
      guard let v = Double(s) else {
        throw TableError(message: "\(path):\(line): column '\(header[i])': '\(s)' is not a number")
      }
      return v
    }
    let unit = f[iu]
    let layer = il.map { f[$0] } ?? ""
    guard !unit.isEmpty else { throw TableError(message: "\(path):\(line): column 'unit' is empty") }
    let groups = groupColumns.map { (name: headerRecord.fields[$0], value: f[$0]) }
    let key = (groups.map(\.value) + [unit]).joined(separator: "\u{1F}")
    let a = try number(ia)
    let u = try number(iun)
    let trial = it.map { f[$0] } ?? ""
    if it != nil && trial.isEmpty { throw TableError(message: "\(path):\(line): column 'trial' is empty") }
    if byUnit[key] == nil {
      order.append(key)
      byUnit[key] = Pending(layer: layer, groups: groups)
    } else if byUnit[key]!.layer != layer {
      throw TableError(
        message: "\(path):\(line): unit '\(unit)' is in layer '\(layer)' here but '\(byUnit[key]!.layer)' earlier")
    }
    let condition = f[ic]
    if byUnit[key]!.rows[condition] == nil { byUnit[key]!.conditions.append(condition) }
    if it != nil, let earlier = byUnit[key]!.rows[condition]?.first(where: { $0.trial == trial }) {
      throw TableError(
        message:
          "\(path):\(line): unit '\(unit)', condition '\(condition)', trial '\(trial)' appears twice (also line \(earlier.line))"
      )
    }
    byUnit[key]!.rows[condition, default: []].append((trial, a, u, line))
    byUnit[key]!.flat.append((condition, a, u))
  }
  guard !order.isEmpty else { throw TableError(message: "\(path): no data rows after the header") }
  return try order.map { key in
    let p = byUnit[key]!
    let unit = String(key.split(separator: "\u{1F}", omittingEmptySubsequences: false).last!)
    let rows = p.conditions.map { p.rows[$0]! }
    guard it != nil else {
      // Without a trial column, repeated conditions are separate conditions, in row order.
      let conditions = p.flat.map(\.condition)
      let a = p.flat.map(\.a)
      let u = p.flat.map(\.u)
      return UnitObservations(
        unit: unit, layer: p.layer, conditions: conditions, attended: a, unattended: u, groups: p.groups)
    }
    let trials = rows[0].map(\.trial).sorted()
    for (c, r) in zip(p.conditions, rows) where r.map(\.trial).sorted() != trials {
      throw TableError(
        message:
          "\(path):\(r[0].line): unit '\(unit)', condition '\(c)' has trials \(r.map(\.trial).sorted().joined(separator: " ")) but condition '\(p.conditions[0])' has \(trials.joined(separator: " ")); every condition needs the same trials"
      )
    }
    func ordered(_ r: [(trial: String, a: Double, u: Double, line: Int)]) -> [(String, Double, Double, Int)] {
      r.sorted { $0.trial < $1.trial }
    }
    return UnitObservations(
      unit: unit, layer: p.layer, conditions: p.conditions, attendedTrials: rows.map { ordered($0).map(\.1) },
      unattendedTrials: rows.map { ordered($0).map(\.2) }, groups: p.groups)
  }
}
