import Engine
import ModelInterface
import Stimuli

/// Which units of each recorded layer are kept. A unit is one (channel, y, x) position of a conv map.
public enum UnitSelection: Sendable, Equatable {
  /// Units whose receptive field covers the swept object (in some stimulus) and never the distractor:
  /// what a physiologist records (the default). See `ReceptiveFieldClass`.
  case object
  /// Every unit.
  case all
  /// Every channel at the map's central position (H/2, W/2).
  case center
  /// Units whose receptive field covers part of the swept object (pixels above 10% of its peak) in
  /// at least one stimulus of the sweep.
  case covering
  /// Explicit (layer, channel, y, x) units.
  case list([UnitID])
}

/// One recorded unit.
public struct UnitID: Sendable, Equatable, Hashable {
  public var layer: String
  public var channel, y, x: Int
  public init(layer: String, channel: Int, y: Int, x: Int) {
    self.layer = layer
    self.channel = channel
    self.y = y
    self.x = x
  }
}

/// The resolved units of a recording, in output order (layers in request order, then channel, y, x).
public struct UnitTable: Sendable {
  public var units: [UnitID]
  /// Flat index of each unit within its layer's [C, H, W] map.
  public var flatIndex: [Int]
  /// For each requested layer, the range of rows of `units` it occupies.
  public var layerRanges: [(layer: String, range: Range<Int>)]
  /// Receptive field of each unit (input rows and columns).
  public var receptiveFields: [(rows: ClosedRange<Int>, cols: ClosedRange<Int>)]
  /// Geometric receptive-field centre of each unit (input row, column; not clamped to the canvas).
  public var centres: [(y: Double, x: Double)] = []
  /// Receptive-field class of each unit in the sweep (nil without a sweep footprint).
  public var classes: [ReceptiveFieldClass]? = nil

  /// Resolves `selection` for `layers` of a model; the sweep's `footprint` (the pixels each object
  /// covers) classifies every unit's receptive field and is needed for `.object` and `.covering`.
  public static func resolve(
    _ selection: UnitSelection, layers: [LayerGeometry], footprint: SweepFootprint?
  ) throws -> UnitTable {
    var t = UnitTable(units: [], flatIndex: [], layerRanges: [], receptiveFields: [])
    var classes: [ReceptiveFieldClass] = []
    for g in layers {
      let start = t.units.count
      func add(_ c: Int, _ y: Int, _ x: Int) {
        t.units.append(UnitID(layer: g.name, channel: c, y: y, x: x))
        t.flatIndex.append((c * g.height + y) * g.width + x)
        let rf = g.receptiveField(y, x)
        t.receptiveFields.append(rf)
        t.centres.append(g.centre(y, x))
        if let footprint { classes.append(footprint.classify(rf)) }
      }
      switch selection {
      case .object:
        guard let footprint else { throw RecordingError("units: object needs the stimulus sweep") }
        var positions: [(Int, Int)] = []
        for y in 0..<g.height {
          for x in 0..<g.width where footprint.classify(g.receptiveField(y, x)) == .object { positions.append((y, x)) }
        }
        for c in 0..<g.channels { for (y, x) in positions { add(c, y, x) } }
      case .all:
        for c in 0..<g.channels { for y in 0..<g.height { for x in 0..<g.width { add(c, y, x) } } }
      case .center:
        for c in 0..<g.channels { add(c, g.height / 2, g.width / 2) }
      case .covering:
        guard let footprint else { throw RecordingError("units: covering needs the stimulus sweep") }
        var positions: [(Int, Int)] = []
        for y in 0..<g.height {
          for x in 0..<g.width {
            let k = footprint.classify(g.receptiveField(y, x))
            if k == .object || k == .both { positions.append((y, x)) }
          }
        }
        for c in 0..<g.channels { for (y, x) in positions { add(c, y, x) } }
      case .list(let ids):
        for id in ids where id.layer == g.name {
          guard id.channel >= 0, id.channel < g.channels, id.y >= 0, id.y < g.height, id.x >= 0, id.x < g.width else {
            throw RecordingError(
              "unit \(g.name)[\(id.channel), \(id.y), \(id.x)] is outside the layer's [\(g.channels), \(g.height), \(g.width)] map"
            )
          }
          add(id.channel, id.y, id.x)
        }
      }
      t.layerRanges.append((g.name, start..<t.units.count))
    }
    if footprint != nil { t.classes = classes }
    if case .list(let ids) = selection {
      let names = Set(layers.map(\.name))
      if let bad = ids.first(where: { !names.contains($0.layer) }) {
        throw RecordingError(
          "unit in layer '\(bad.layer)', which is not recorded (recorded: \(layers.map(\.name).joined(separator: ", ")))"
        )
      }
    }
    return t
  }

  /// Writes the unit table as CSV, a row at a time: unit, layer, channel, y, x, the receptive field's
  /// input box (clamped to the canvas) and geometric centre, the unit's receptive-field class in the
  /// sweep, and `extra` columns (name, one cell per unit) such as measured receptive fields.
  public func writeCSV(to path: String, extra: [(name: String, cells: [String])] = []) throws {
    let table = try TextStreamWriter(path: path)
    try table.line(
      (["unit,layer,channel,y,x,rf_row_min,rf_row_max,rf_col_min,rf_col_max,rf_centre_row,rf_centre_col,rf_class"]
        + extra.map(\.name)).joined(separator: ","))
    for (i, u) in units.enumerated() {
      let rf = receptiveFields[i]
      let c = centres[i]
      try table.line(
        "\(i),\(u.layer),\(u.channel),\(u.y),\(u.x),\(rf.rows.lowerBound),\(rf.rows.upperBound),\(rf.cols.lowerBound),\(rf.cols.upperBound),\(formatNumber(c.y)),\(formatNumber(c.x)),\(classes?[i].rawValue ?? "")"
          + extra.map { "," + $0.cells[i] }.joined()
      )
    }
    try table.finish()
  }
}
