/// NumPy's .npz: a zip archive of .npy members (stored by `np.savez`, deflated by `np.savez_compressed`).
public enum NPZ {
  /// Parses .npz bytes; tensor names drop the ".npy" suffix.
  public static func decode(_ bytes: [UInt8]) throws -> TensorArchive {
    let zip = try ZipArchive(bytes)
    var archive = TensorArchive()
    let members = zip.entries.filter { !$0.name.hasSuffix("/") }
    try zip.checkBudget(members)
    for e in members {
      let name = e.name.hasSuffix(".npy") ? String(e.name.dropLast(4)) : e.name
      do {
        archive.tensors.append(try NPY.decode(try zip.contents(of: e), name: name))
      } catch let err as CheckpointError {
        throw CheckpointError("member '\(e.name)': \(err.message)")
      }
    }
    return archive
  }

  /// Reads an .npz file.
  public static func read(_ path: String) throws -> TensorArchive {
    do { return try decode(try readFileBytes(path)) } catch let e as CheckpointError { throw e.inFile(path) }
  }

  /// Serialises tensors as an uncompressed .npz.
  public static func encode(_ archive: TensorArchive) -> [UInt8] {
    var w = ZipWriter()
    for t in archive.tensors { w.add(t.name + ".npy", NPY.encode(t)) }
    return w.finish()
  }

  /// Writes an .npz file atomically.
  public static func write(_ archive: TensorArchive, to path: String) throws {
    try writeFileAtomically(encode(archive), to: path)
  }
}
