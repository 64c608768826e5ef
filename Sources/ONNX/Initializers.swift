import Engine
import Foundation

/// ONNX element types (TensorProto.DataType) the executor reads, with their byte widths.
enum ElementType: Int32 {
  case float = 1
  case uint8 = 2
  case int8 = 3
  case uint16 = 4
  case int16 = 5
  case int32 = 6
  case int64 = 7
  case string = 8
  case bool = 9
  case float16 = 10
  case double = 11
  case uint32 = 12
  case uint64 = 13
  case bfloat16 = 16

  /// Bytes per element in raw data (nil: strings, which have none).
  var size: Int? {
    switch self {
    case .float, .int32, .uint32: return 4
    case .double, .int64, .uint64: return 8
    case .float16, .bfloat16, .int16, .uint16: return 2
    case .int8, .uint8, .bool: return 1
    case .string: return nil
    }
  }

  var isFloat: Bool { [.float, .float16, .bfloat16, .double].contains(self) }

  /// The type's name in ONNX's spelling.
  static func name(_ raw: Int32) -> String {
    guard let t = ElementType(rawValue: raw) else { return "type \(raw)" }
    return "\(t)".uppercased()
  }
}

/// Decodes a TensorProto (an initializer, a Constant's value) into a graph value: raw little-endian
/// bytes or the typed fields, inline or in an external-data file inside `folder`. Every size is checked
/// before memory is allocated; errors name the tensor.
struct TensorDecoder {
  /// The model's folder: external data must resolve inside it.
  let folder: URL

  func decode(_ t: Onnx_TensorProto, what: String) throws -> GraphValue {
    let name = t.name.isEmpty ? what : "\(what) '\(t.name)'"
    guard let type = ElementType(rawValue: t.dataType), let size = type.size else {
      throw CheckpointError("\(name): element type \(ElementType.name(t.dataType)) is not supported")
    }
    var count = 1
    for d in t.dims {
      guard d >= 0, d < Int64(Int32.max) else { throw CheckpointError("\(name): dimension \(d) in dims \(t.dims)") }
      let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
      guard !overflow else { throw CheckpointError("\(name): dims \(t.dims) overflow") }
      count = product
    }
    // Decoded: 4 bytes per float, 8 per integer (Swift Int), whatever the stored width.
    let (bytes, overflow) = count.multipliedReportingOverflow(by: type.isFloat ? 4 : 8)
    guard !overflow else { throw CheckpointError("\(name): dims \(t.dims) overflow") }
    try ReadBudget.check(bytes, "\(name) \(t.dims)")
    let shape = t.dims.map { Int($0) }
    let raw: Data?
    if t.hasDataLocation && t.dataLocation == .external {
      raw = try external(t, name: name, bytes: count * size)
    } else if t.hasRawData {
      raw = t.rawData
    } else {
      raw = nil
    }
    if let raw {
      guard raw.count == count * size else {
        throw CheckpointError(
          "\(name): \(raw.count) bytes of raw data for \(ElementType.name(t.dataType)) \(shape) (needs \(count * size))"
        )
      }
      return try Self.fromRaw(raw, type: type, shape: shape, count: count)
    }
    let found: Int
    switch type {
    case .float: found = t.floatData.count
    case .double: found = t.doubleData.count
    case .int64: found = t.int64Data.count
    case .uint32, .uint64: found = t.uint64Data.count
    default: found = t.int32Data.count
    }
    guard found == count else {
      throw CheckpointError("\(name): \(found) values for \(ElementType.name(t.dataType)) \(shape) (needs \(count))")
    }
    switch type {
    case .float: return .float(Tensor(shape: shape, scalars: t.floatData))
    case .double: return .float(Tensor(shape: shape, scalars: t.doubleData.map { Float($0) }))
    case .float16:
      return .float(Tensor(shape: shape, scalars: t.int32Data.map { Self.half(UInt16(truncatingIfNeeded: $0)) }))
    case .bfloat16:
      return .float(
        Tensor(
          shape: shape, scalars: t.int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) }))
    case .int64: return .int(IntTensor(shape: shape, values: t.int64Data.map { Int($0) }))
    case .uint32, .uint64:
      return .int(IntTensor(shape: shape, values: t.uint64Data.map { Int(truncatingIfNeeded: $0) }))
    case .bool: return .bool(IntTensor(shape: shape, values: t.int32Data.map { $0 != 0 ? 1 : 0 }))
    default: return .int(IntTensor(shape: shape, values: t.int32Data.map { Int($0) }))
    }
  }

  /// Values from little-endian raw bytes.
  static func fromRaw(_ raw: Data, type: ElementType, shape: [Int], count: Int) throws -> GraphValue {
    raw.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> GraphValue in
      func load<T: FixedWidthInteger>(_: T.Type, _ i: Int) -> T {
        T(littleEndian: b.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
      }
      switch type {
      case .float:
        return .float(Tensor(shape: shape, scalars: (0..<count).map { Float(bitPattern: load(UInt32.self, $0)) }))
      case .double:
        return .float(
          Tensor(shape: shape, scalars: (0..<count).map { Float(Double(bitPattern: load(UInt64.self, $0))) }))
      case .float16: return .float(Tensor(shape: shape, scalars: (0..<count).map { half(load(UInt16.self, $0)) }))
      case .bfloat16:
        return .float(
          Tensor(shape: shape, scalars: (0..<count).map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) }))
      case .int64: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(Int64.self, $0)) }))
      case .uint64:
        return .int(IntTensor(shape: shape, values: (0..<count).map { Int(truncatingIfNeeded: load(UInt64.self, $0)) }))
      case .int32: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(Int32.self, $0)) }))
      case .uint32: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(UInt32.self, $0)) }))
      case .int16: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(Int16.self, $0)) }))
      case .uint16: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(UInt16.self, $0)) }))
      case .int8: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(Int8.self, $0)) }))
      case .uint8: return .int(IntTensor(shape: shape, values: (0..<count).map { Int(load(UInt8.self, $0)) }))
      case .bool: return .bool(IntTensor(shape: shape, values: (0..<count).map { load(UInt8.self, $0) != 0 ? 1 : 0 }))
      case .string: return .int(IntTensor(shape: [0], values: []))  // unreachable: strings have no size
      }
    }
  }

  /// IEEE half precision bits to Float.
  static func half(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exponent = Int(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    if exponent == 0 {
      return Float(bitPattern: sign) + (sign != 0 ? -1 : 1) * Float(mantissa) * 0x1p-24
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13)) }
    return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
  }

  /// The bytes of an external-data tensor: `location` relative to the model's folder (absolute paths,
  /// `..` and anything resolving outside the folder are refused), `offset` and `length` in bytes.
  func external(_ t: Onnx_TensorProto, name: String, bytes: Int) throws -> Data {
    var entries: [String: String] = [:]
    for e in t.externalData { entries[e.key] = e.value }
    guard let location = entries["location"], !location.isEmpty else {
      throw CheckpointError("\(name): external data without a location")
    }
    guard !location.hasPrefix("/"), !location.hasPrefix("\\"), !location.contains("\0"),
      !location.split(whereSeparator: { $0 == "/" || $0 == "\\" }).contains("..")
    else {
      throw CheckpointError(
        "\(name): external data location '\(location)' leaves the model's folder (absolute paths and '..' are refused)")
    }
    let url = folder.appendingPathComponent(location).resolvingSymlinksInPath().standardizedFileURL
    guard url.path.hasPrefix(folder.path.hasSuffix("/") ? folder.path : folder.path + "/") else {
      throw CheckpointError(
        "\(name): external data location '\(location)' resolves outside the model's folder (\(url.path))")
    }
    func number(_ key: String) throws -> Int? {
      guard let text = entries[key] else { return nil }
      guard let v = Int(text), v >= 0 else { throw CheckpointError("\(name): external data \(key) '\(text)'") }
      return v
    }
    let offset = try number("offset") ?? 0
    let length = try number("length") ?? bytes
    guard length == bytes else {
      throw CheckpointError("\(name): external data length \(length) for \(bytes) bytes of values")
    }
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue,
      let handle = try? FileHandle(forReadingFrom: url)
    else {
      throw CheckpointError("\(name): external data file '\(location)' cannot be read beside the model")
    }
    defer { try? handle.close() }
    let end = (try? handle.seekToEnd()) ?? 0
    guard offset <= end, UInt64(bytes) <= end - UInt64(offset) else {
      throw CheckpointError(
        "\(name): external data '\(location)' has \(end) bytes, too few for \(bytes) at offset \(offset)")
    }
    let data: Data
    do {
      try handle.seek(toOffset: UInt64(offset))
      data = try handle.read(upToCount: bytes) ?? Data()
    } catch {
      throw CheckpointError("\(name): reading external data '\(location)' failed: \(error.localizedDescription)")
    }
    guard data.count == bytes else {
      throw CheckpointError("\(name): external data '\(location)' ended after \(data.count) of \(bytes) bytes")
    }
    return data
  }
}
