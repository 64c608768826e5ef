import Engine
import ImageIO

/// How multi-digit canvases are drawn, after wellecks/mnist_multi (the generator of the multiset
/// papers): a square canvas; 1-4 digits, each resized to a square of a random side; a grid whose cell
/// is the largest digit's side; each digit in its own random cell at a random offset inside it;
/// clutter first (random `clutterWidth`-pixel crops of random digits, each in its own cell of a
/// `clutterWidth` grid); only non-zero pixels overwrite what is below.
public struct MultiDigitCanvasConfig: Sendable, Equatable {
  /// Canvas side in pixels (mnist_multi: 100).
  public var side = 64
  /// Digit sides in pixels, inclusive (mnist_multi's examples: 20-50 at 100 px).
  public var digitSizes: ClosedRange<Int> = 14...28
  /// Digits per canvas, inclusive.
  public var digitCounts: ClosedRange<Int> = 1...4
  /// True: distinct labels per canvas (MNIST Set); false: labels drawn independently (Multiset).
  public var distinctLabels = true
  /// Clutter crops per canvas, inclusive (mnist_multi: 8 at 100 px).
  public var clutterCounts: ClosedRange<Int> = 3...5
  /// Side of a clutter crop in pixels (mnist_multi: 5).
  public var clutterWidth = 5
  /// Multiset only: the share of canvases with two or more digits whose labels are forced to hold a
  /// duplicate (one digit takes the label of another). mnist_multi draws labels independently, so with
  /// 2 digits only 1 in 10 canvases repeats a label; forcing a share makes the task test duplicates.
  /// 0 (the default) draws nothing extra, so Set canvases are as before.
  public var forcedDuplicateShare = 0.0

  public init() {}

  /// Refuses geometry the placement cannot satisfy (before anything is allocated).
  public func validate() throws {
    func fail(_ m: String) -> DatasetError { DatasetError(m, file: "multi-digit canvas") }
    guard side >= 8 && side <= 4096 else { throw fail("canvas side \(side) must be 8-4096 px") }
    guard digitSizes.lowerBound >= 4 && digitSizes.upperBound <= side else {
      throw fail("digit sizes \(digitSizes) must be 4-\(side) px")
    }
    guard digitCounts.lowerBound >= 1 && digitCounts.upperBound <= 10 else {
      throw fail("digit counts \(digitCounts) must be 1-10")
    }
    let cells = (side / digitSizes.upperBound) * (side / digitSizes.upperBound)
    guard cells >= digitCounts.upperBound else {
      throw fail(
        "\(digitCounts.upperBound) digits of up to \(digitSizes.upperBound) px need \(digitCounts.upperBound) grid cells; a \(side) px canvas has \(cells)"
      )
    }
    guard clutterWidth >= 1 && clutterWidth <= MNIST.side else { throw fail("clutter width must be 1-28 px") }
    guard (0...1).contains(forcedDuplicateShare) else {
      throw fail("forced duplicate share \(forcedDuplicateShare) must be in [0, 1]")
    }
    guard forcedDuplicateShare == 0 || !distinctLabels else {
      throw fail("forced duplicates need distinctLabels = false (a Multiset)")
    }
    let clutterCells = (side / clutterWidth) * (side / clutterWidth)
    guard clutterCounts.lowerBound >= 0 && clutterCounts.upperBound <= clutterCells else {
      throw fail("clutter counts \(clutterCounts) must be 0-\(clutterCells)")
    }
  }
}

/// One canvas: pixels in [0, 1] (row-major, side x side), the digits' labels in placement order,
/// and each digit's exact mask (the pixels it wrote: its non-zero pixels) and bounding box.
public struct MultiDigitCanvas: Sendable {
  public var side: Int
  public var pixels: [Float]
  public var labels: [Int]
  public var masks: [[Bool]]
  /// (top, left, bottom, right), bottom and right exclusive, in pixels.
  public var boxes: [(top: Int, left: Int, bottom: Int, right: Int)]

  /// The union of the masks of the digits labelled `label`.
  public func mask(of label: Int) -> [Bool] {
    var m = [Bool](repeating: false, count: side * side)
    for (l, mask) in zip(labels, masks) where l == label {
      for i in 0..<m.count where mask[i] { m[i] = true }
    }
    return m
  }

  /// The distinct labels, ascending.
  public var presentLabels: [Int] { Array(Set(labels)).sorted() }
}

extension MultiDigitCanvas {
  /// Draws canvas after canvas from `digits` (their labels pick the classes), each from `rng`.
  public static func generate(
    _ count: Int, from digits: MNIST, config: MultiDigitCanvasConfig, rng: inout RandomGenerator
  ) throws -> [MultiDigitCanvas] {
    try config.validate()
    guard digits.count > 0 else { throw DatasetError("no digits to draw from", file: "multi-digit canvas") }
    var byLabel = [[Int]](repeating: [], count: 10)
    for (i, l) in digits.labels.enumerated() where (0..<10).contains(l) { byLabel[l].append(i) }
    let available = (0..<10).filter { !byLabel[$0].isEmpty }
    if config.distinctLabels && available.count < config.digitCounts.upperBound {
      throw DatasetError(
        "only \(available.count) classes among the digits; \(config.digitCounts.upperBound) distinct labels needed",
        file: "multi-digit canvas")
    }
    return (0..<count).map { _ in draw(digits, byLabel: byLabel, available: available, config: config, rng: &rng) }
  }

  static func pick(_ range: ClosedRange<Int>, _ rng: inout RandomGenerator) -> Int {
    range.lowerBound + Int(rng.next() % UInt64(range.count))
  }

  static func digitPlane(_ digits: MNIST, _ index: Int) -> [Float] {
    let n = MNIST.side * MNIST.side
    return Array(digits.pixels[(index * n)..<((index + 1) * n)])
  }

  static func draw(
    _ digits: MNIST, byLabel: [[Int]], available: [Int], config c: MultiDigitCanvasConfig,
    rng: inout RandomGenerator
  ) -> MultiDigitCanvas {
    let side = c.side
    var canvas = [Float](repeating: 0, count: side * side)
    // Clutter first: crops of random digits, one per cell of a clutterWidth grid.
    let clutter = pick(c.clutterCounts, &rng)
    let cw = c.clutterWidth
    let clutterGrid = side / cw
    let clutterCells = Array(rng.permutation(clutterGrid * clutterGrid).prefix(clutter))
    for cell in clutterCells {
      let source = digitPlane(digits, Int(rng.next() % UInt64(digits.count)))
      let sy = Int(rng.next() % UInt64(MNIST.side - cw + 1))
      let sx = Int(rng.next() % UInt64(MNIST.side - cw + 1))
      let (top, left) = ((cell / clutterGrid) * cw, (cell % clutterGrid) * cw)
      for y in 0..<cw {
        for x in 0..<cw {
          let v = source[(sy + y) * MNIST.side + sx + x]
          if v > 0 { canvas[(top + y) * side + left + x] = v }
        }
      }
    }
    // Digits: labels, sizes, one grid cell each (cell = the largest digit's side).
    let n = pick(c.digitCounts, &rng)
    var labels: [Int] = []
    if c.distinctLabels {
      labels = rng.permutation(available.count).prefix(n).map { available[$0] }
    } else {
      labels = (0..<n).map { _ in available[Int(rng.next() % UInt64(available.count))] }
      if c.forcedDuplicateShare > 0 && n >= 2 && rng.nextUnit() < c.forcedDuplicateShare {
        // One digit (not the first) copies the label of an earlier one.
        let copy = 1 + Int(rng.next() % UInt64(n - 1))
        labels[copy] = labels[Int(rng.next() % UInt64(copy))]
      }
    }
    let sizes = (0..<n).map { _ in pick(c.digitSizes, &rng) }
    let cell = sizes.max()!
    let grid = side / cell
    let cells = Array(rng.permutation(grid * grid).prefix(n))
    var masks: [[Bool]] = []
    var boxes: [(top: Int, left: Int, bottom: Int, right: Int)] = []
    for (k, label) in labels.enumerated() {
      let pool = byLabel[label]
      let source = digitPlane(digits, pool[Int(rng.next() % UInt64(pool.count))])
      let s = sizes[k]
      let digit = resampleBilinear(
        source, channels: 1, height: MNIST.side, width: MNIST.side, toHeight: s, toWidth: s)
      let top = (cells[k] / grid) * cell + Int(rng.next() % UInt64(cell - s + 1))
      let left = (cells[k] % grid) * cell + Int(rng.next() % UInt64(cell - s + 1))
      var mask = [Bool](repeating: false, count: side * side)
      var box = (top: Int.max, left: Int.max, bottom: 0, right: 0)
      for y in 0..<s {
        for x in 0..<s {
          let v = min(1, digit[y * s + x])
          guard v > 0 else { continue }
          let i = (top + y) * side + left + x
          canvas[i] = v
          mask[i] = true
          box = (
            min(box.top, top + y), min(box.left, left + x), max(box.bottom, top + y + 1), max(box.right, left + x + 1)
          )
        }
      }
      masks.append(mask)
      boxes.append(box.top == Int.max ? (top, left, top + s, left + s) : box)
    }
    return MultiDigitCanvas(side: side, pixels: canvas, labels: labels, masks: masks, boxes: boxes)
  }
}
