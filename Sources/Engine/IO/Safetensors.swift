import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header mapping each name
/// to {dtype, shape, data_offsets [begin, end)} relative to the data section (plus an optional
/// `__metadata__` string map), then the raw little-endian bytes.
public enum Safetensors {
  /// Largest header accepted (the reference implementation's limit).
  public static let maxHeaderBytes = 100_000_000

  /// Parses safetensors bytes; every inconsistency throws a `CheckpointError`.
  public static func decode(_ bytes: [UInt8]) throws -> TensorArchive {
    var r = ByteReader(bytes, what: "safetensors file")
    let headerLength = try r.u64()
    guard headerLength <= maxHeaderBytes else {
      throw CheckpointError(
        "header length \(headerLength) exceeds the \(maxHeaderBytes)-byte limit; not a safetensors file?")
    }
    guard headerLength <= r.remaining else {
      throw CheckpointError(
        "header length \(headerLength) points past the end of the file (\(bytes.count) bytes): truncated or not safetensors"
      )
    }
    let headerBytes = try r.take(headerLength)
    let dataStart = r.offset
    let dataSize = bytes.count - dataStart
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
    } catch {
      throw CheckpointError("header is not valid JSON")
    }
    guard let header = json as? [String: Any] else { throw CheckpointError("header is not a JSON object") }
    var archive = TensorArchive()
    if let meta = header["__metadata__"] {
      guard let m = meta as? [String: Any] else { throw CheckpointError("__metadata__ is not an object") }
      for (k, v) in m {
        guard let s = v as? String else { throw CheckpointError("__metadata__ value for '\(k)' is not a string") }
        archive.metadata[k] = s
      }
    }
    var entries: [(begin: Int, tensor: StoredTensor)] = []
    var allocated = 0  // entries may overlap, so their copies can outgrow the file: budget them
    for (name, value) in header where name != "__metadata__" {
      guard let info = value as? [String: Any] else { throw CheckpointError("entry '\(name)' is not an object") }
      guard let dt = info["dtype"] as? String else { throw CheckpointError("tensor '\(name)' has no dtype") }
      guard let dtype = StorageDType(rawValue: dt) else {
        throw CheckpointError(
          "tensor '\(name)' has unsupported dtype '\(dt)' (supported: \(StorageDType.allCases.map(\.rawValue).joined(separator: ", ")))"
        )
      }
      guard let shapeAny = info["shape"] as? [Any] else { throw CheckpointError("tensor '\(name)' has no shape list") }
      let shape = try shapeAny.map { v -> Int in
        guard let n = jsonInt(v), n <= Int(Int32.max) else {
          throw CheckpointError("tensor '\(name)' has an invalid dimension \(v) in its shape")
        }
        return n
      }
      guard let offs = info["data_offsets"] as? [Any], offs.count == 2,
        let b = jsonInt(offs[0]), let e = jsonInt(offs[1])
      else { throw CheckpointError("tensor '\(name)' has no valid data_offsets [begin, end]") }
      let count = try checkedProduct(shape, what: "tensor '\(name)'")
      let (need, overflow) = count.multipliedReportingOverflow(by: dtype.size)
      guard !overflow else { throw CheckpointError("tensor '\(name)' shape \(shape) is too large") }
      guard e >= b, e <= dataSize else {
        throw CheckpointError(
          "tensor '\(name)' data_offsets [\(b), \(e)] lie outside the \(dataSize)-byte data section")
      }
      guard e - b == need else {
        throw CheckpointError("tensor '\(name)' of \(dt) \(shape) needs \(need) bytes, data_offsets give \(e - b)")
      }
      allocated += need
      try ReadBudget.check(allocated, "tensor '\(name)' (with the tensors before it)")
      let data = Array(bytes[(dataStart + b)..<(dataStart + e)])
      entries.append((b, StoredTensor(name: name, dtype: dtype, shape: shape, data: data)))
    }
    archive.tensors = entries.sorted { ($0.begin, $0.tensor.name) < ($1.begin, $1.tensor.name) }.map(\.tensor)
    return archive
  }

  /// Reads a safetensors file.
  public static func read(_ path: String) throws -> TensorArchive {
    do { return try decode(try readFileBytes(path)) } catch let e as CheckpointError { throw e.inFile(path) }
  }

  /// Serialises an archive (tensors in the given order, header padded to 8 bytes).
  public static func encode(_ archive: TensorArchive) throws -> [UInt8] {
    var header: [String: Any] = [:]
    var offset = 0
    var seen = Set<String>()
    for t in archive.tensors {
      guard seen.insert(t.name).inserted else { throw CheckpointError("duplicate tensor name '\(t.name)'") }
      guard t.data.count == t.count * t.dtype.size else {
        throw CheckpointError("tensor '\(t.name)' has \(t.data.count) bytes for \(t.dtype.rawValue) \(t.shape)")
      }
      header[t.name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [offset, offset + t.data.count]]
      offset += t.data.count
    }
    if !archive.metadata.isEmpty { header["__metadata__"] = archive.metadata }
    var json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
    while json.count % 8 != 0 { json.append(0x20) }
    var out = [UInt8]()
    out.reserveCapacity(8 + json.count + offset)
    var n = UInt64(json.count).littleEndian
    withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
    out.append(contentsOf: json)
    for t in archive.tensors { out.append(contentsOf: t.data) }
    return out
  }

  /// Writes a safetensors file atomically.
  public static func write(_ archive: TensorArchive, to path: String) throws {
    try writeFileAtomically(try encode(archive), to: path)
  }
}

/// A non-negative integer from a JSON number (no booleans, fractions or out-of-range values).
func jsonInt(_ v: Any) -> Int? {
  if let i = v as? Int { return i >= 0 ? i : nil }
  guard let n = v as? NSNumber else { return nil }
  let d = n.doubleValue
  guard d >= 0, d <= 9.0e15, d == d.rounded() else { return nil }
  return Int(d)
}
