/// The weights and inputs the parity fixture scripts (`scripts/fixtures/make_zoo_fixtures.py`,
/// `make_feature_gain_fixtures.py`) fill tensors with, so that large networks can be checked against
/// PyTorch without storing their weights: both sides compute the same values exactly.
public enum FixtureFormula {
  /// u(j, i): SplitMix64 of j * 2^32 + i, its top 53 bits scaled to [-1, 1) (exact in Double).
  public static func uniform(_ j: Int, _ i: Int) -> Double {
    var z = UInt64(j) << 32 &+ UInt64(i) &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Double(z >> 11) * 0x1p-52 - 1
  }

  /// A state_dict filled by formula, entry `j` in key order, element i (rounded to Float):
  /// conv / linear weight sqrt(6 / fan_in) u(j, i); bias 0.05 u(j, i) (0.1 after BatchNorm);
  /// BatchNorm weight 1 + 0.1 u(j, i), running_mean 0.1 u(j, i), running_var 1 + 0.25 (1 + u(j, i)),
  /// num_batches_tracked 0. `batchNorms` names the BatchNorm modules.
  public static func weights(_ keys: [(String, [Int])], batchNorms: Set<String> = []) -> TensorArchive {
    var archive = TensorArchive()
    for (j, (key, shape)) in keys.enumerated() {
      let n = shape.reduce(1, *)
      let leaf = key.split(separator: ".").last.map(String.init) ?? key
      let batchNorm = batchNorms.contains(String(key.dropLast(leaf.count + 1)))
      if leaf == "num_batches_tracked" {
        archive.tensors.append(StoredTensor(name: key, shape: shape, ints: [Int](repeating: 0, count: n)))
        continue
      }
      let scale = (6 / Double(shape.dropFirst().reduce(1, *))).squareRoot()
      let values = (0..<n).map { i -> Float in
        let u = uniform(j, i)
        switch leaf {
        case "running_var": return Float(1 + 0.25 * (1 + u))
        case "running_mean": return Float(0.1 * u)
        case "weight" where batchNorm: return Float(1 + 0.1 * u)
        case "bias": return Float((batchNorm ? 0.1 : 0.05) * u)
        default: return Float(scale * u)
        }
      }
      archive.tensors.append(StoredTensor(name: key, shape: shape, floats: values))
    }
    return archive
  }
}
