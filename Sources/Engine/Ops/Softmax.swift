import Kernels

extension Tensor {
  /// softmax along `dim`: exp(x - max) / sum. Gradient: y (g - sum(g y)).
  public func softmax(dim: Int) -> Tensor { softmaxImpl(dim: dim, log: false) }

  /// log-softmax along `dim`: x - logsumexp(x). Gradient: g - exp(y) sum(g).
  public func logSoftmax(dim: Int) -> Tensor { softmaxImpl(dim: dim, log: true) }

  func softmaxImpl(dim: Int, log: Bool) -> Tensor {
    let d = normalizeDim(dim, rank: rank)
    let (outer, n, inner) = axisSplit(shape, d)
    let v: [Scalar] = makeArray(count) { y in
      scalars.withUnsafeBufferPointer {
        AxisKernels.softmax($0.baseAddress!, outer: outer, n: n, inner: inner, log: log, y)
      }
    }
    return .result(shape: shape, scalars: v, inputs: [self]) { g in
      [
        makeArray(g.count) { dx in
          v.withUnsafeBufferPointer { py in
            g.withUnsafeBufferPointer {
              AxisKernels.softmaxBackward(
                py.baseAddress!, $0.baseAddress!, outer: outer, n: n, inner: inner, log: log, dx)
            }
          }
        }
      ]
    }
  }
}
