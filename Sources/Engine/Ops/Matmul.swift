import Kernels

extension Tensor {
  /// Matrix product. Shapes: [M,K]x[K,N]; [..., M, K]x[K, N] (leading dims batched);
  /// [B, M, K]x[B, K, N]. Gradients: dA = G B^T, dB = A^T G (summed over a shared B).
  public func matmul(_ other: Tensor) -> Tensor {
    precondition(rank >= 2 && other.rank >= 2, "matmul needs rank >= 2, got \(shape) and \(other.shape)")
    let m = shape[rank - 2]
    let k = shape[rank - 1]
    let k2 = other.shape[other.rank - 2]
    let n = other.shape[other.rank - 1]
    precondition(k == k2, "matmul: inner sizes differ, \(shape) x \(other.shape)")
    let a = self
    let b = other
    if other.rank == 2 {
      let rows = count / Swift.max(k, 1)
      let outShape = Array(shape.dropLast()) + [n]
      let v: [Scalar] = makeArray(rows * n) { c in
        a.scalars.withUnsafeBufferPointer { pa in
          b.scalars.withUnsafeBufferPointer { pb in
            gemm(m: rows, n: n, k: k, a: pa.baseAddress!, b: pb.baseAddress!, c: c)
          }
        }
      }
      return .result(shape: outShape, scalars: v, inputs: [a, b]) { g in
        var ga: [Scalar]? = nil
        var gb: [Scalar]? = nil
        g.withUnsafeBufferPointer { pg in
          if a.requiresGrad {
            ga = makeArray(rows * k) { c in
              b.scalars.withUnsafeBufferPointer {
                gemm(transB: true, m: rows, n: k, k: n, a: pg.baseAddress!, b: $0.baseAddress!, c: c)
              }
            }
          }
          if b.requiresGrad {
            gb = makeArray(k * n) { c in
              a.scalars.withUnsafeBufferPointer {
                gemm(transA: true, m: k, n: n, k: rows, a: $0.baseAddress!, b: pg.baseAddress!, c: c)
              }
            }
          }
        }
        return [ga, gb]
      }
    }
    precondition(shape.dropLast(2) == other.shape.dropLast(2), "matmul batch dims differ: \(shape) x \(other.shape)")
    let batch = shape.dropLast(2).reduce(1, *)
    let outShape = Array(shape.dropLast()) + [n]
    let v: [Scalar] = makeArray(batch * m * n) { c in
      a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
          for i in 0..<batch {
            gemm(m: m, n: n, k: k, a: pa.baseAddress! + i * m * k, b: pb.baseAddress! + i * k * n, c: c + i * m * n)
          }
        }
      }
    }
    return .result(shape: outShape, scalars: v, inputs: [a, b]) { g in
      var ga: [Scalar]? = nil
      var gb: [Scalar]? = nil
      g.withUnsafeBufferPointer { pg in
        a.scalars.withUnsafeBufferPointer { pa in
          b.scalars.withUnsafeBufferPointer { pb in
            if a.requiresGrad {
              ga = makeArray(batch * m * k) { c in
                for i in 0..<batch {
                  gemm(
                    transB: true, m: m, n: k, k: n, a: pg.baseAddress! + i * m * n, b: pb.baseAddress! + i * k * n,
                    c: c + i * m * k)
                }
              }
            }
            if b.requiresGrad {
              gb = makeArray(batch * k * n) { c in
                for i in 0..<batch {
                  gemm(
                    transA: true, m: k, n: n, k: m, a: pa.baseAddress! + i * m * k, b: pg.baseAddress! + i * m * n,
                    c: c + i * k * n)
                }
              }
            }
          }
        }
      }
      return [ga, gb]
    }
  }
}

/// Affine map y = x W^T + b over the last dimension (PyTorch's F.linear):
/// x [..., in], weight [out, in], bias [out]. Gradients: dx = G W, dW = G^T x, db = sum of G rows.
public func linear<T: KernelScalar>(_ x: Tensor<T>, weight: Tensor<T>, bias: Tensor<T>?) -> Tensor<T> {
  precondition(weight.rank == 2, "linear weight must be [out, in], got \(weight.shape)")
  let outF = weight.shape[0]
  let inF = weight.shape[1]
  precondition(x.rank >= 1 && x.shape[x.rank - 1] == inF, "linear: input \(x.shape) does not end in \(inF)")
  if let bias { precondition(bias.shape == [outF], "linear bias must be [\(outF)], got \(bias.shape)") }
  let rows = x.count / Swift.max(inF, 1)
  let outShape = Array(x.shape.dropLast()) + [outF]
  let v: [T] = makeArray(rows * outF) { c in
    if let bias {
      bias.scalars.withUnsafeBufferPointer { pb in
        for r in 0..<rows { (c + r * outF).update(from: pb.baseAddress!, count: outF) }
      }
    }
    x.scalars.withUnsafeBufferPointer { px in
      weight.scalars.withUnsafeBufferPointer { pw in
        gemm(
          transB: true, m: rows, n: outF, k: inF, a: px.baseAddress!, b: pw.baseAddress!, beta: bias == nil ? 0 : 1,
          c: c)
      }
    }
  }
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  let reapply: ([Tensor<T>]) -> Tensor<T> = { ins in linear(ins[0], weight: ins[1], bias: ins.count > 2 ? ins[2] : nil)
  }
  return .result(shape: outShape, scalars: v, inputs: inputs, op: .linear, reapply: reapply) { g in
    var gx: [T]? = nil
    var gw: [T]? = nil
    var gb: [T]? = nil
    g.withUnsafeBufferPointer { pg in
      if x.requiresGrad {
        gx = makeArray(rows * inF) { c in
          weight.scalars.withUnsafeBufferPointer {
            gemm(m: rows, n: inF, k: outF, a: pg.baseAddress!, b: $0.baseAddress!, c: c)
          }
        }
      }
      if weight.requiresGrad {
        gw = makeArray(outF * inF) { c in
          x.scalars.withUnsafeBufferPointer {
            gemm(transA: true, m: outF, n: inF, k: rows, a: pg.baseAddress!, b: $0.baseAddress!, c: c)
          }
        }
      }
      if let bias, bias.requiresGrad {
        gb = makeArray(outF) { c in AxisKernels.sum(pg.baseAddress!, outer: 1, n: rows, inner: outF, c) }
      }
    }
    return bias == nil ? [gx, gw] : [gx, gw, gb]
  }
}
