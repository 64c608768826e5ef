import CHDF5
import Foundation

/// Why an HDF5 or NWB file could not be written; names the file and the object.
public struct NWBError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// An HDF5 file being written (through the HDF5 C library): groups, datasets and attributes by
/// absolute path. The file is written to a temporary name beside `path` and moved into place by
/// `finish()`; a writer dropped before `finish()` leaves nothing behind. Object modification times
/// are not recorded, so the same content gives the same bytes.
public final class HDF5File {
  public let path: String
  let temporary: String
  private var file: hid_t
  private var finished = false

  /// Creates (truncates) the temporary file.
  public init(creating path: String) throws {
    ephys_h5_silence_errors()
    self.path = path
    let url = URL(fileURLWithPath: path)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    let fcpl = H5Pcreate(ephys_h5p_file_create())
    defer { H5Pclose(fcpl) }
    H5Pset_obj_track_times(fcpl, false)
    file = H5Fcreate(temporary, ephys_h5f_acc_trunc(), fcpl, defaultList)
    guard file >= 0 else { throw NWBError("\(path): HDF5 could not create the file") }
  }

  deinit {
    if !finished {
      if file >= 0 { H5Fclose(file) }
      try? FileManager.default.removeItem(atPath: temporary)
    }
  }

  /// Closes the file and moves it into place.
  public func finish() throws {
    finished = true
    let status = H5Fclose(file)
    file = -1
    guard status >= 0 else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw NWBError("\(path): HDF5 could not close the file")
    }
    guard rename(temporary, path) == 0 else {
      try? FileManager.default.removeItem(atPath: temporary)
      throw NWBError("\(path): could not be moved into place (\(String(cString: strerror(errno))))")
    }
  }

  // MARK: Groups and links

  /// Creates the group at `path` (its parent must exist).
  public func group(_ path: String) throws {
    let gcpl = H5Pcreate(ephys_h5p_group_create())
    defer { H5Pclose(gcpl) }
    H5Pset_obj_track_times(gcpl, false)
    let g = H5Gcreate2(file, path, defaultList, gcpl, defaultList)
    guard g >= 0 else { throw NWBError("\(self.path): cannot create group \(path)") }
    H5Gclose(g)
  }

  /// A soft link at `path` pointing to the object at `target`.
  public func softLink(_ path: String, to target: String) throws {
    guard H5Lcreate_soft(target, file, path, defaultList, defaultList) >= 0 else {
      throw NWBError("\(self.path): cannot link \(path) to \(target)")
    }
  }

  // MARK: Attributes

  /// A scalar UTF-8 string attribute.
  public func attribute(_ object: String, _ name: String, _ value: String) throws {
    try withStringType { type in
      let space = H5Screate(H5S_SCALAR)
      defer { H5Sclose(space) }
      try writeAttribute(object, name, type: type, space: space, memoryType: type) { buffer in
        try withCStrings([value]) { try buffer($0) }
      }
    }
  }

  /// A 1-D UTF-8 string array attribute.
  public func attribute(_ object: String, _ name: String, _ values: [String]) throws {
    try withStringType { type in
      var dims = [hsize_t(values.count)]
      let space = H5Screate_simple(1, &dims, nil)
      defer { H5Sclose(space) }
      try writeAttribute(object, name, type: type, space: space, memoryType: type) { buffer in
        try withCStrings(values) { try buffer($0) }
      }
    }
  }

  /// A scalar float64 attribute.
  public func attribute(_ object: String, _ name: String, _ value: Double) throws {
    let space = H5Screate(H5S_SCALAR)
    defer { H5Sclose(space) }
    try writeAttribute(object, name, type: ephys_h5t_ieee_f64le(), space: space, memoryType: ephys_h5t_native_double())
    {
      buffer in
      var v = value
      return try withUnsafeBytes(of: &v) { try buffer($0.baseAddress!) }
    }
  }

  /// A scalar int64 attribute.
  public func attribute(_ object: String, _ name: String, _ value: Int64) throws {
    let space = H5Screate(H5S_SCALAR)
    defer { H5Sclose(space) }
    try writeAttribute(object, name, type: ephys_h5t_std_i64le(), space: space, memoryType: ephys_h5t_native_int64()) {
      buffer in
      var v = value
      return try withUnsafeBytes(of: &v) { try buffer($0.baseAddress!) }
    }
  }

  private func writeAttribute(
    _ object: String, _ name: String, type: hid_t, space: hid_t, memoryType: hid_t,
    _ data: ((UnsafeRawPointer) throws -> Void) throws -> Void
  ) throws {
    let attr = H5Acreate_by_name(file, object, name, type, space, defaultList, defaultList, defaultList)
    guard attr >= 0 else { throw NWBError("\(path): cannot create attribute \(name) of \(object)") }
    defer { H5Aclose(attr) }
    var status: herr_t = -1
    try data { pointer in status = H5Awrite(attr, memoryType, pointer) }
    guard status >= 0 else { throw NWBError("\(path): cannot write attribute \(name) of \(object)") }
  }

  // MARK: Datasets

  /// A UTF-8 string dataset: scalar when `scalar` (one value), else 1-D.
  public func dataset(_ path: String, strings: [String], scalar: Bool = false) throws {
    precondition(!scalar || strings.count == 1)
    try withStringType { type in
      var dims = [hsize_t(strings.count)]
      let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
      defer { H5Sclose(space) }
      try writeDataset(path, type: type, space: space, memoryType: type, chunk: nil) { buffer in
        try withCStrings(strings) { try buffer($0) }
      }
    }
  }

  /// A float64 dataset of the given shape (a scalar for an empty shape).
  public func dataset(_ path: String, doubles: [Double], shape: [Int]) throws {
    precondition(doubles.count == shape.reduce(1, *))
    try numeric(path, shape: shape, type: ephys_h5t_ieee_f64le(), memoryType: ephys_h5t_native_double()) { buffer in
      try doubles.withUnsafeBytes { try buffer($0.baseAddress!) }
    }
  }

  /// A float32 dataset of the given shape.
  public func dataset(_ path: String, floats: [Float], shape: [Int]) throws {
    precondition(floats.count == shape.reduce(1, *))
    try numeric(path, shape: shape, type: ephys_h5t_ieee_f32le(), memoryType: ephys_h5t_native_float()) { buffer in
      try floats.withUnsafeBytes { try buffer($0.baseAddress!) }
    }
  }

  /// An int64 dataset of the given shape.
  public func dataset(_ path: String, int64s: [Int64], shape: [Int]) throws {
    precondition(int64s.count == shape.reduce(1, *))
    try numeric(path, shape: shape, type: ephys_h5t_std_i64le(), memoryType: ephys_h5t_native_int64()) { buffer in
      try int64s.withUnsafeBytes { try buffer($0.baseAddress!) }
    }
  }

  private func numeric(
    _ path: String, shape: [Int], type: hid_t, memoryType: hid_t,
    _ data: ((UnsafeRawPointer) throws -> Void) throws -> Void
  ) throws {
    var dims = shape.map { hsize_t($0) }
    let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dims, nil)
    defer { H5Sclose(space) }
    try writeDataset(path, type: type, space: space, memoryType: memoryType, chunk: nil, data)
  }

  private func writeDataset(
    _ path: String, type: hid_t, space: hid_t, memoryType: hid_t, chunk: [Int]?,
    _ data: ((UnsafeRawPointer) throws -> Void) throws -> Void
  ) throws {
    let dcpl = H5Pcreate(ephys_h5p_dataset_create())
    defer { H5Pclose(dcpl) }
    H5Pset_obj_track_times(dcpl, false)
    let d = H5Dcreate2(file, path, type, space, defaultList, dcpl, defaultList)
    guard d >= 0 else { throw NWBError("\(self.path): cannot create dataset \(path)") }
    defer { H5Dclose(d) }
    var status: herr_t = 0
    // An empty dataspace has nothing to write.
    if H5Sget_simple_extent_npoints(space) > 0 {
      try data { pointer in status = H5Dwrite(d, memoryType, allSpace, allSpace, defaultList, pointer) }
    }
    guard status >= 0 else { throw NWBError("\(self.path): cannot write dataset \(path)") }
  }

  /// A 2-D float32 dataset [rows, columns] filled block by block (rows in order), chunked as
  /// `chunkRows` x `chunkColumns` and compressed with shuffle + deflate at `level` (0: none).
  public func streamedFloatMatrix(
    _ path: String, rows: Int, columns: Int, chunkRows: Int, chunkColumns: Int, level: Int
  ) throws -> HDF5MatrixWriter {
    var dims = [hsize_t(rows), hsize_t(columns)]
    let space = H5Screate_simple(2, &dims, nil)
    defer { H5Sclose(space) }
    let dcpl = H5Pcreate(ephys_h5p_dataset_create())
    defer { H5Pclose(dcpl) }
    H5Pset_obj_track_times(dcpl, false)
    if rows > 0 && columns > 0 {
      var chunk = [hsize_t(max(1, min(rows, chunkRows))), hsize_t(max(1, min(columns, chunkColumns)))]
      H5Pset_chunk(dcpl, 2, &chunk)
      if level > 0 {
        H5Pset_shuffle(dcpl)
        H5Pset_deflate(dcpl, UInt32(min(9, level)))
      }
    }
    let d = H5Dcreate2(file, path, ephys_h5t_ieee_f32le(), space, defaultList, dcpl, defaultList)
    guard d >= 0 else { throw NWBError("\(self.path): cannot create dataset \(path)") }
    return HDF5MatrixWriter(file: self.path, path: path, dataset: d, rows: rows, columns: columns)
  }

  private func withStringType(_ body: (hid_t) throws -> Void) throws {
    let type = H5Tcopy(ephys_h5t_c_s1())
    defer { H5Tclose(type) }
    H5Tset_size(type, ephys_h5t_variable())
    H5Tset_cset(type, H5T_CSET_UTF8)
    try body(type)
  }
}

/// Fills a 2-D float32 dataset block by block, rows in order; `finish()` checks that every row came.
public final class HDF5MatrixWriter {
  let file: String
  let path: String
  let dataset: hid_t
  public let rows: Int
  public let columns: Int
  public private(set) var written = 0
  private var closed = false

  init(file: String, path: String, dataset: hid_t, rows: Int, columns: Int) {
    self.file = file
    self.path = path
    self.dataset = dataset
    self.rows = rows
    self.columns = columns
  }

  deinit { if !closed { H5Dclose(dataset) } }

  /// Appends whole rows (`values.count` a multiple of `columns`).
  public func append(_ values: UnsafeBufferPointer<Float>) throws {
    guard columns > 0, values.count % columns == 0 else {
      throw NWBError("\(file): \(path): a block of \(values.count) values is not whole rows of \(columns)")
    }
    let n = values.count / columns
    guard written + n <= rows else { throw NWBError("\(file): \(path): more than \(rows) rows appended") }
    guard n > 0 else { return }
    let fileSpace = H5Dget_space(dataset)
    defer { H5Sclose(fileSpace) }
    var start = [hsize_t(written), 0]
    var count = [hsize_t(n), hsize_t(columns)]
    H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil)
    let memSpace = H5Screate_simple(2, &count, nil)
    defer { H5Sclose(memSpace) }
    guard H5Dwrite(dataset, ephys_h5t_native_float(), memSpace, fileSpace, defaultList, values.baseAddress) >= 0 else {
      throw NWBError("\(file): \(path): cannot write rows \(written)..<\(written + n)")
    }
    written += n
  }

  /// Closes the dataset; every row must have been written.
  public func finish() throws {
    closed = true
    H5Dclose(dataset)
    guard written == rows else { throw NWBError("\(file): \(path): \(written) of \(rows) rows written") }
  }
}

/// HDF5's default property list and "the whole dataspace", as hid_t (C imports them as Int32).
let defaultList = hid_t(H5P_DEFAULT)
let allSpace = hid_t(H5S_ALL)

/// Calls `body` with an array of C string pointers to `strings` (valid only during the call).
func withCStrings(_ strings: [String], _ body: (UnsafeRawPointer) throws -> Void) throws {
  let pointers = strings.map { strdup($0) }
  defer { for p in pointers { free(p) } }
  try pointers.withUnsafeBytes { try body($0.baseAddress!) }
}
