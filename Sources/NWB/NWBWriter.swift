import Foundation

/// A column of an NWB dynamic table (trials, units): one value per row, or a fixed-width row of
/// float32 values (a 2-D `VectorData`, [rows, width]).
public struct NWBColumn: Sendable {
  /// The values of a column, one per table row.
  public enum Values: Sendable {
    case doubles([Double])
    case int64s([Int64])
    case strings([String])
    /// Row-major [rows, width] float32 values.
    case floatRows([Float], width: Int)
  }
  public var name: String
  public var description: String
  public var values: Values
  public init(name: String, description: String, values: Values) {
    self.name = name
    self.description = description
    self.values = values
  }

  /// The number of table rows the column holds.
  public var count: Int {
    switch values {
    case .doubles(let v): return v.count
    case .int64s(let v): return v.count
    case .strings(let v): return v.count
    case .floatRows(let v, let width): return width > 0 ? v.count / width : 0
    }
  }
}

/// Writes a Neurodata Without Borders (NWB 2.x) file on HDF5: the file's required fields and
/// metadata, a trials table, a units table, an image series of stimuli and time series in a
/// processing module. Neurodata types follow the NWB core and hdmf-common schemas (`namespace`,
/// `neurodata_type` and `object_id` on every typed object); object ids are derived from the file's
/// identifier and the object's path, so the same content gives the same bytes. Call the parts in
/// any order, then `finish()`, which moves the file into place.
public final class NWBWriter {
  /// The NWB schema version the file declares.
  public static let nwbVersion = "2.7.0"
  /// Rows (timestamps) and columns of a time series' storage chunks: 1,024 x 256 float32, 1 MiB.
  public static let chunkRows = 1024
  public static let chunkColumns = 256
  let h5: HDF5File
  let identifier: String

  /// Starts a file with the required fields. Times are ISO 8601 strings with a time zone.
  public init(
    path: String, identifier: String, sessionDescription: String, sessionStartTime: String, fileCreateDate: String
  ) throws {
    h5 = try HDF5File(creating: path)
    self.identifier = identifier
    try typed("/", "core", "NWBFile")
    try h5.attribute("/", "nwb_version", NWBWriter.nwbVersion)
    for g in ["/acquisition", "/analysis", "/general", "/intervals", "/processing", "/stimulus"] { try h5.group(g) }
    for g in ["/stimulus/presentation", "/stimulus/templates"] { try h5.group(g) }
    try h5.dataset("/file_create_date", strings: [fileCreateDate])
    try h5.dataset("/identifier", strings: [identifier], scalar: true)
    try h5.dataset("/session_description", strings: [sessionDescription], scalar: true)
    try h5.dataset("/session_start_time", strings: [sessionStartTime], scalar: true)
    try h5.dataset("/timestamps_reference_time", strings: [sessionStartTime], scalar: true)
  }

  /// Free-text metadata under /general (protocol, notes, experiment_description, ...), and the
  /// program that wrote the file (`source_script` with its `file_name`).
  public func general(_ fields: [(name: String, text: String)], sourceScript: (text: String, fileName: String)?) throws
  {
    for f in fields { try h5.dataset("/general/\(f.name)", strings: [f.text], scalar: true) }
    if let s = sourceScript {
      try h5.dataset("/general/source_script", strings: [s.text], scalar: true)
      try h5.attribute("/general/source_script", "file_name", s.fileName)
    }
  }

  /// The trials table (/intervals/trials, TimeIntervals): start and stop times in seconds and
  /// further columns.
  public func trials(start: [Double], stop: [Double], columns: [NWBColumn], description: String) throws {
    precondition(start.count == stop.count)
    let all =
      [
        NWBColumn(name: "start_time", description: "Start time of epoch, in seconds", values: .doubles(start)),
        NWBColumn(name: "stop_time", description: "Stop time of epoch, in seconds", values: .doubles(stop)),
      ] + columns
    try table("/intervals/trials", type: "TimeIntervals", rows: start.count, columns: all, description: description)
  }

  /// The units table (/units, Units).
  public func units(rows: Int, columns: [NWBColumn], description: String) throws {
    try table("/units", type: "Units", rows: rows, columns: columns, description: description)
  }

  /// An ImageSeries of float32 frames [frames, height, width] under /stimulus/presentation,
  /// frame i shown from `startingTime + i / rate` seconds.
  public func stimulusImages(
    name: String, frames: [Float], shape: [Int], startingTime: Double, rate: Double, unit: String, description: String
  ) throws {
    let path = "/stimulus/presentation/\(name)"
    try h5.group(path)
    try typed(path, "core", "ImageSeries")
    try h5.attribute(path, "description", description)
    try h5.attribute(path, "comments", "no comments")
    try h5.dataset(path + "/data", floats: frames, shape: shape)
    try dataAttributes(path + "/data", unit: unit)
    try h5.dataset(path + "/starting_time", doubles: [startingTime], shape: [])
    try h5.attribute(path + "/starting_time", "rate", rate)
    try h5.attribute(path + "/starting_time", "unit", "seconds")
  }

  /// A processing module (/processing/NAME, ProcessingModule) holding time series.
  public func processingModule(_ name: String, description: String) throws {
    let path = "/processing/\(name)"
    try h5.group(path)
    try typed(path, "core", "ProcessingModule")
    try h5.attribute(path, "description", description)
  }

  /// A TimeSeries of float32 rows [timestamps, columns] in processing module `module`, written
  /// block by block through the returned writer (finish it before `finish()`), chunked for reading
  /// a few columns over all rows as well as a few rows.
  public func timeSeries(
    module: String, name: String, timestamps: [Double], columns: Int, unit: String, description: String,
    comments: String, compression: Int
  ) throws -> HDF5MatrixWriter {
    let path = "/processing/\(module)/\(name)"
    try h5.group(path)
    try typed(path, "core", "TimeSeries")
    try h5.attribute(path, "description", description)
    try h5.attribute(path, "comments", comments)
    try h5.dataset(path + "/timestamps", doubles: timestamps, shape: [timestamps.count])
    try h5.attribute(path + "/timestamps", "interval", Int64(1))
    try h5.attribute(path + "/timestamps", "unit", "seconds")
    let writer = try h5.streamedFloatMatrix(
      path + "/data", rows: timestamps.count, columns: columns, chunkRows: NWBWriter.chunkRows,
      chunkColumns: NWBWriter.chunkColumns, level: compression)
    try dataAttributes(path + "/data", unit: unit)
    return writer
  }

  /// Closes the file and moves it into place.
  public func finish() throws { try h5.finish() }

  // MARK: Parts

  private func table(_ path: String, type: String, rows: Int, columns: [NWBColumn], description: String) throws {
    for c in columns where c.count != rows {
      throw NWBError("\(h5.path): column \(c.name) of \(path) has \(c.count) rows, the table \(rows)")
    }
    try h5.group(path)
    try typed(path, "core", type)
    try h5.attribute(path, "description", description)
    try h5.attribute(path, "colnames", columns.map(\.name))
    try h5.dataset(path + "/id", int64s: (0..<rows).map(Int64.init), shape: [rows])
    try typed(path + "/id", "hdmf-common", "ElementIdentifiers")
    for c in columns {
      let p = path + "/" + c.name
      switch c.values {
      case .doubles(let v): try h5.dataset(p, doubles: v, shape: [v.count])
      case .int64s(let v): try h5.dataset(p, int64s: v, shape: [v.count])
      case .strings(let v): try h5.dataset(p, strings: v)
      case .floatRows(let v, let width): try h5.dataset(p, floats: v, shape: [rows, width])
      }
      try typed(p, "hdmf-common", "VectorData")
      try h5.attribute(p, "description", c.description)
    }
  }

  private func dataAttributes(_ path: String, unit: String) throws {
    try h5.attribute(path, "conversion", 1.0)
    try h5.attribute(path, "offset", 0.0)
    try h5.attribute(path, "resolution", -1.0)
    try h5.attribute(path, "unit", unit)
  }

  private func typed(_ path: String, _ namespace: String, _ type: String) throws {
    try h5.attribute(path, "namespace", namespace)
    try h5.attribute(path, "neurodata_type", type)
    try h5.attribute(path, "object_id", objectID(path))
  }

  /// A UUID-formatted id (RFC 9562 version 8: name-based, custom hash) from the file identifier and
  /// the object's path: unique within and across files, and the same on every rewrite.
  func objectID(_ path: String) -> String {
    let key = identifier + "\u{0}" + path
    var hi = fnv1a(key)
    var lo = fnv1a(key, basis: 0x8422_2325_cbf2_9ce4 ^ hi)
    hi = (hi & ~0xF000) | 0x8000  // version 8
    lo = (lo & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)  // variant 10
    let h = String(format: "%016llx", hi)
    let l = String(format: "%016llx", lo)
    return "\(h.prefix(8))-\(h.dropFirst(8).prefix(4))-\(h.suffix(4))-\(l.prefix(4))-\(l.suffix(12))"
  }
}

/// 64-bit FNV-1a hash of a string's UTF-8 bytes from `basis` (the standard offset basis by default):
/// a stable, platform-independent fingerprint for identifiers (not a cryptographic hash).
public func fnv1a(_ s: String, basis: UInt64 = 0xcbf2_9ce4_8422_2325) -> UInt64 {
  var h = basis
  for b in s.utf8 {
    h ^= UInt64(b)
    h = h &* 0x100_0000_01b3
  }
  return h
}
