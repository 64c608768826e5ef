/// One (image, category) pair of the Pointing Game: the category's ground-truth pixels (a mask, or
/// the union of its boxes) on an image of `height` x `width` pixels, and whether the pair belongs to
/// the "difficult" subset.
public struct PointingTarget: Sendable {
  public var image: Int
  public var category: Int
  public var height: Int
  public var width: Int
  /// Row-major, height x width.
  public var mask: [Bool]
  /// The paper's difficult subset: the category covers less than a quarter of the image and at
  /// least one other category is present.
  public var difficult: Bool

  public init(image: Int, category: Int, height: Int, width: Int, mask: [Bool], otherCategories: Int) {
    self.image = image
    self.category = category
    self.height = height
    self.width = width
    self.mask = mask
    let area = mask.reduce(0) { $0 + ($1 ? 1 : 0) }
    difficult = 4 * area < height * width && otherCategories > 0
  }
}

/// The Pointing Game (Zhang et al. 2016) as TorchRay scores it: a map's maximum point (the first
/// maximum, row-major) is a hit when some ground-truth pixel of the category lies strictly within
/// `tolerance` pixels of it (Euclidean, d < tolerance), else a miss.
public struct PointingGame: Sendable {
  /// Tolerance in pixels of the image the maps are scored at.
  public var tolerance: Double

  /// The paper's 15 px at 224, scaled with the image: 15 * max(H, W) / 224 (4.29 px at 64).
  public static func tolerance(height: Int, width: Int) -> Double { 15 * Double(max(height, width)) / 224 }

  public init(tolerance: Double) { self.tolerance = tolerance }

  /// Whether `point` (row, column) hits `target`.
  public func hit(_ point: (y: Int, x: Int), _ target: PointingTarget) -> Bool {
    let r = Int(tolerance.rounded(.up))
    let t2 = tolerance * tolerance
    for y in max(0, point.y - r)...min(target.height - 1, point.y + r) {
      for x in max(0, point.x - r)...min(target.width - 1, point.x + r) where target.mask[y * target.width + x] {
        let d2 = Double((y - point.y) * (y - point.y) + (x - point.x) * (x - point.x))
        if d2 < t2 { return true }
      }
    }
    return false
  }
}

/// Hits and misses per category, and the Pointing Game's accuracy: per category hits / (hits +
/// misses), a category with no evaluated pairs counting as 0 (as TorchRay's max(hits + misses, 1)
/// does), then the mean over all `categories`.
public struct PointingTally: Sendable, Equatable {
  public var hits: [Int]
  public var misses: [Int]

  public init(categories: Int) {
    hits = [Int](repeating: 0, count: categories)
    misses = hits
  }

  public mutating func record(category: Int, hit: Bool) {
    if hit { hits[category] += 1 } else { misses[category] += 1 }
  }

  /// hits / max(hits + misses, 1) per category.
  public var perCategory: [Double] {
    zip(hits, misses).map { h, m in Double(h) / Double(max(h + m, 1)) }
  }

  /// The mean over categories of `perCategory`, as a fraction.
  public var accuracy: Double { perCategory.reduce(0, +) / Double(max(1, hits.count)) }

  /// Evaluated pairs.
  public var pairs: Int { hits.reduce(0, +) + misses.reduce(0, +) }
}
