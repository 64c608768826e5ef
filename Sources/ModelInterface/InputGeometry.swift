/// The input normalisation a model expects after an image is scaled to [0, 1]: per channel,
/// (x - mean) / std.
public struct InputNormalization: Sendable, Equatable {
  public var mean: [Float]
  public var std: [Float]

  public init(mean: [Float], std: [Float]) {
    self.mean = mean
    self.std = std
  }

  /// torchvision's ImageNet statistics (every zoo model).
  public static let imagenet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
  /// No change (models trained on [0, 1] images, e.g. MNIST).
  public static let none = InputNormalization(mean: [0], std: [1])

  /// A normalisation by name: "imagenet", "none", or "MEAN,.../STD,..." (one value for every channel,
  /// or one per channel; standard deviations positive); nil for anything else.
  public init?(named text: String) {
    switch text.trimmingCharacters(in: .whitespaces) {
    case "imagenet": self = .imagenet
    case "none": self = .none
    default:
      let halves = text.split(separator: "/", omittingEmptySubsequences: false)
      guard halves.count == 2 else { return nil }
      let lists = halves.map { $0.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) } }
      guard let mean = lists.first.map({ $0.compactMap { $0 } }), let std = lists.last.map({ $0.compactMap { $0 } }),
        mean.count == lists[0].count, std.count == lists[1].count
      else { return nil }
      self.init(mean: mean, std: std)
      guard isValid else { return nil }
    }
  }

  /// Whether the statistics can normalise: at least one of each, all finite, deviations positive.
  public var isValid: Bool {
    !mean.isEmpty && !std.isEmpty && mean.allSatisfy(\.isFinite) && std.allSatisfy { $0.isFinite && $0 > 0 }
  }

  /// Whether the normalisation leaves values unchanged.
  public var isIdentity: Bool { mean.allSatisfy { $0 == 0 } && std.allSatisfy { $0 == 1 } }

  /// Mean and standard deviation for channel `c` (a one-entry normalisation applies to every channel).
  public func stats(channel c: Int) -> (mean: Float, std: Float) {
    (mean[min(c, mean.count - 1)], std[min(c, std.count - 1)])
  }
}

/// What a model takes as input: channels, height and width (pixels) and the normalisation applied
/// after rendering.
public struct InputGeometry: Sendable, Equatable {
  public var channels, height, width: Int
  public var normalization: InputNormalization

  public init(channels: Int, height: Int, width: Int, normalization: InputNormalization) {
    self.channels = channels
    self.height = height
    self.width = width
    self.normalization = normalization
  }
}
