import Engine
import ImageIO

/// Images of several categories at one input size: per category a list of planes (channels x side x
/// side, values in [0, 1], not yet normalised). The raw material of feature-attention test images.
public struct CategoryImages: Sendable {
  /// Category names (digit names, or an image folder's subfolder names).
  public var names: [String]
  /// Per category, its images as channels x side x side planes.
  public var images: [[[Float]]]
  public var channels: Int
  public var side: Int

  public init(names: [String], images: [[[Float]]], channels: Int, side: Int) {
    self.names = names
    self.images = images
    self.channels = channels
    self.side = side
  }

  /// Number of categories.
  public var count: Int { names.count }
}

/// The two test-image kinds of Lindsay & Miller (2018): "merged" (two whole images averaged pixel by
/// pixel) and "array" (four images shrunk to half size in the quadrants of a 2x2 grid).
public enum CategoryImageKind: String, Sendable, CaseIterable {
  case merged, array
}

/// The pixel-wise mean of two equal-sized images.
public func mergedImage(_ a: [Float], _ b: [Float]) -> [Float] {
  precondition(a.count == b.count, "merged images must have equal sizes")
  return zip(a, b).map { ($0 + $1) / 2 }
}

/// A 2x2 array: each of four channels x side x side images shrunk to half size (bilinear) and placed
/// in a quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right); `side` must be even.
public func arrayImage(_ quadrants: [[Float]], channels: Int, side: Int) -> [Float] {
  precondition(quadrants.count == 4 && side % 2 == 0, "an array holds four images on an even side")
  let half = side / 2
  var out = [Float](repeating: 0, count: channels * side * side)
  for (q, image) in quadrants.enumerated() {
    let small = resampleBilinear(image, channels: channels, height: side, width: side, toHeight: half, toWidth: half)
    let (oy, ox) = ((q / 2) * half, (q % 2) * half)
    for c in 0..<channels {
      for y in 0..<half {
        for x in 0..<half {
          out[(c * side + oy + y) * side + ox + x] = small[(c * half + y) * half + x]
        }
      }
    }
  }
  return out
}

/// A detection test set for one category: `positives` images that contain it and as many that do not,
/// with labels 1 and 0. Merged positives average an image of the category with one of another
/// category (partners cycle over the other categories); merged negatives average two images of two
/// different other categories. Array positives put the category in a random quadrant and images of
/// other categories in the rest; array negatives hold four images of other categories. Images are
/// drawn with `rng` from `pool` (e.g. held-out images). `slots` gives each array image's attended
/// quadrant for spatial attention: the category's quadrant in positives, a random one in negatives
/// (-1 for merged images).
public func detectionTestSet(
  _ kind: CategoryImageKind, category: Int, positives: Int, from pool: CategoryImages, rng: inout RandomGenerator
) -> (images: [[Float]], labels: [Int], slots: [Int]) {
  let others = (0..<pool.count).filter { $0 != category }
  precondition(!others.isEmpty && pool.images.allSatisfy { !$0.isEmpty }, "every category needs images")
  func draw(_ c: Int) -> [Float] { pool.images[c][Int(rng.next() % UInt64(pool.images[c].count))] }
  func other() -> Int { others[Int(rng.next() % UInt64(others.count))] }
  var images: [[Float]] = []
  var labels: [Int] = []
  var slots: [Int] = []
  for i in 0..<positives {
    switch kind {
    case .merged:
      images.append(mergedImage(draw(category), draw(others[i % others.count])))
      slots.append(-1)
    case .array:
      let slot = Int(rng.next() % 4)
      slots.append(slot)
      images.append(
        arrayImage(
          (0..<4).map { $0 == slot ? draw(category) : draw(other()) }, channels: pool.channels, side: pool.side))
    }
    labels.append(1)
  }
  for _ in 0..<positives {
    switch kind {
    case .merged:
      let a = other()
      var b = other()
      if others.count > 1 { while b == a { b = other() } }
      images.append(mergedImage(draw(a), draw(b)))
      slots.append(-1)
    case .array:
      images.append(arrayImage((0..<4).map { _ in draw(other()) }, channels: pool.channels, side: pool.side))
      slots.append(Int(rng.next() % 4))
    }
    labels.append(0)
  }
  return (images, labels, slots)
}
