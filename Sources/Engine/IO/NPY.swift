import Foundation

/// NumPy's .npy format: magic "\x93NUMPY", version, a Python-literal header
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded to 64 bytes, then the data.
public enum NPY {
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  /// Parses .npy bytes into a tensor called `name` (C order, little-endian).
  public static func decode(_ bytes: [UInt8], name: String = "array") throws -> StoredTensor {
    var r = ByteReader(bytes, what: "npy data")
    guard Array(try r.take(6)) == magic else { throw CheckpointError("not an .npy file (bad magic)") }
    let major = try r.u8()
    _ = try r.u8()
    let headerLength: Int
    switch major {
    case 1: headerLength = try r.u16()
    case 2, 3: headerLength = try r.u32()
    default: throw CheckpointError("unsupported .npy version \(major)")
    }
    guard let header = String(bytes: try r.take(headerLength), encoding: major == 3 ? .utf8 : .isoLatin1) else {
      throw CheckpointError("unreadable .npy header")
    }
    let dict = try parseHeader(header)
    guard let descr = dict["descr"] else { throw CheckpointError(".npy header has no 'descr'") }
    guard let fortranText = dict["fortran_order"] else { throw CheckpointError(".npy header has no 'fortran_order'") }
    guard let shapeText = dict["shape"] else { throw CheckpointError(".npy header has no 'shape'") }
    let (dtype, bigEndian) = try parseDescr(descr)
    let shape = try parseShape(shapeText)
    let count = try checkedProduct(shape, what: ".npy shape")
    let (need, o) = count.multipliedReportingOverflow(by: dtype.size)
    guard !o, need <= r.remaining else {
      throw CheckpointError(
        ".npy data is truncated: \(descr) \(shape) needs \(count) elements, file has \(r.remaining) bytes")
    }
    var data = Array(try r.take(need))
    if bigEndian && dtype.size > 1 {
      for i in 0..<count { data[(i * dtype.size)..<((i + 1) * dtype.size)].reverse() }
    }
    var t = StoredTensor(name: name, dtype: dtype, shape: shape, data: data)
    if fortranText == "True" && shape.count > 1 { t = fortranToC(t) }
    return t
  }

  /// Serialises a tensor as .npy version 1.0 (version 2.0 when the header needs it); with
  /// `headerOnly`, just the header for `t`'s dtype and shape (streaming writers append the data).
  public static func encode(_ t: StoredTensor, headerOnly: Bool = false) -> [UInt8] {
    let descr: String
    switch t.dtype {
    case .f64: descr = "<f8"
    case .f32: descr = "<f4"
    case .f16: descr = "<f2"
    case .bf16: descr = "<f4"
    case .i64: descr = "<i8"
    case .i32: descr = "<i4"
    case .i16: descr = "<i2"
    case .i8: descr = "|i1"
    case .u8: descr = "|u1"
    case .bool: descr = "|b1"
    }
    var data = t.data
    if t.dtype == .bf16 {  // NumPy has no bfloat16: widen to float32
      data = StoredTensor(name: t.name, shape: t.shape, floats: (try? t.floats()) ?? []).data
    }
    let shapeText =
      t.shape.isEmpty
      ? "()" : (t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")")
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    let v2 = header.utf8.count + 11 > 65535
    let prefix = v2 ? 12 : 10
    let total = (prefix + header.utf8.count + 1 + 63) / 64 * 64
    header += String(repeating: " ", count: total - prefix - header.utf8.count - 1) + "\n"
    var out = magic + [v2 ? 2 : 1, 0]
    let hl = header.utf8.count
    if v2 {
      out += [UInt8(hl & 0xFF), UInt8((hl >> 8) & 0xFF), UInt8((hl >> 16) & 0xFF), UInt8(hl >> 24)]
    } else {
      out += [UInt8(hl & 0xFF), UInt8(hl >> 8)]
    }
    out += Array(header.utf8)
    if !headerOnly { out += data }
    return out
  }

  /// Reads an .npy file.
  public static func read(_ path: String, name: String = "array") throws -> StoredTensor {
    do { return try decode(try readFileBytes(path), name: name) } catch let e as CheckpointError {
      throw e.inFile(path)
    }
  }

  /// Writes an .npy file atomically.
  public static func write(_ t: StoredTensor, to path: String) throws {
    try writeFileAtomically(encode(t), to: path)
  }

  /// Splits the header dict literal into key -> raw value text (values may be tuples).
  static func parseHeader(_ text: String) throws -> [String: String] {
    var s = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
    guard s.first == "{", s.last == "}" else { throw CheckpointError(".npy header is not a dict literal") }
    s = s.dropFirst().dropLast()
    var result: [String: String] = [:]
    var i = s.startIndex
    func skipSpaces() { while i < s.endIndex, s[i] == " " || s[i] == "," || s[i] == "\n" { i = s.index(after: i) } }
    while true {
      skipSpaces()
      if i >= s.endIndex { break }
      guard s[i] == "'" || s[i] == "\"" else { throw CheckpointError(".npy header: expected a quoted key") }
      let q = s[i]
      i = s.index(after: i)
      guard let end = s[i...].firstIndex(of: q) else { throw CheckpointError(".npy header: unterminated key") }
      let key = String(s[i..<end])
      i = s.index(after: end)
      skipSpaces()
      guard i < s.endIndex, s[i] == ":" else { throw CheckpointError(".npy header: expected ':' after '\(key)'") }
      i = s.index(after: i)
      while i < s.endIndex, s[i] == " " { i = s.index(after: i) }
      guard i < s.endIndex else { throw CheckpointError(".npy header: missing value for '\(key)'") }
      let start = i
      if s[i] == "(" {
        guard let close = s[i...].firstIndex(of: ")") else {
          throw CheckpointError(".npy header: unterminated shape tuple")
        }
        i = s.index(after: close)
      } else if s[i] == "'" || s[i] == "\"" {
        let q2 = s[i]
        let after = s.index(after: i)
        guard let close = s[after...].firstIndex(of: q2) else {
          throw CheckpointError(".npy header: unterminated string")
        }
        i = s.index(after: close)
      } else {
        while i < s.endIndex, s[i] != ",", s[i] != " " { i = s.index(after: i) }
      }
      var value = String(s[start..<i])
      if value.first == "'" || value.first == "\"" { value = String(value.dropFirst().dropLast()) }
      result[key] = value
    }
    return result
  }

  static func parseDescr(_ d: String) throws -> (StorageDType, Bool) {
    guard d.count >= 2 else { throw CheckpointError("unsupported .npy dtype '\(d)'") }
    let order = d.first!
    let code = String(d.dropFirst())
    let map: [String: StorageDType] = [
      "f8": .f64, "f4": .f32, "f2": .f16, "i8": .i64, "i4": .i32, "i2": .i16, "i1": .i8, "u1": .u8, "b1": .bool,
    ]
    guard "<>|=".contains(order), let dt = map[code] else {
      throw CheckpointError("unsupported .npy dtype '\(d)' (supported: f8 f4 f2 i8 i4 i2 i1 u1 b1)")
    }
    return (dt, order == ">")
  }

  static func parseShape(_ text: String) throws -> [Int] {
    guard text.first == "(", text.last == ")" else { throw CheckpointError(".npy header: bad shape '\(text)'") }
    let inner = text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter
    { !$0.isEmpty }
    return try inner.map {
      guard let v = Int($0), v >= 0 else { throw CheckpointError(".npy header: bad dimension '\($0)'") }
      return v
    }
  }

  static func fortranToC(_ t: StoredTensor) -> StoredTensor {
    let shape = t.shape
    let size = t.dtype.size
    var fStrides = [Int](repeating: 1, count: shape.count)
    for i in 1..<shape.count { fStrides[i] = fStrides[i - 1] * shape[i - 1] }
    var out = [UInt8](repeating: 0, count: t.data.count)
    var idx = [Int](repeating: 0, count: shape.count)
    for flat in 0..<t.count {
      let src = zip(idx, fStrides).reduce(0) { $0 + $1.0 * $1.1 }
      for b in 0..<size { out[flat * size + b] = t.data[src * size + b] }
      var d = shape.count - 1
      while d >= 0 {
        idx[d] += 1
        if idx[d] < shape[d] { break }
        idx[d] = 0
        d -= 1
      }
    }
    return StoredTensor(name: t.name, dtype: t.dtype, shape: shape, data: out)
  }
}
