import Foundation

/// A value produced by the restricted unpickler. Only what a PyTorch state_dict holds exists here:
/// primitives, tuples, lists, (ordered) dicts, storages and tensors; any other global is refused.
indirect enum PickleValue {
  case none
  case bool(Bool)
  case int(Int)
  /// An integer wider than 64 bits, as little-endian two's-complement bytes (e.g. torch's magic number).
  case bigInt([UInt8])
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case tuple([PickleValue], depth: Int)
  case list(PickleList)
  case dict(PickleDict)
  case global(String)
  case storage(PickleStorage)
  case tensor(PickleTensor)
  case mark
}

/// A mutable list (pickle appends after memoising).
final class PickleList {
  var items: [PickleValue] = []
  var depth = 1
}

/// A mutable, insertion-ordered dict with string or int keys.
final class PickleDict {
  var depth = 1
  var keys: [String] = []
  var values: [String: PickleValue] = [:]
  func set(_ k: String, _ v: PickleValue) {
    if values.updateValue(v, forKey: k) == nil { keys.append(k) }
  }
}

/// A reference to serialised storage: torch.save's persistent id ('storage', type, key, location, numel).
struct PickleStorage {
  var dtype: StorageDType
  var key: String
  var count: Int
}

/// A tensor view rebuilt by torch._utils._rebuild_tensor_v2.
struct PickleTensor {
  var storage: PickleStorage
  var offset: Int
  var shape: [Int]
  var strides: [Int]
}

/// A restricted pickle virtual machine (protocols 2-5 opcodes used by torch.save), in the spirit of
/// PyTorch's `weights_only=True` loader: it never executes code; unknown opcodes and globals throw.
struct RestrictedUnpickler {
  static let storageTypes: [String: StorageDType] = [
    "torch.FloatStorage": .f32, "torch.DoubleStorage": .f64, "torch.HalfStorage": .f16,
    "torch.BFloat16Storage": .bf16, "torch.LongStorage": .i64, "torch.IntStorage": .i32,
    "torch.ShortStorage": .i16, "torch.CharStorage": .i8, "torch.ByteStorage": .u8, "torch.BoolStorage": .bool,
  ]
  static let allowedCallables: Set<String> = [
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
  ]

  var r: ByteReader
  var stack: [PickleValue] = []
  var memo: [Int: PickleValue] = [:]

  init(_ bytes: [UInt8], offset: Int = 0) { r = ByteReader(bytes, offset: offset, what: "pickle data") }

  /// Where the next byte after the last STOP is (legacy files hold several pickles in a row).
  var offset: Int { r.offset }

  mutating func pop() throws -> PickleValue {
    guard let v = stack.popLast() else {
      throw CheckpointError("corrupt pickle: stack underflow at offset \(r.offset)")
    }
    return v
  }

  mutating func popToMark() throws -> [PickleValue] {
    guard let m = stack.lastIndex(where: { if case .mark = $0 { return true } else { return false } }) else {
      throw CheckpointError("corrupt pickle: no MARK on the stack at offset \(r.offset)")
    }
    let items = Array(stack[(m + 1)...])
    stack.removeSubrange(m...)
    return items
  }

  mutating func line() throws -> String {
    var chars: [UInt8] = []
    while true {
      let c = try r.u8()
      if c == 0x0A { break }
      chars.append(c)
      if chars.count > 1000 { throw CheckpointError("corrupt pickle: overlong text line") }
    }
    return String(decoding: chars, as: UTF8.self)
  }

  /// Deepest nesting a state_dict pickle may use (deeper ones are malicious or corrupt and could
  /// exhaust the stack when freed).
  static let maxDepth = 64

  static func depth(_ v: PickleValue) -> Int {
    switch v {
    case .tuple(_, let d): return d
    case .list(let l): return l.depth
    case .dict(let d): return d.depth
    default: return 0
    }
  }

  static func tuple(_ items: [PickleValue]) throws -> PickleValue {
    let d = (items.map(depth).max() ?? 0) + 1
    guard d <= maxDepth else { throw CheckpointError("pickle nests deeper than \(maxDepth) levels: not a state_dict") }
    return .tuple(items, depth: d)
  }

  /// Records that `v` goes inside a container at depth `container`. The depth of `v` is read before
  /// the container's is written: `v` may be the container itself (a self-referential pickle).
  static func nest(_ container: inout Int, _ v: PickleValue) throws {
    let inner = depth(v) + 1
    container = max(container, inner)
    guard container <= maxDepth else {
      throw CheckpointError("pickle nests deeper than \(maxDepth) levels or refers to itself: not a state_dict")
    }
  }

  /// Whether `v` is the list or dict object `container` (pickles can put a container inside itself).
  static func isSame(_ v: PickleValue, _ container: AnyObject) -> Bool {
    switch v {
    case .list(let l): return l === container
    case .dict(let d): return d === container
    default: return false
    }
  }

  /// Most values the pickle stack may hold: a state_dict pickle holds at most a few thousand
  /// (torch batches SETITEMS by 1,000); millions mean a hostile file.
  static let maxStack = 1_000_000

  /// Most memo entries: one per memoised object of a state_dict, bounded far above any real one.
  static let maxMemo = 10_000_000

  static func key(_ v: PickleValue) throws -> String {
    switch v {
    case .string(let s): return s
    case .int(let i): return String(i)
    default: throw CheckpointError("state_dict key of unsupported type (only strings and integers are allowed)")
    }
  }

  func refuse(_ global: String) -> CheckpointError {
    CheckpointError(
      "refused to load global '\(global)': only tensors, OrderedDict and primitive values are allowed in a state_dict (like torch.load(weights_only=True)); re-save with torch.save(model.state_dict(), path)"
    )
  }

  mutating func run() throws -> PickleValue {
    var steps = 0
    while true {
      steps += 1
      if steps > 50_000_000 { throw CheckpointError("pickle too long") }
      guard stack.count <= Self.maxStack, memo.count <= Self.maxMemo else {
        throw CheckpointError("pickle holds more than \(Self.maxStack) values at once: not a state_dict")
      }
      let at = r.offset
      let op = try r.u8()
      switch op {
      case 0x80: _ = try r.u8()  // PROTO
      case 0x95: _ = try r.uint(8)  // FRAME
      case 0x2E: return try pop()  // STOP
      case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
      case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
      case 0x29: stack.append(.tuple([], depth: 1))  // EMPTY_TUPLE
      case 0x28: stack.append(.mark)  // MARK
      case 0x4E: stack.append(.none)
      case 0x88: stack.append(.bool(true))
      case 0x89: stack.append(.bool(false))
      case 0x4B: stack.append(.int(Int(try r.u8())))  // BININT1
      case 0x4D: stack.append(.int(try r.u16()))  // BININT2
      case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try r.uint(4)))))  // BININT
      case 0x8A, 0x8B:  // LONG1, LONG4
        let n = op == 0x8A ? Int(try r.u8()) : try r.u32()
        guard n <= 16 else { throw CheckpointError("pickle integer of \(n) bytes is too large") }
        let b = Array(try r.take(n))
        if n > 8 {
          stack.append(.bigInt(b))
          continue
        }
        var v: Int64 = 0
        for (i, x) in b.enumerated() { v |= Int64(x) << (8 * Int64(i)) }
        if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
        stack.append(.int(Int(v)))
      case 0x47:  // BINFLOAT, big-endian
        let b = Array(try r.take(8))
        stack.append(.float(Double(bitPattern: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
      case 0x58, 0x8C, 0x8D:  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
        let n = op == 0x8C ? Int(try r.u8()) : (op == 0x58 ? try r.u32() : try r.u64())
        stack.append(.string(String(decoding: try r.take(n), as: UTF8.self)))
      case 0x43, 0x42:  // SHORT_BINBYTES, BINBYTES
        let n = op == 0x43 ? Int(try r.u8()) : try r.u32()
        stack.append(.bytes(Array(try r.take(n))))
      case 0x71: memo[Int(try r.u8())] = stack.last  // BINPUT
      case 0x72: memo[try r.u32()] = stack.last  // LONG_BINPUT
      case 0x94: memo[memo.count] = stack.last  // MEMOIZE
      case 0x68, 0x6A:  // BINGET, LONG_BINGET
        let k = op == 0x68 ? Int(try r.u8()) : try r.u32()
        guard let v = memo[k] else { throw CheckpointError("corrupt pickle: memo key \(k) missing at offset \(at)") }
        stack.append(v)
      case 0x30: _ = try pop()  // POP
      case 0x31: _ = try popToMark()  // POP_MARK
      case 0x32:  // DUP
        guard let v = stack.last else { throw CheckpointError("corrupt pickle: DUP on empty stack") }
        stack.append(v)
      case 0x74: stack.append(try Self.tuple(try popToMark()))  // TUPLE
      case 0x85: stack.append(try Self.tuple([try pop()]))
      case 0x86:
        let b = try pop()
        let a = try pop()
        stack.append(try Self.tuple([a, b]))
      case 0x87:
        let c = try pop()
        let b = try pop()
        let a = try pop()
        stack.append(try Self.tuple([a, b, c]))
      case 0x63:  // GLOBAL "module\nname\n"
        let module = try line()
        let name = try line()
        stack.append(try global(module + "." + name))
      case 0x93:  // STACK_GLOBAL
        guard case .string(let name) = try pop(), case .string(let module) = try pop() else {
          throw CheckpointError("corrupt pickle: STACK_GLOBAL needs two strings")
        }
        stack.append(try global(module + "." + name))
      case 0x51:  // BINPERSID
        stack.append(try persistent(try pop()))
      case 0x52:  // REDUCE
        let args = try pop()
        let callable = try pop()
        stack.append(try reduce(callable, args))
      case 0x81:  // NEWOBJ
        let args = try pop()
        let cls = try pop()
        stack.append(try reduce(cls, args))
      case 0x62:  // BUILD: state on an OrderedDict (its _metadata) or a tensor is ignored
        _ = try pop()
        guard !stack.isEmpty else { throw CheckpointError("corrupt pickle: BUILD on empty stack") }
      case 0x73:  // SETITEM
        let v = try pop()
        let k = try pop()
        guard case .dict(let d) = stack.last else { throw CheckpointError("corrupt pickle: SETITEM on a non-dict") }
        guard !Self.isSame(v, d) else { throw CheckpointError("pickle puts a dict inside itself: not a state_dict") }
        try Self.nest(&d.depth, v)
        d.set(try Self.key(k), v)
      case 0x75:  // SETITEMS
        let items = try popToMark()
        guard items.count % 2 == 0, case .dict(let d) = stack.last else {
          throw CheckpointError("corrupt pickle: SETITEMS")
        }
        for i in stride(from: 0, to: items.count, by: 2) {
          guard !Self.isSame(items[i + 1], d) else {
            throw CheckpointError("pickle puts a dict inside itself: not a state_dict")
          }
          try Self.nest(&d.depth, items[i + 1])
          d.set(try Self.key(items[i]), items[i + 1])
        }
      case 0x61:  // APPEND
        let v = try pop()
        guard case .list(let l) = stack.last else { throw CheckpointError("corrupt pickle: APPEND on a non-list") }
        guard !Self.isSame(v, l) else { throw CheckpointError("pickle puts a list inside itself: not a state_dict") }
        try Self.nest(&l.depth, v)
        l.items.append(v)
      case 0x65:  // APPENDS
        let items = try popToMark()
        guard case .list(let l) = stack.last else { throw CheckpointError("corrupt pickle: APPENDS on a non-list") }
        for v in items {
          guard !Self.isSame(v, l) else { throw CheckpointError("pickle puts a list inside itself: not a state_dict") }
          try Self.nest(&l.depth, v)
        }
        l.items.append(contentsOf: items)
      default:
        throw CheckpointError(
          String(format: "unsupported pickle opcode 0x%02X at offset %d (not a state_dict pickle)", op, at))
      }
    }
  }

  func global(_ name: String) throws -> PickleValue {
    if Self.allowedCallables.contains(name) || Self.storageTypes[name] != nil { return .global(name) }
    throw refuse(name)
  }

  func persistent(_ pid: PickleValue) throws -> PickleValue {
    guard case .tuple(let t, _) = pid, t.count >= 5, case .string("storage") = t[0] else {
      throw CheckpointError("unsupported persistent id in pickle (expected a tensor storage)")
    }
    guard case .global(let type) = t[1], let dtype = Self.storageTypes[type] else {
      throw CheckpointError("unsupported storage type in pickle")
    }
    guard case .string(let key) = t[2], case .int(let n) = t[4], n >= 0 else {
      throw CheckpointError("malformed storage reference in pickle")
    }
    if t.count > 5, case .tuple = t[5] {
      throw CheckpointError("storage views of the legacy format are not supported; re-save with a current torch.save")
    }
    return .storage(PickleStorage(dtype: dtype, key: key, count: n))
  }

  static func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
    guard case .tuple(let items, _) = v else { throw CheckpointError("tensor \(what) is not a tuple") }
    return try items.map {
      guard case .int(let i) = $0, i >= 0 else {
        throw CheckpointError("tensor \(what) holds a non-integer or negative value")
      }
      return i
    }
  }

  func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
    guard case .global(let name) = callable else { throw CheckpointError("corrupt pickle: call of a non-callable") }
    guard case .tuple(let a, _) = args else { throw CheckpointError("corrupt pickle: call arguments are not a tuple") }
    switch name {
    case "collections.OrderedDict":
      return .dict(PickleDict())
    case "torch._utils._rebuild_tensor_v2":
      guard a.count >= 4, case .storage(let s) = a[0], case .int(let offset) = a[1], offset >= 0 else {
        throw CheckpointError("malformed _rebuild_tensor_v2 call")
      }
      let shape = try Self.ints(a[2], "size")
      let strides = try Self.ints(a[3], "stride")
      guard shape.count == strides.count else { throw CheckpointError("tensor size and stride differ in rank") }
      return .tensor(PickleTensor(storage: s, offset: offset, shape: shape, strides: strides))
    case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
      guard let first = a.first, case .tensor = first else {
        throw CheckpointError("malformed _rebuild_parameter call")
      }
      return first
    default:
      if Self.storageTypes[name] != nil {
        throw CheckpointError("storage type \(name) called directly: unsupported pickle")
      }
      throw refuse(name)
    }
  }
}
