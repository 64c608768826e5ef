import Foundation
import Kernels

/// Element types found in tensor files (safetensors names; NPY and PyTorch types map onto them).
public enum StorageDType: String, Sendable, CaseIterable {
  case f64 = "F64"
  case f32 = "F32"
  case f16 = "F16"
  case bf16 = "BF16"
  case i64 = "I64"
  case i32 = "I32"
  case i16 = "I16"
  case i8 = "I8"
  case u8 = "U8"
  case bool = "BOOL"

  /// Bytes per element.
  public var size: Int {
    switch self {
    case .f64, .i64: return 8
    case .f32, .i32: return 4
    case .f16, .bf16, .i16: return 2
    case .i8, .u8, .bool: return 1
    }
  }

  /// Whether the type holds floating-point values.
  public var isFloatingPoint: Bool { [.f64, .f32, .f16, .bf16].contains(self) }
}

/// One tensor as stored in a file: name, element type, shape and its raw little-endian bytes.
public struct StoredTensor: Sendable, Equatable {
  public var name: String
  public var dtype: StorageDType
  public var shape: [Int]
  public var data: [UInt8]

  public init(name: String, dtype: StorageDType, shape: [Int], data: [UInt8]) {
    self.name = name
    self.dtype = dtype
    self.shape = shape
    self.data = data
  }

  /// Stores float values bit-exactly as F32.
  public init(name: String, shape: [Int], floats: [Float]) {
    var bytes = [UInt8](repeating: 0, count: floats.count * 4)
    bytes.withUnsafeMutableBytes { dst in floats.withUnsafeBytes { dst.copyMemory(from: $0) } }
    self.init(name: name, dtype: .f32, shape: shape, data: bytes)
  }

  /// Stores integer values as I64.
  public init(name: String, shape: [Int], ints: [Int]) {
    var bytes = [UInt8](repeating: 0, count: ints.count * 8)
    bytes.withUnsafeMutableBytes { dst in
      ints.map { Int64($0).littleEndian }.withUnsafeBytes { dst.copyMemory(from: $0) }
    }
    self.init(name: name, dtype: .i64, shape: shape, data: bytes)
  }

  /// Number of elements.
  public var count: Int { shape.reduce(1, *) }

  /// Element `i` as Double.
  @inline(__always)
  func element(_ i: Int) -> Double {
    data.withUnsafeBytes { raw -> Double in
      let o = i * dtype.size
      switch dtype {
      case .f64: return Double(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self).littleEndian)
      case .f32: return Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian))
      case .f16: return Double(halfToFloat(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian))
      case .bf16:
        return Double(
          Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian) << 16))
      case .i64: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
      case .i32: return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
      case .i16: return Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
      case .i8: return Double(raw.load(fromByteOffset: o, as: Int8.self))
      case .u8: return Double(raw[o])
      case .bool: return raw[o] != 0 ? 1 : 0
      }
    }
  }

  /// The values as Float (exact for F32; converted from other floating types).
  public func floats() throws -> [Float] {
    guard dtype.isFloatingPoint else {
      throw CheckpointError("tensor '\(name)' has dtype \(dtype.rawValue), expected a floating-point type")
    }
    if dtype == .f32 {
      return [Float](unsafeUninitializedCapacity: count) { buf, n in
        data.withUnsafeBytes { raw in
          for i in 0..<count {
            buf[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
          }
        }
        n = count
      }
    }
    return (0..<count).map { Float(element($0)) }
  }

  /// The values as `T`, for floating-point tensors.
  public func values<T: KernelScalar>(as _: T.Type) throws -> [T] {
    if T.self == Float.self { return try floats() as! [T] }
    guard dtype.isFloatingPoint else {
      throw CheckpointError("tensor '\(name)' has dtype \(dtype.rawValue), expected a floating-point type")
    }
    return (0..<count).map { T(element($0)) }
  }

  /// The values as Int, for integer and boolean tensors.
  public func ints() throws -> [Int] {
    guard !dtype.isFloatingPoint else {
      throw CheckpointError("tensor '\(name)' has dtype \(dtype.rawValue), expected an integer type")
    }
    return (0..<count).map { Int(element($0)) }
  }

  /// As an engine tensor (floating-point data only).
  public func tensor<T: KernelScalar>(_: T.Type = Float.self) throws -> Tensor<T> {
    Tensor(shape: shape, scalars: try values(as: T.self))
  }

  /// As an integer tensor (integer data only).
  public func intTensor() throws -> IntTensor { IntTensor(shape: shape, values: try ints()) }
}

/// IEEE half -> Float.
func halfToFloat(_ h: UInt16) -> Float {
  let sign = UInt32(h >> 15) << 31
  let exp = Int((h >> 10) & 0x1F)
  let mant = UInt32(h & 0x3FF)
  if exp == 0 {
    let m = Float(mant) * 0x1p-24  // subnormal: mant * 2^-24
    return sign != 0 ? -m : m
  }
  if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
  return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// An ordered collection of named tensors plus string metadata: what every reader returns and
/// every writer takes (safetensors, NPZ, PyTorch state_dict).
public struct TensorArchive: Sendable, Equatable {
  /// Tensors in file order.
  public var tensors: [StoredTensor]
  /// Free-form string metadata (safetensors `__metadata__`).
  public var metadata: [String: String]

  public init(tensors: [StoredTensor] = [], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// Tensor names in file order.
  public var names: [String] { tensors.map(\.name) }

  /// The tensor called `name`, if present.
  public subscript(name: String) -> StoredTensor? { tensors.first { $0.name == name } }

  /// The tensor called `name`, or an error naming it.
  public func require(_ name: String) throws -> StoredTensor {
    guard let t = self[name] else { throw CheckpointError("no tensor named '\(name)'") }
    return t
  }

  /// Adds a float tensor.
  public mutating func append<T: KernelScalar>(_ name: String, _ tensor: Tensor<T>) {
    tensors.append(StoredTensor(name: name, shape: tensor.shape, floats: tensor.scalars.map { Float($0) }))
  }
}

/// Reads a whole file, naming it in the error.
public func readFileBytes(_ path: String) throws -> [UInt8] {
  if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
    do { try ReadBudget.check(size, "reading the whole file") } catch let e as CheckpointError { throw e.inFile(path) }
  }
  guard let data = FileManager.default.contents(atPath: path) else {
    var isDir: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
      throw CheckpointError(isDir.boolValue ? "is a directory, not a file" : "cannot be read", file: path)
    }
    throw CheckpointError("no such file", file: path)
  }
  return [UInt8](data)
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, then a rename, so a
/// crash never leaves a half-written file where a good one was.
public func writeFileAtomically(_ bytes: [UInt8], to path: String) throws {
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
    throw CheckpointError("is a folder; give a file name to write", file: path)
  }
  let url = URL(fileURLWithPath: path)
  let dir = url.deletingLastPathComponent()
  try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
  do {
    try Data(bytes).write(to: tmp)
    try renameReplacing(tmp.path, path)
  } catch {
    try? FileManager.default.removeItem(at: tmp)
    let reason = (error as? CheckpointError)?.message ?? (error as NSError).localizedFailureReason ?? "\(error)"
    throw CheckpointError("could not be written: \(reason)", file: path)
  }
}

/// Moves `from` onto `to`, replacing it atomically (POSIX rename within one file system).
public func renameReplacing(_ from: String, _ to: String) throws {
  guard rename(from, to) == 0 else {
    throw CheckpointError("could not be moved into place: \(String(cString: strerror(errno)))", file: to)
  }
}
