import Foundation

/// One unit's paired observations: attended and unattended responses per stimulus condition.
public struct UnitObservations: Sendable {
  public var unit: String
  public var layer: String
  public var conditions: [String]
  public var attended: [Double]
  public var unattended: [Double]

  public init(unit: String, layer: String, conditions: [String], attended: [Double], unattended: [Double]) {
    self.unit = unit
    self.layer = layer
    self.conditions = conditions
    self.attended = attended
    self.unattended = unattended
  }
}

/// Why a table could not be read: names the file, line and column.
public struct TableError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Reads a long-format CSV with columns `unit, condition, attended, unattended` and optionally `layer`
/// (any order, a header row required, extra columns ignored): one row per unit and condition. A unit
/// whose rows name different layers is an error; missing columns and non-numeric cells are errors
/// naming the line and column; NaN cells are kept (the analysis excludes such units with a reason).
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
        "\(path):\(headerRecord.line): missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) (the table needs unit, condition, attended, unattended and optionally layer)"
    )
  }
  for name in required + ["layer"] where header.filter({ $0 == name }).count > 1 {
    throw TableError(message: "\(path):\(headerRecord.line): column '\(name)' appears twice")
  }
  let iu = header.firstIndex(of: "unit")!
  let ic = header.firstIndex(of: "condition")!
  let ia = header.firstIndex(of: "attended")!
  let iun = header.firstIndex(of: "unattended")!
  let il = header.firstIndex(of: "layer")
  var order: [String] = []
  var byUnit: [String: UnitObservations] = [:]
  for record in records.dropFirst() {
    let f = record.fields
    let k = record.line - 1
    guard f.count == header.count else {
      throw TableError(
        message: "\(path):\(record.line): expected \(header.count) cells, found \(f.count) (one per header column)")
    }
    func number(_ i: Int) throws -> Double {
      let s = f[i]
      if s.lowercased() == "nan" { return .nan }
      guard let v = Double(s) else {
        throw TableError(message: "\(path):\(k + 1): column '\(header[i])': '\(s)' is not a number")
      }
      return v
    }
    let unit = f[iu]
    let layer = il.map { f[$0] } ?? ""
    guard !unit.isEmpty else { throw TableError(message: "\(path):\(k + 1): column 'unit' is empty") }
    let a = try number(ia)
    let u = try number(iun)
    if byUnit[unit] == nil {
      order.append(unit)
      byUnit[unit] = UnitObservations(unit: unit, layer: layer, conditions: [], attended: [], unattended: [])
    } else if byUnit[unit]!.layer != layer {
      throw TableError(
        message: "\(path):\(k + 1): unit '\(unit)' is in layer '\(layer)' here but '\(byUnit[unit]!.layer)' earlier")
    }
    byUnit[unit]!.conditions.append(f[ic])
    byUnit[unit]!.attended.append(a)
    byUnit[unit]!.unattended.append(u)
  }
  guard !order.isEmpty else { throw TableError(message: "\(path): no data rows after the header") }
  return order.map { byUnit[$0]! }
}
