import Engine

/// A batch of multi-digit composites, as the reference's MultiMNIST builds them.
public struct MultiDigitBatch {
  /// Composite images [N, 1, 28, 28 + 14 (n-1)]: digits summed, clamped to [0, 1], plus uniform
  /// noise U[0, noise) where the composite is 0.
  public var images: Tensor<Float>
  /// Each object's digit alone in its slot (zero elsewhere), object k first: n tensors like `images`.
  public var digits: [Tensor<Float>]
  /// Each object's target for the gated input: (1 - s) x + s digit_k.
  public var targets: [Tensor<Float>]
  /// Each object's class, per image: labels[k][i].
  public var labels: [[Int]]
  /// Source digit indices per image and object (into the MNIST set), for provenance.
  public var sources: [[Int]]
}

/// Multi-digit MNIST composites (the object-attention task): n digits at horizontal offsets of 14 px,
/// in random order, summed and clamped, with background noise. Digits may share a class (the
/// reference's `resample = True`). Every draw comes from the seeded generator passed in.
public struct MultiDigitMNIST: Sendable {
  public var source: MNIST
  public var objects: Int
  public var offset: Int
  public var noise: Float
  public var strength: Float

  public init(source: MNIST, objects: Int = 2, offset: Int = 14, noise: Float = 0.3, strength: Float = 0.2) {
    precondition(objects >= 1 && offset > 0, "need at least one object and a positive offset")
    self.source = source
    self.objects = objects
    self.offset = offset
    self.noise = noise
    self.strength = strength
  }

  /// Composite width in pixels.
  public var width: Int { 28 + (objects - 1) * offset }

  /// Builds composites whose first digit is `anchors[i]`; partners are drawn uniformly from the source.
  public func batch(anchors: [Int], rng: inout RandomGenerator) -> MultiDigitBatch {
    let w = width
    let n = anchors.count
    let plane = 28 * w
    var images = [Float](repeating: 0, count: n * plane)
    var digits = [[Float]](repeating: [Float](repeating: 0, count: n * plane), count: objects)
    var labels = [[Int]](repeating: [Int](repeating: 0, count: n), count: objects)
    var sources = [[Int]](repeating: [], count: n)
    for (i, anchor) in anchors.enumerated() {
      var chosen = [anchor]
      for _ in 1..<objects { chosen.append(Int(rng.next() % UInt64(source.count))) }
      let order = rng.permutation(objects)  // slot k shows chosen[order[k]]
      sources[i] = order.map { chosen[$0] }
      for k in 0..<objects {
        let d = sources[i][k]
        labels[k][i] = source.labels[d]
        let x0 = k * offset
        for y in 0..<28 {
          for x in 0..<28 {
            let v = source.pixels[d * 784 + y * 28 + x]
            digits[k][i * plane + y * w + x0 + x] = v
            images[i * plane + y * w + x0 + x] += v
          }
        }
      }
      for j in (i * plane)..<((i + 1) * plane) {
        images[j] = min(max(images[j], 0), 1)
        if images[j] <= 0 { images[j] += Float(rng.nextUnit()) * noise }
      }
    }
    let shape = [n, 1, 28, w]
    let s = strength
    let targets = digits.map { d in Tensor(shape: shape, scalars: zip(images, d).map { (1 - s) * $0 + s * $1 }) }
    return MultiDigitBatch(
      images: Tensor(shape: shape, scalars: images), digits: digits.map { Tensor(shape: shape, scalars: $0) },
      targets: targets, labels: labels, sources: sources)
  }
}

extension MNIST {
  /// Splits into disjoint train / validation / test sets, stratified by class, each source digit in
  /// exactly one split. Deterministic for a seed.
  public func split(validation: Double, test: Double, seed: UInt64) -> (train: MNIST, validation: MNIST, test: MNIST) {
    let (rest, testSet) = split(testFraction: test, seed: seed)
    let (train, val) = rest.split(testFraction: validation / max(1e-9, 1 - test), seed: seed &+ 1)
    return (train, val, testSet)
  }
}
