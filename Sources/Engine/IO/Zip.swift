import CZlib

/// One member of a zip archive.
public struct ZipEntry: Sendable {
  public var name: String
  public var method: Int
  public var compressedSize: Int
  public var uncompressedSize: Int
  public var crc32: UInt32
  public var localHeaderOffset: Int
}

/// A read-only view of a zip archive in memory (stored and deflated members, zip64 sizes), as
/// written by NumPy's savez and PyTorch's torch.save. Every malformed field throws.
public struct ZipArchive {
  public let bytes: [UInt8]
  public let entries: [ZipEntry]

  /// Parses the central directory.
  public init(_ bytes: [UInt8]) throws {
    self.bytes = bytes
    guard bytes.count >= 22 else { throw CheckpointError("not a zip archive (too short: \(bytes.count) bytes)") }
    // End of central directory: scan back over a comment of at most 65535 bytes.
    var eocd = -1
    var i = bytes.count - 22
    let lowest = max(0, bytes.count - 22 - 65535)
    while i >= lowest {
      if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06 {
        eocd = i
        break
      }
      i -= 1
    }
    guard eocd >= 0 else { throw CheckpointError("not a zip archive (no end-of-central-directory record)") }
    var count = try readLE(bytes, at: eocd + 10, width: 2, what: "zip")
    var cdSize = try readLE(bytes, at: eocd + 12, width: 4, what: "zip")
    var cdOffset = try readLE(bytes, at: eocd + 16, width: 4, what: "zip")
    if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
      // zip64: locator just before the EOCD points at the zip64 EOCD record.
      let loc = eocd - 20
      guard loc >= 0, try readLE(bytes, at: loc, width: 4, what: "zip") == 0x0706_4B50 else {
        throw CheckpointError("zip64 archive without a zip64 locator")
      }
      let rec = try readLE(bytes, at: loc + 8, width: 8, what: "zip")
      guard rec >= 0, rec <= bytes.count - 56, try readLE(bytes, at: rec, width: 4, what: "zip") == 0x0606_4B50 else {
        throw CheckpointError("zip64 end-of-central-directory record is missing or out of range")
      }
      count = try readLE(bytes, at: rec + 32, width: 8, what: "zip")
      cdSize = try readLE(bytes, at: rec + 40, width: 8, what: "zip")
      cdOffset = try readLE(bytes, at: rec + 48, width: 8, what: "zip")
    }
    guard cdOffset <= bytes.count, cdSize <= bytes.count - cdOffset else {
      throw CheckpointError(
        "zip central directory (offset \(cdOffset), \(cdSize) bytes) lies outside the \(bytes.count)-byte file: truncated?"
      )
    }
    guard count <= cdSize / 46 + 1 else {
      throw CheckpointError("zip central directory claims \(count) entries in \(cdSize) bytes")
    }
    var entries: [ZipEntry] = []
    var p = cdOffset
    for _ in 0..<count {
      guard try readLE(bytes, at: p, width: 4, what: "zip") == 0x0201_4B50 else {
        throw CheckpointError("corrupt zip central directory at offset \(p)")
      }
      let method = try readLE(bytes, at: p + 10, width: 2, what: "zip")
      let crc = UInt32(try readLE(bytes, at: p + 16, width: 4, what: "zip"))
      var csize = try readLE(bytes, at: p + 20, width: 4, what: "zip")
      var usize = try readLE(bytes, at: p + 24, width: 4, what: "zip")
      let nameLen = try readLE(bytes, at: p + 28, width: 2, what: "zip")
      let extraLen = try readLE(bytes, at: p + 30, width: 2, what: "zip")
      let commentLen = try readLE(bytes, at: p + 32, width: 2, what: "zip")
      var offset = try readLE(bytes, at: p + 42, width: 4, what: "zip")
      guard p + 46 + nameLen + extraLen + commentLen <= bytes.count else {
        throw CheckpointError("zip entry name runs past the end of the file")
      }
      let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
      // zip64 extra field: the 64-bit values of whichever fields were saturated, in order.
      var e = p + 46 + nameLen
      let eEnd = e + extraLen
      while e + 4 <= eEnd {
        let id = try readLE(bytes, at: e, width: 2, what: "zip")
        let len = try readLE(bytes, at: e + 2, width: 2, what: "zip")
        if id == 1 {
          var q = e + 4
          if usize == 0xFFFF_FFFF {
            usize = try readLE(bytes, at: q, width: 8, what: "zip")
            q += 8
          }
          if csize == 0xFFFF_FFFF {
            csize = try readLE(bytes, at: q, width: 8, what: "zip")
            q += 8
          }
          if offset == 0xFFFF_FFFF { offset = try readLE(bytes, at: q, width: 8, what: "zip") }
        }
        e += 4 + len
      }
      entries.append(
        ZipEntry(
          name: name, method: method, compressedSize: csize, uncompressedSize: usize, crc32: crc,
          localHeaderOffset: offset))
      p += 46 + nameLen + extraLen + commentLen
    }
    // Members must not share data: several directory entries pointing at one member multiply what
    // a small file inflates to (a classic zip bomb). Each member's local header and data (at least
    // 30 + compressed bytes) must end before the next member starts.
    let byOffset = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
    for (a, b) in Swift.zip(byOffset, byOffset.dropFirst()) {
      let (end, overflow) = a.localHeaderOffset.addingReportingOverflow(30 + a.compressedSize)
      guard !overflow, end <= b.localHeaderOffset else {
        throw CheckpointError("zip members '\(a.name)' and '\(b.name)' overlap: not a valid archive")
      }
    }
    self.entries = entries
  }

  /// Checks, before anything is inflated, that reading `members` fits the read budget: a small file
  /// can declare huge members, or many directory entries pointing at one large member.
  public func checkBudget(_ members: [ZipEntry]) throws {
    var total = 0
    for e in members {
      let (sum, overflow) = total.addingReportingOverflow(e.uncompressedSize)
      guard !overflow else { throw CheckpointError("zip members declare more bytes than fit in memory") }
      total = sum
    }
    try ReadBudget.check(total, "the \(members.count) zip members together (\(total) bytes uncompressed)")
  }

  /// The member called `name`, if any.
  public func entry(_ name: String) -> ZipEntry? { entries.first { $0.name == name } }

  /// The uncompressed contents of `entry`, checked against its CRC-32.
  public func contents(of entry: ZipEntry) throws -> [UInt8] {
    let h = entry.localHeaderOffset
    guard h >= 0, h <= bytes.count - 30, try readLE(bytes, at: h, width: 4, what: "zip") == 0x0403_4B50 else {
      throw CheckpointError("zip member '\(entry.name)' has no valid local header (offset \(h))")
    }
    let start =
      h + 30 + (try readLE(bytes, at: h + 26, width: 2, what: "zip"))
      + (try readLE(bytes, at: h + 28, width: 2, what: "zip"))
    guard start <= bytes.count, entry.compressedSize <= bytes.count - start else {
      throw CheckpointError(
        "zip member '\(entry.name)' (\(entry.compressedSize) bytes at \(start)) runs past the end of the file: truncated?"
      )
    }
    try ReadBudget.check(
      entry.uncompressedSize, "zip member '\(entry.name)' (\(entry.uncompressedSize) bytes uncompressed)")
    let raw = Array(bytes[start..<(start + entry.compressedSize)])
    let data: [UInt8]
    switch entry.method {
    case 0: data = raw
    case 8: data = try inflateRaw(raw, expected: entry.uncompressedSize, what: "zip member '\(entry.name)'")
    default: throw CheckpointError("zip member '\(entry.name)' uses unsupported compression method \(entry.method)")
    }
    guard data.count == entry.uncompressedSize else {
      throw CheckpointError(
        "zip member '\(entry.name)' has \(data.count) bytes, directory says \(entry.uncompressedSize)")
    }
    guard crc32Of(data) == entry.crc32 else {
      throw CheckpointError("zip member '\(entry.name)' fails its CRC-32 check: corrupt file")
    }
    return data
  }
}

/// CRC-32 (zlib) of `data`.
public func crc32Of(_ data: [UInt8]) -> UInt32 {
  data.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
}

/// Inflates raw deflate data (windowBits -15) or, with `gzip`, a gzip stream.
public func inflateRaw(_ input: [UInt8], expected: Int? = nil, gzip: Bool = false, what: String) throws -> [UInt8] {
  var stream = z_stream()
  guard inflateInit2_(&stream, gzip ? 15 + 32 : -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
    throw CheckpointError("\(what): zlib could not start")
  }
  defer { inflateEnd(&stream) }
  var output = [UInt8]()
  let chunk = 1 << 16
  var buffer = [UInt8](repeating: 0, count: chunk)
  var input = input
  let budget = ReadBudget.bytes
  let status: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
    stream.next_in = inBuf.baseAddress
    stream.avail_in = uInt(inBuf.count)
    var status: Int32 = Z_OK
    repeat {
      status = buffer.withUnsafeMutableBufferPointer { out in
        stream.next_out = out.baseAddress
        stream.avail_out = uInt(out.count)
        return CZlib.inflate(&stream, Z_NO_FLUSH)
      }
      let produced = chunk - Int(stream.avail_out)
      output.append(contentsOf: buffer[0..<produced])
      if let expected, output.count > expected { return Z_DATA_ERROR }
      if output.count > budget { return Z_MEM_ERROR }
      if status == Z_BUF_ERROR && stream.avail_in == 0 { return Z_BUF_ERROR }
    } while status == Z_OK
    return status
  }
  if status == Z_MEM_ERROR { try ReadBudget.check(output.count, "\(what) inflated") }
  guard status == Z_STREAM_END else { throw CheckpointError("\(what): compressed data is corrupt or truncated") }
  return output
}

/// Builds a zip archive of stored (uncompressed) members, 64-byte aligned like PyTorch's writer.
public struct ZipWriter {
  private var out: [UInt8] = []
  private var central: [UInt8] = []
  private var count = 0

  public init() {}

  private static func le(_ v: Int, _ width: Int) -> [UInt8] { (0..<width).map { UInt8((v >> (8 * $0)) & 0xFF) } }

  /// Adds a member called `name` with `data` stored as is.
  public mutating func add(_ name: String, _ data: [UInt8]) {
    let nameBytes = Array(name.utf8)
    let crc = Int(crc32Of(data))
    let offset = out.count
    let headerEnd = offset + 30 + nameBytes.count + 4
    let pad = (64 - headerEnd % 64) % 64
    out += Self.le(0x0403_4B50, 4) + Self.le(20, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 4)
    out += Self.le(crc, 4) + Self.le(data.count, 4) + Self.le(data.count, 4)
    out += Self.le(nameBytes.count, 2) + Self.le(4 + pad, 2) + nameBytes
    out += Self.le(0x4B50, 2) + Self.le(pad, 2) + [UInt8](repeating: 0, count: pad)  // padding extra field
    out += data
    central += Self.le(0x0201_4B50, 4) + Self.le(20, 2) + Self.le(20, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 4)
    central += Self.le(crc, 4) + Self.le(data.count, 4) + Self.le(data.count, 4)
    central +=
      Self.le(nameBytes.count, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 4)
    central += Self.le(offset, 4) + nameBytes
    count += 1
  }

  /// The finished archive bytes.
  public func finish() -> [UInt8] {
    var result = out + central
    result += Self.le(0x0605_4B50, 4) + Self.le(0, 2) + Self.le(0, 2) + Self.le(count, 2) + Self.le(count, 2)
    result += Self.le(central.count, 4) + Self.le(out.count, 4) + Self.le(0, 2)
    return result
  }
}
