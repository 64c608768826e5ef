/// Reads PyTorch `torch.save` files (the zip format, PyTorch >= 1.6) holding a state_dict, without
/// executing any pickled code. A dict wrapping the weights under "state_dict" or "model_state_dict"
/// (a common training checkpoint layout) is unwrapped.
public enum TorchCheckpoint {
  /// Parses a .pt/.pth file's bytes into named tensors (file order).
  public static func decode(_ bytes: [UInt8]) throws -> TensorArchive {
    if bytes.count >= 3 && bytes[0] == 0x80 && (2...5).contains(bytes[1]) && bytes[2] == 0x8A {
      throw CheckpointError("this is a legacy (pre-1.6, non-zip) PyTorch file; re-save it with a current torch.save")
    }
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
    var vm = RestrictedUnpickler(try zip.contents(of: pkl))
    var root = try vm.run()
    if case .dict(let d) = root {
      for k in ["state_dict", "model_state_dict"] {
        if let inner = d.values[k], case .dict = inner { root = inner }
      }
    }
    guard case .dict(let dict) = root else {
      throw CheckpointError("the pickled object is not a dict of tensors (state_dict)")
    }
    var archive = TensorArchive()
    var storageCache: [String: [UInt8]] = [:]
    for key in dict.keys {
      guard case .tensor(let t) = dict.values[key]! else { continue }  // skip non-tensor entries (e.g. counters)
      let s = t.storage
      let bytesOfStorage: [UInt8]
      if let cached = storageCache[s.key] {
        bytesOfStorage = cached
      } else {
        guard let e = zip.entry(prefix + "data/" + s.key) else {
          throw CheckpointError("tensor '\(key)': storage '\(s.key)' is missing from the archive")
        }
        bytesOfStorage = try zip.contents(of: e)
        storageCache[s.key] = bytesOfStorage
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
      var data = [UInt8](repeating: 0, count: count * size)
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
