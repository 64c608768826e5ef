import Kernels

// Pointwise nonlinearities with their backward rules.

extension Tensor {
  /// Applies a forward kernel to all values.
  @inlinable
  func mapKernel(_ kernel: (UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void) -> [Scalar] {
    makeArray(count) { y in scalars.withUnsafeBufferPointer { kernel($0.baseAddress!, y, count) } }
  }

  /// Builds dx from a backward kernel reading a saved array (input or output) and dy.
  @inlinable
  static func pullKernel(
    _ saved: [Scalar], _ g: [Scalar],
    _ kernel: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafeMutablePointer<Scalar>, Int) -> Void
  ) -> [Scalar] {
    makeArray(g.count) { dx in
      saved.withUnsafeBufferPointer { s in
        g.withUnsafeBufferPointer { kernel(s.baseAddress!, $0.baseAddress!, dx, g.count) }
      }
    }
  }

  /// max(x, 0). Gradient: g where x > 0.
  public func relu() -> Tensor {
    let v = mapKernel(Elementwise.relu)
    return .result(shape: shape, scalars: v, inputs: [self], op: .relu) { [scalars] g in
      [Tensor.pullKernel(scalars, g, Elementwise.reluBackward)]
    }
  }

  /// x for x > 0, slope * x otherwise (PyTorch default slope 0.01).
  public func leakyRelu(slope: Scalar = 0.01) -> Tensor {
    let v = mapKernel { Elementwise.leakyRelu($0, $1, $2, slope: slope) }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      [Tensor.pullKernel(scalars, g) { Elementwise.leakyReluBackward($0, $1, $2, $3, slope: slope) }]
    }
  }

  /// tanh(x). Gradient: g (1 - y^2).
  public func tanh() -> Tensor {
    let v = mapKernel(Elementwise.tanh)
    return .result(shape: shape, scalars: v, inputs: [self]) { g in
      [Tensor.pullKernel(v, g, Elementwise.tanhBackward)]
    }
  }

  /// 1 / (1 + exp(-x)). Gradient: g y (1 - y).
  public func sigmoid() -> Tensor {
    let v = mapKernel(Elementwise.sigmoid)
    return .result(shape: shape, scalars: v, inputs: [self]) { g in
      [Tensor.pullKernel(v, g, Elementwise.sigmoidBackward)]
    }
  }

  /// The error function erf(x) (ONNX Erf; GELU's building block). Gradient: g 2/sqrt(pi) exp(-x^2).
  public func erf() -> Tensor {
    let v = scalars.map { Scalar.erf($0) }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      let c = 2 / Scalar.pi.squareRoot()
      return [zip(scalars, g).map { x, d in d * c * Scalar.exp(-x * x) }]
    }
  }

  /// log(1 + exp(beta x)) / beta, and x where beta x > threshold (PyTorch defaults 1 and 20).
  public func softplus(beta: Scalar = 1, threshold: Scalar = 20) -> Tensor {
    let v = mapKernel { Elementwise.softplus($0, $1, $2, beta: beta, threshold: threshold) }
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      [Tensor.pullKernel(scalars, g) { Elementwise.softplusBackward($0, $1, $2, $3, beta: beta, threshold: threshold) }]
    }
  }

  /// exp(x). Gradient: g exp(x).
  public func exp() -> Tensor {
    let v = mapKernel(Elementwise.exp)
    return .result(shape: shape, scalars: v, inputs: [self]) { g in
      [Tensor.pullKernel(v, g, Elementwise.multiply)]
    }
  }

  /// log(x). Gradient: g / x.
  public func log() -> Tensor {
    let v = mapKernel(Elementwise.log)
    return .result(shape: shape, scalars: v, inputs: [self]) { [scalars] g in
      [zip(g, scalars).map { $0 / $1 }]
    }
  }
}
