/// Bounds-checked little-endian reading from a byte array; every read past the end throws.
struct ByteReader {
  let bytes: [UInt8]
  var offset: Int
  let what: String

  init(_ bytes: [UInt8], offset: Int = 0, what: String) {
    self.bytes = bytes
    self.offset = offset
    self.what = what
  }

  var remaining: Int { bytes.count - offset }

  func truncated(_ need: Int) -> CheckpointError {
    CheckpointError("\(what) is truncated: needed \(need) bytes at offset \(offset), only \(max(0, remaining)) left")
  }

  mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
    guard n >= 0, offset >= 0, n <= remaining else { throw truncated(n) }
    defer { offset += n }
    return bytes[offset..<(offset + n)]
  }

  mutating func u8() throws -> UInt8 { try take(1).first! }

  mutating func uint(_ width: Int) throws -> UInt64 {
    let s = try take(width)
    var v: UInt64 = 0
    for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
    return v
  }

  mutating func u16() throws -> Int { Int(try uint(2)) }
  mutating func u32() throws -> Int { Int(try uint(4)) }
  /// A u64 that must fit in Int (file sizes and offsets).
  mutating func u64() throws -> Int {
    let v = try uint(8)
    guard v <= UInt64(Int.max) else {
      throw CheckpointError("\(what): value \(v) at offset \(offset - 8) is too large")
    }
    return Int(v)
  }
}

/// Reads a u16/u32/u64 little-endian value at an absolute offset, throwing when out of range.
func readLE(_ bytes: [UInt8], at offset: Int, width: Int, what: String) throws -> Int {
  var r = ByteReader(bytes, offset: offset, what: what)
  let v = try r.uint(width)
  guard v <= UInt64(Int.max) else { throw CheckpointError("\(what): value too large at offset \(offset)") }
  return Int(v)
}

/// Multiplies sizes, throwing instead of overflowing.
func checkedProduct(_ values: [Int], what: String) throws -> Int {
  var p = 1
  for v in values {
    guard v >= 0 else { throw CheckpointError("\(what): negative dimension \(v)") }
    let (r, o) = p.multipliedReportingOverflow(by: v)
    guard !o else { throw CheckpointError("\(what): shape \(values) is too large") }
    p = r
  }
  return p
}
