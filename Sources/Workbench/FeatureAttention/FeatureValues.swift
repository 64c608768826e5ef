import Analysis
import Engine
import Foundation
import Stimuli

/// Tuning and gradient values of every feature map of the attention layers for every category
/// (Lindsay & Miller 2018), indexed [layer][category][channel].
/// - Tuning value: the map's mean post-ReLU response over the images of category c and over all its
///   positions, z-scored across categories (population SD; 0 for a map whose mean does not vary).
/// - Gradient value: the mean over the images of category c and over positions of d(logit of
///   detector c) / d(the map's post-ReLU activity), divided per map by its largest magnitude over
///   categories (the object task's convention; the orientation variant's -g / max|g| over all maps
///   is not used). Positive: more activity in the map raises detector c's output.
public struct FeatureValues: Sendable {
  public var layers: [String]
  public var categories: [String]
  /// Mean response r̄[l][c][k] (the layer's output units: activations, ≥ 0).
  public var meanResponse: [[[Double]]]
  /// Mean gradient g[l][c][k] before normalisation (logit units per unit of activity).
  public var meanGradient: [[[Double]]]
  /// Images of each category the values average over.
  public var imagesPerCategory: [Int]

  /// Tuning values f[l][c][k].
  public var tuning: [[[Double]]] { normalized(meanResponse, zScored) }
  /// Gradient values g[l][c][k] / max_c |g[l][c][k]|.
  public var gradient: [[[Double]]] { normalized(meanGradient, maxAbsNormalized) }

  /// Per layer and map, `f` applied across categories.
  func normalized(_ x: [[[Double]]], _ f: ([Double]) -> [Double]) -> [[[Double]]] {
    x.map { perCategory in
      let channels = perCategory.first?.count ?? 0
      var out = perCategory
      for k in 0..<channels {
        let v = f(perCategory.map { $0[k] })
        for c in perCategory.indices { out[c][k] = v[c] }
      }
      return out
    }
  }

  /// The values of `kind` ("tuning" or "gradient").
  public func values(_ kind: FeatureValueKind) -> [[[Double]]] { kind == .tuning ? tuning : gradient }

  /// Measures both on `images` (at most `limit` per category) through `net` and `detectors`; calls
  /// `progress(done, total)` after each category.
  public static func measure(
    _ net: AttentionNetwork, detectors: CategoryDetectors, images: CategoryImages, limit: Int,
    progress: (Int, Int) -> Void = { _, _ in }
  ) -> FeatureValues {
    let layerCount = net.layers.count
    var mean = [[[Double]]](repeating: [], count: layerCount)
    var grad = [[[Double]]](repeating: [], count: layerCount)
    var counts: [Int] = []
    let keep = Set(0..<layerCount)
    for c in 0..<images.count {
      let list = Array(images.images[c].prefix(limit))
      counts.append(list.count)
      var sums: [[Double]] = []
      var gsums: [[Double]] = []
      for start in stride(from: 0, to: list.count, by: 25) {
        let part = Array(list[start..<min(list.count, start + 25)])
        let (features, maps) = net.run(net.batch(part), gains: [], keep: keep)
        let logit = detectors.logits(features)
        // d(sum over images of detector c's logit) / d(map): each image's own gradient.
        let seed = Tensor<Float>(
          shape: logit.shape,
          scalars: (0..<logit.count).map { $0 % detectors.categories == c ? 1 : 0 })
        let wanted = (0..<layerCount).map { maps[$0]! }
        let grads = logit.requiresGrad ? gradients(of: logit, wrt: wanted, seed: seed) : wanted.map { $0 * 0 }
        for k in 0..<layerCount {
          let s = channelSums(wanted[k])
          let g = channelSums(grads[k])
          if sums.count <= k {
            sums.append(s)
            gsums.append(g)
          } else {
            for j in s.indices {
              sums[k][j] += s[j]
              gsums[k][j] += g[j]
            }
          }
        }
      }
      for k in 0..<layerCount {
        let divisor = Double(list.count * net.mapShapes[k][1] * net.mapShapes[k][2])
        mean[k].append(sums[k].map { $0 / divisor })
        grad[k].append(gsums[k].map { $0 / divisor })
      }
      progress(c + 1, images.count)
    }
    return FeatureValues(
      layers: net.layers, categories: images.names, meanResponse: mean, meanGradient: grad,
      imagesPerCategory: counts)
  }

  /// Values as measured: per layer, category and channel the mean response and the mean gradient,
  /// and how many images each category averaged over.
  public init(
    layers: [String], categories: [String], meanResponse: [[[Double]]], meanGradient: [[[Double]]],
    imagesPerCategory: [Int]
  ) {
    self.layers = layers
    self.categories = categories
    self.meanResponse = meanResponse
    self.meanGradient = meanGradient
    self.imagesPerCategory = imagesPerCategory
  }
}

/// Which values set attention's gains.
public enum FeatureValueKind: String, Sendable, CaseIterable {
  case tuning, gradient
}

/// Per channel, the sum over images and positions of a [N, C, H, W] tensor.
func channelSums(_ t: Tensor<Float>) -> [Double] {
  let n = t.shape[0]
  let c = t.shape[1]
  let plane = t.shape.dropFirst(2).reduce(1, *)
  var out = [Double](repeating: 0, count: c)
  t.scalars.withUnsafeBufferPointer { v in
    for i in 0..<n {
      for k in 0..<c {
        var s = 0.0
        let base = (i * c + k) * plane
        for p in 0..<plane { s += Double(v[base + p]) }
        out[k] += s
      }
    }
  }
  return out
}
