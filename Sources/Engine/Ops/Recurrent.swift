import Kernels

/// One GRU step, PyTorch's nn.GRUCell: gates stacked (r, z, n) in weightIH [3H, I] and weightHH [3H, H]:
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 - z) ⊙ n + z ⊙ h.
/// x [N, I], h [N, H] -> [N, H]. Composed from differentiable ops.
public func gruCell<T: KernelScalar>(
  _ x: Tensor<T>, _ h: Tensor<T>, weightIH: Tensor<T>, weightHH: Tensor<T>,
  biasIH: Tensor<T>?, biasHH: Tensor<T>?
) -> Tensor<T> {
  let hidden = h.shape[h.rank - 1]
  precondition(
    weightIH.shape[0] == 3 * hidden && weightHH.shape == [3 * hidden, hidden],
    "gru weights must be [3H, I] and [3H, H] with H = \(hidden), got \(weightIH.shape), \(weightHH.shape)")
  let gi = linear(x, weight: weightIH, bias: biasIH)
  let gh = linear(h, weight: weightHH, bias: biasHH)
  let r = (gi.slice(dim: 1, start: 0, end: hidden) + gh.slice(dim: 1, start: 0, end: hidden)).sigmoid()
  let z = (gi.slice(dim: 1, start: hidden, end: 2 * hidden) + gh.slice(dim: 1, start: hidden, end: 2 * hidden))
    .sigmoid()
  let nGate =
    (gi.slice(dim: 1, start: 2 * hidden, end: 3 * hidden) + r * gh.slice(dim: 1, start: 2 * hidden, end: 3 * hidden))
    .tanh()
  return nGate + z * (h - nGate)
}

/// Weights of one GRU layer, named as PyTorch's nn.GRU (`weight_ih_l0`, ...).
public struct GRULayerWeights<T: KernelScalar> {
  public var weightIH, weightHH: Tensor<T>
  public var biasIH, biasHH: Tensor<T>?
  public init(weightIH: Tensor<T>, weightHH: Tensor<T>, biasIH: Tensor<T>?, biasHH: Tensor<T>?) {
    self.weightIH = weightIH
    self.weightHH = weightHH
    self.biasIH = biasIH
    self.biasHH = biasHH
  }
}

/// Multi-step, multi-layer unidirectional GRU (PyTorch's nn.GRU, batch_first = false):
/// input [T, N, I], h0 [layers, N, H] (zeros when nil) -> (output [T, N, H] of the top layer,
/// hN [layers, N, H]).
public func gru<T: KernelScalar>(
  _ input: Tensor<T>, h0: Tensor<T>?, layers: [GRULayerWeights<T>]
) -> (output: Tensor<T>, hidden: Tensor<T>) {
  precondition(input.rank == 3, "gru input must be [T, N, I], got \(input.shape)")
  precondition(!layers.isEmpty, "gru needs at least one layer")
  let steps = input.shape[0]
  let batch = input.shape[1]
  let hidden = layers[0].weightHH.shape[1]
  if let h0 {
    precondition(
      h0.shape == [layers.count, batch, hidden],
      "gru h0 must be [\(layers.count), \(batch), \(hidden)], got \(h0.shape)")
  }
  var sequence = (0..<steps).map { input.slice(dim: 0, start: $0, end: $0 + 1).squeezed(0) }
  var finals: [Tensor<T>] = []
  for (l, w) in layers.enumerated() {
    var h = h0.map { $0.slice(dim: 0, start: l, end: l + 1).squeezed(0) } ?? Tensor<T>.zeros([batch, hidden])
    var outs: [Tensor<T>] = []
    for x in sequence {
      h = gruCell(x, h, weightIH: w.weightIH, weightHH: w.weightHH, biasIH: w.biasIH, biasHH: w.biasHH)
      outs.append(h)
    }
    finals.append(h)
    sequence = outs
  }
  return (stack(sequence, dim: 0), stack(finals, dim: 0))
}

/// One-hot encoding of class indices [N] -> [N, classes] (no gradient).
public func oneHot<T: KernelScalar>(_ labels: IntTensor, classes: Int, as _: T.Type = T.self) -> Tensor<T> {
  var v = [T](repeating: 0, count: labels.count * classes)
  for (i, y) in labels.values.enumerated() {
    precondition(y >= 0 && y < classes, "one_hot: label \(y) out of range for \(classes) classes")
    v[i * classes + y] = 1
  }
  return Tensor(shape: labels.shape + [classes], scalars: v)
}
