import Engine

/// Seeded mutations of seed inputs, as a hostile user (or a broken disk) would produce them:
/// structure-aware edits of the numbers and words inside text (YAML, CSV, JSON, and the text
/// headers of NPY and safetensors files), integer fields overwritten with boundary values, byte
/// flips, insertions, deletions, duplications, truncations, splices of two seeds, and pure noise.
/// The same seed always gives the same sequence of inputs.
public struct Mutator {
  var rng: RandomGenerator

  public init(seed: UInt64) { rng = RandomGenerator(seed: seed) }

  /// Numbers that break naive code: overflow, non-finite, boundary and absurd sizes.
  static let numbers = [
    "0", "-1", "1", "-0", "2", "1e19", "-1e19", "1.7e308", "-1.7e308", "1.8e308", "1e-320", "nan", ".nan", "inf",
    ".inf", "-.inf", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "4294967295",
    "2147483648", "65536", "100000", "4097", "1025", "99999999", "0.5", "1e10", "3e5", "0x10", "1_000",
    "123456789012345678901234567890", "1e16", "10000000000000002", "-5", "1024", "28",
  ]
  /// Text fragments that stress parsers: YAML syntax, quotes, separators, control bytes.
  static let fragments = [
    "&a ", "*a", "!!binary ", "!!python/object ", "[", "]", "{", "}", "'", "\"", "\"\"", "\t", "- ", ": ", ",",
    ",,", "\n", "\r\n", "\r", "#", "~", "null", "true", "[[[[[[[[", "{a: {a: {a: ", "<<: *a", "\u{0}", "\u{1b}[2J",
    "é", "\u{202e}", "..", "/", "../../", "%", "---\n", "...\n", "? ", "|\n", ">\n",
  ]
  /// Integers written over binary fields (little-endian, 1 to 8 bytes).
  static let integers: [UInt64] = [
    0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 32, 1 << 40,
    0x7FFF_FFFF_FFFF_FFFF, UInt64.max,
  ]

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }
  mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

  /// One mutant of `seed` (1 to 4 stacked edits); `others` are other seeds of the same reader to splice
  /// from; `text` favours the text-aware edits.
  public mutating func mutate(_ seed: [UInt8], others: [[UInt8]], text: Bool) -> [UInt8] {
    if below(40) == 0 {  // pure noise now and then
      return (0..<below(2048)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }
    var b = seed
    for _ in 0..<(1 + below(4)) {
      let choice = below(text ? 12 : 14)
      switch choice {
      case 0, 1, 2: replaceNumber(&b)
      case 3: if text { replaceWord(&b) } else { overwriteInteger(&b) }
      case 4: if text { insertFragment(&b) } else { overwriteInteger(&b) }
      case 5: if text { editLines(&b) } else { overwriteInteger(&b) }
      case 6: flipBit(&b)
      case 7: insertBytes(&b)
      case 8: deleteRange(&b)
      case 9: duplicateRange(&b)
      case 10: if !b.isEmpty && below(3) == 0 { b.removeLast(below(b.count) + 1) } else { setByte(&b) }
      case 11: if let other = others.isEmpty ? nil : pick(others) { splice(&b, other) } else { flipBit(&b) }
      default: overwriteInteger(&b)
      }
    }
    return b
  }

  /// Rewrites the CRC-32 of every stored (uncompressed) zip member whose data lies inside `b`, in
  /// its local header and its central directory entry, so a mutant's members pass the CRC check and
  /// reach the reader inside (the unpickler of a .pt, the NPY parser of an .npz). Fields are read
  /// leniently: whatever does not parse is left as it is.
  public static func fixZipChecksums(_ b: inout [UInt8]) {
    func u(_ at: Int, _ width: Int) -> Int? {
      guard at >= 0, at + width <= b.count else { return nil }
      var v = 0
      for k in 0..<width { v |= Int(b[at + k]) << (8 * k) }
      return v
    }
    func put32(_ at: Int, _ v: UInt32) {
      for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }
    var p = max(0, b.count - 22)
    while p > 0 && u(p, 4) != 0x0605_4B50 { p -= 1 }
    guard let count = u(p + 10, 2), var entry = u(p + 16, 4) else { return }
    for _ in 0..<min(count, 4096) {
      guard u(entry, 4) == 0x0201_4B50, let method = u(entry + 10, 2), let size = u(entry + 20, 4),
        let nameLength = u(entry + 28, 2), let extra = u(entry + 30, 2), let comment = u(entry + 32, 2),
        let local = u(entry + 42, 4), u(local, 4) == 0x0403_4B50, let ln = u(local + 26, 2), let le = u(local + 28, 2)
      else { return }
      let start = local + 30 + ln + le
      if method == 0, start + size <= b.count {
        let crc = crc32Of(Array(b[start..<(start + size)]))
        put32(entry + 16, crc)
        put32(local + 14, crc)
      }
      entry += 46 + nameLength + extra + comment
    }
  }

  /// Replaces a run of digits (with sign, point and exponent) by a boundary number.
  mutating func replaceNumber(_ b: inout [UInt8]) {
    var runs: [Range<Int>] = []
    var i = 0
    func isNumeric(_ c: UInt8) -> Bool { (48...57).contains(c) || c == 46 || c == 45 || c == 43 || c == 101 }
    while i < b.count {
      if (48...57).contains(b[i]) {
        var start = i
        while start > 0 && isNumeric(b[start - 1]) { start -= 1 }
        var end = i
        while end < b.count && isNumeric(b[end]) { end += 1 }
        runs.append(start..<end)
        i = end
      } else {
        i += 1
      }
      if runs.count > 4096 { break }
    }
    guard !runs.isEmpty else { return insertFragment(&b) }
    let r = pick(runs)
    b.replaceSubrange(r, with: Array(pick(Self.numbers).utf8))
  }

  /// Replaces a word by another word of the same input (a key moved, a value renamed).
  mutating func replaceWord(_ b: inout [UInt8]) {
    func isWord(_ c: UInt8) -> Bool { (97...122).contains(c) || (65...90).contains(c) || c == 95 || c == 45 }
    var words: [Range<Int>] = []
    var i = 0
    while i < b.count && words.count < 4096 {
      if isWord(b[i]) {
        let start = i
        while i < b.count && isWord(b[i]) { i += 1 }
        words.append(start..<i)
      } else {
        i += 1
      }
    }
    guard words.count >= 2 else { return insertFragment(&b) }
    let target = pick(words)
    let source = Array(b[pick(words)])
    b.replaceSubrange(target, with: source)
  }

  mutating func insertFragment(_ b: inout [UInt8]) {
    b.insert(contentsOf: Array(pick(Self.fragments).utf8), at: below(b.count + 1))
  }

  /// Deletes, duplicates or swaps whole lines.
  mutating func editLines(_ b: inout [UInt8]) {
    var lines = b.split(separator: 10, omittingEmptySubsequences: false).map(Array.init)
    guard !lines.isEmpty else { return }
    let i = below(lines.count)
    switch below(4) {
    case 0: lines.remove(at: i)
    case 1: lines.insert(lines[i], at: below(lines.count + 1))
    case 2: lines.swapAt(i, below(lines.count))
    default:  // repeat a line many times (long lists, long files)
      lines.insert(contentsOf: Array(repeating: lines[i], count: 1 + below(2000)), at: i)
    }
    b = Array(lines.joined(separator: [10]))
  }

  mutating func overwriteInteger(_ b: inout [UInt8]) {
    guard !b.isEmpty else { return }
    let width = pick([1, 2, 4, 8])
    let at = below(b.count)
    let v = pick(Self.integers)
    for k in 0..<width where at + k < b.count { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
  }

  mutating func flipBit(_ b: inout [UInt8]) {
    guard !b.isEmpty else { return }
    b[below(b.count)] ^= UInt8(1 << below(8))
  }

  mutating func setByte(_ b: inout [UInt8]) {
    guard !b.isEmpty else { return }
    b[below(b.count)] = pick([0, 0xFF, 0x7F, 0x80, 10, 34, 44, 58, UInt8(truncatingIfNeeded: rng.next())])
  }

  mutating func insertBytes(_ b: inout [UInt8]) {
    let n = 1 + below(64)
    b.insert(contentsOf: (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: below(b.count + 1))
  }

  mutating func deleteRange(_ b: inout [UInt8]) {
    guard !b.isEmpty else { return }
    let start = below(b.count)
    b.removeSubrange(start..<min(b.count, start + 1 + below(256)))
  }

  mutating func duplicateRange(_ b: inout [UInt8]) {
    guard !b.isEmpty else { return }
    let start = below(b.count)
    let chunk = Array(b[start..<min(b.count, start + 1 + below(512))])
    b.insert(contentsOf: chunk, at: below(b.count + 1))
  }

  mutating func splice(_ b: inout [UInt8], _ other: [UInt8]) {
    guard !other.isEmpty else { return }
    let cut = below(b.count + 1)
    let from = below(other.count)
    b = Array(b[..<cut]) + Array(other[from...])
  }
}
