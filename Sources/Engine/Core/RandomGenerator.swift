import Foundation

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64). Every random draw
/// in Ephys comes from one of these, created from an explicit seed: same seed, same numbers.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
  private var s0, s1, s2, s3: UInt64

  /// A generator whose whole sequence is determined by `seed`.
  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitmix()
    s1 = splitmix()
    s2 = splitmix()
    s3 = splitmix()
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }

  /// Uniform in [0, 1) with 53 random bits.
  public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

  /// Uniform in [low, high).
  public mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * nextUnit()
  }

  /// Standard normal draw (Box-Muller).
  public mutating func normal() -> Double {
    var u1 = nextUnit()
    while u1 <= 0 { u1 = nextUnit() }
    let u2 = nextUnit()
    return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
  }

  /// An independent generator derived from this one (for per-worker or per-epoch streams).
  public mutating func fork() -> RandomGenerator { RandomGenerator(seed: next()) }

  /// A uniformly shuffled permutation of 0..<n (Fisher-Yates).
  public mutating func permutation(_ n: Int) -> [Int] {
    var p = Array(0..<n)
    if n > 1 {
      for i in stride(from: n - 1, to: 0, by: -1) {
        let j = Int(next() % UInt64(i + 1))
        p.swapAt(i, j)
      }
    }
    return p
  }
}

@inline(__always) private func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) private func _cos(_ x: Double) -> Double { Foundation.cos(x) }

extension Tensor {
  /// Uniform values in [low, high) of `shape`, drawn from `rng`.
  public static func uniform(
    _ shape: [Int], low: Scalar = 0, high: Scalar = 1, rng: inout RandomGenerator
  ) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Scalar]()
    values.reserveCapacity(n)
    let lo = Double(low)
    let hi = Double(high)
    for _ in 0..<n { values.append(Scalar(rng.uniform(lo, hi))) }
    return Tensor(shape: shape, scalars: values)
  }

  /// Normal values N(mean, std^2) of `shape`, drawn from `rng`.
  public static func normal(
    _ shape: [Int], mean: Scalar = 0, std: Scalar = 1, rng: inout RandomGenerator
  ) -> Tensor {
    let n = shape.reduce(1, *)
    var values = [Scalar]()
    values.reserveCapacity(n)
    for _ in 0..<n { values.append(mean + std * Scalar(rng.normal())) }
    return Tensor(shape: shape, scalars: values)
  }
}
