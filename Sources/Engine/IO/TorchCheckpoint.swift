/// Reads PyTorch `torch.save` files (the zip format, PyTorch >= 1.6) holding a state_dict, without
/// executing any pickled code. A dict wrapping the weights under "state_dict" or "model_state_dict"
/// (a common training checkpoint layout) is unwrapped.
public enum TorchCheckpoint {
  /// Whether `bytes` start like the legacy (pre-1.6, non-zip) torch.save format: a pickled magic number.
  static func isLegacy(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 3 && bytes[0] == 0x80 && (2...5).contains(bytes[1]) && bytes[2] == 0x8A
  }

  /// Parses a .pt/.pth file's bytes (zip format, or the legacy format) into named tensors (file order).
  public static func decode(_ bytes: [UInt8]) throws -> TensorArchive {
    if isLegacy(bytes) { return try decodeLegacy(bytes) }
    let zip = try ZipArchive(bytes)
    guard
      let pkl = zip.entries.first(where: { $0.name.hasSuffix("data.pkl") && $0.name.split(separator: "/").count == 2 })
    else {
      throw CheckpointError("zip archive has no <archive>/data.pkl: not a PyTorch checkpoint")
    }
    let prefix = String(pkl.name.dropLast("data.pkl".count))
    if let order = zip.entry(prefix + "byteorder") {
      let text = String(decoding: try zip.contents(of: order), as: UTF8.self)
      guard text == "little" else {
        throw CheckpointError("checkpoint was written with \(text)-endian byte order; only little is supported")
      }
    }
    try zip.checkBudget(zip.entries.filter { $0.name == pkl.name || $0.name.hasPrefix(prefix + "data/") })
    var vm = RestrictedUnpickler(try zip.contents(of: pkl))
    let root = try vm.run()
    var cache: [String: [UInt8]] = [:]
    return try assemble(root) { key in
      if let c = cache[key] { return c }
      guard let e = zip.entry(prefix + "data/" + key) else {
        throw CheckpointError("storage '\(key)' is missing from the archive")
      }
      let data = try zip.contents(of: e)
      cache[key] = data
      return data
    }
  }

  /// The legacy format: pickles of the magic number, protocol version and system info, then the
  /// state_dict pickle, then the list of storage keys, then each storage as an 8-byte element count
  /// and its raw little-endian bytes.
  static func decodeLegacy(_ bytes: [UInt8]) throws -> TensorArchive {
    var vm = RestrictedUnpickler(bytes)
    let magic = try vm.run()
    let expected: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]  // 0x1950a86a20f9469cfc6c
    guard case .bigInt(let m) = magic, m == expected else {
      throw CheckpointError("not a PyTorch file (bad magic number)")
    }
    vm = RestrictedUnpickler(bytes, offset: vm.offset)
    guard case .int(1001) = try vm.run() else { throw CheckpointError("unsupported legacy PyTorch protocol version") }
    vm = RestrictedUnpickler(bytes, offset: vm.offset)
    if case .dict(let info) = try vm.run(), case .bool(false) = info.values["little_endian"] ?? .bool(true) {
      throw CheckpointError("checkpoint was written on a big-endian machine; only little-endian is supported")
    }
    vm = RestrictedUnpickler(bytes, offset: vm.offset)
    let root = try vm.run()
    vm = RestrictedUnpickler(bytes, offset: vm.offset)
    guard case .list(let keyList) = try vm.run() else {
      throw CheckpointError("legacy checkpoint has no storage key list")
    }
    let keys = try keyList.items.map { v -> String in
      guard case .string(let k) = v else { throw CheckpointError("legacy storage key is not a string") }
      return k
    }
    // Storage element sizes come from the tensors that use them.
    // Walked with an explicit stack (no recursion to overflow); a dict met twice is a cycle or a
    // shared dict, which no state_dict has.
    var sizes: [String: Int] = [:]
    var visited: Set<ObjectIdentifier> = []
    var pending = [root]
    while let v = pending.popLast() {
      switch v {
      case .tensor(let t): sizes[t.storage.key] = t.storage.dtype.size
      case .dict(let d):
        guard visited.insert(ObjectIdentifier(d)).inserted else {
          throw CheckpointError("the pickle reaches one dict twice (a cycle): not a state_dict")
        }
        pending += d.values.values
      default: break
      }
    }
    var storages: [String: [UInt8]] = [:]
    var r = ByteReader(bytes, offset: vm.offset, what: "legacy storage data")
    for key in keys {
      let count = try r.u64()
      guard let size = sizes[key] else { throw CheckpointError("legacy storage '\(key)' is not used by any tensor") }
      let (n, o) = count.multipliedReportingOverflow(by: size)
      guard !o else { throw CheckpointError("legacy storage '\(key)' is too large") }
      storages[key] = Array(try r.take(n))
    }
    return try assemble(root) { key in
      guard let s = storages[key] else { throw CheckpointError("storage '\(key)' is missing from the file") }
      return s
    }
  }

  /// Turns the unpickled root object into named tensors, reading storages through `storage`.
  static func assemble(_ rootValue: PickleValue, storage: (String) throws -> [UInt8]) throws -> TensorArchive {
    var root = rootValue
    if case .dict(let d) = root {
      for k in ["state_dict", "model_state_dict"] {
        if let inner = d.values[k], case .dict = inner { root = inner }
      }
    }
    guard case .dict(let dict) = root else {
      throw CheckpointError("the pickled object is not a dict of tensors (state_dict)")
    }
    var archive = TensorArchive()
    var allocated = 0
    for key in dict.keys {
      guard case .tensor(let t) = dict.values[key]! else { continue }  // skip non-tensor entries (e.g. counters)
      let s = t.storage
      let bytesOfStorage: [UInt8]
      do { bytesOfStorage = try storage(s.key) } catch let e as CheckpointError {
        throw CheckpointError("tensor '\(key)': \(e.message)")
      }
      let size = s.dtype.size
      guard s.count <= bytesOfStorage.count / size else {
        throw CheckpointError(
          "tensor '\(key)': storage '\(s.key)' holds \(bytesOfStorage.count / size) elements, pickle says \(s.count): truncated?"
        )
      }
      let count = try checkedProduct(t.shape, what: "tensor '\(key)'")
      var maxIndex = t.offset
      if count > 0 {
        for (d, st) in Swift.zip(t.shape, t.strides) {
          let (m, o1) = (d - 1).multipliedReportingOverflow(by: st)
          let (sum, o2) = maxIndex.addingReportingOverflow(m)
          guard !o1, !o2 else { throw CheckpointError("tensor '\(key)': strides overflow") }
          maxIndex = sum
        }
        guard maxIndex < s.count else {
          throw CheckpointError(
            "tensor '\(key)' of shape \(t.shape) reads element \(maxIndex) of a \(s.count)-element storage")
        }
      }
      // Zero strides let a few stored elements describe a huge tensor: check the bytes to allocate.
      let (bytes, o1) = count.multipliedReportingOverflow(by: size)
      let (total, o2) = allocated.addingReportingOverflow(bytes)
      guard !o1, !o2 else { throw CheckpointError("tensor '\(key)' of shape \(t.shape) is too large") }
      try ReadBudget.check(total, "tensor '\(key)' of shape \(t.shape) (with the tensors before it)")
      allocated = total
      var data = [UInt8](repeating: 0, count: bytes)
      var index = [Int](repeating: 0, count: t.shape.count)
      for flat in 0..<count {
        var src = t.offset
        for (i, st) in Swift.zip(index, t.strides) { src += i * st }
        for b in 0..<size { data[flat * size + b] = bytesOfStorage[src * size + b] }
        var d = t.shape.count - 1
        while d >= 0 {
          index[d] += 1
          if index[d] < t.shape[d] { break }
          index[d] = 0
          d -= 1
        }
      }
      archive.tensors.append(StoredTensor(name: key, dtype: s.dtype, shape: t.shape, data: data))
    }
    return archive
  }

  /// Reads a PyTorch state_dict file.
  public static func read(_ path: String) throws -> TensorArchive {
    do { return try decode(try readFileBytes(path)) } catch let e as CheckpointError { throw e.inFile(path) }
  }
}

/// Reads any supported weights file by content: safetensors, PyTorch zip (.pt/.pth) or NumPy .npz.
public func readTensorFile(_ path: String) throws -> TensorArchive {
  let bytes: [UInt8]
  do { bytes = try readFileBytes(path) } catch let e as CheckpointError { throw e.inFile(path) }
  do {
    if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B {
      let zip = try ZipArchive(bytes)
      if zip.entries.contains(where: { $0.name.hasSuffix("data.pkl") }) { return try TorchCheckpoint.decode(bytes) }
      return try NPZ.decode(bytes)
    }
    if bytes.count >= 3 && bytes[0] == 0x80 && (2...5).contains(bytes[1]) && bytes[2] == 0x8A {
      return try TorchCheckpoint.decode(bytes)
    }
    return try Safetensors.decode(bytes)
  } catch let e as CheckpointError {
    throw e.inFile(path)
  }
}
