/// PyTorch's default initialisation for Linear/Conv layers: kaiming_uniform(a = sqrt(5)) for the
/// weight, which reduces to U(-1/sqrt(fanIn), 1/sqrt(fanIn)), and the same bound for the bias.
public func defaultUniform(_ shape: [Int], fanIn: Int, rng: inout RandomGenerator) -> Tensor<Float> {
  let bound = fanIn > 0 ? 1 / Float(fanIn).squareRoot() : 0
  return Tensor<Float>.uniform(shape, low: -bound, high: bound, rng: &rng)
}
