import Engine

/// What one glimpse (T passes with masks reset at its start) produced.
public struct Glimpse {
  /// The last pass (T) of the glimpse.
  public var last: AttentionPass
  /// The masks after pass T-1 with IOR applied: the ones the reference uses for the IOR update and
  /// for its inhibition statistics (index 0 = input mask).
  public var masksBeforeLastPass: [Tensor<Float>]
  /// IOR masks to apply from the next glimpse on (0/1, no gradient): previous IOR OR (mask < theta).
  public var nextIOR: [Tensor<Float>]
}

extension ObjectAttentionNet {
  /// No IOR yet: all-zero masks for a batch of `n`.
  public func emptyIOR(batch n: Int) -> [Tensor<Float>] { zeroMasks(batch: n) }

  /// Runs one glimpse: masks start at zero, then `config.passes` passes; after every pass the masks
  /// are overwritten with 1 where `ior` is set (mask = (1 - ior) mask + ior). After pass T-1 the new
  /// IOR is taken as ior OR (mask < theta). `onPass(t, pass)` sees every pass (t = 0 ..< T).
  public func glimpse(
    _ x: Tensor<Float>, ior: [Tensor<Float>], onPass: ((Int, AttentionPass) -> Void)? = nil
  ) -> Glimpse {
    let n = x.shape[0]
    var masks = zeroMasks(batch: n)
    var nextIOR = ior
    var beforeLast = masks
    var last: AttentionPass? = nil
    let passCount = config.passes
    for t in 0..<passCount {
      if t == passCount - 1 { beforeLast = masks }
      let p = pass(x, masks: masks)
      masks = zip(p.masks, ior).map { m, i in (1 - i) * m + i }
      onPass?(t, p)
      if t == passCount - 2 || (passCount == 1 && t == 0) {
        let theta = config.iorThreshold
        nextIOR = withNoGrad {
          zip(ior, masks).map { i, m in (i + m.detached().lt(theta)).gt(0.5) }
        }
      }
      last = p
    }
    if passCount == 1 { beforeLast = masks }
    return Glimpse(last: last!, masksBeforeLastPass: beforeLast.map { $0.detached() }, nextIOR: nextIOR)
  }

  /// Index of the object each image attended: argmin over not-yet-selected objects of the summed
  /// squared error between the gated input and each object's target image. Marks it as selected.
  public static func selectObjects(gated: Tensor<Float>, targets: [Tensor<Float>], alreadySelected: inout [[Bool]])
    -> [Int]
  {
    let n = gated.shape[0]
    let per = gated.count / max(1, n)
    var choice = [Int](repeating: 0, count: n)
    let g = gated.scalars
    for i in 0..<n {
      var best = Float.infinity
      var bestK = 0
      for (k, t) in targets.enumerated() {
        var e: Float = 0
        if alreadySelected[i][k] {
          e = 1e10
        } else {
          t.scalars.withUnsafeBufferPointer { tv in
            for j in (i * per)..<((i + 1) * per) {
              let d = g[j] - tv[j]
              e += d * d
            }
          }
        }
        if e < best {
          best = e
          bestK = k
        }
      }
      choice[i] = bestK
      alreadySelected[i][bestK] = true
    }
    return choice
  }
}
