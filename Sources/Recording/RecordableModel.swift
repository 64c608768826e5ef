import Engine
import Models
import Stimuli

/// A layer that can be recorded: its name, map shape and how its units see the input.
public struct LayerGeometry: Sendable, Equatable {
  public var name: String
  public var channels, height, width: Int
  /// Input rows and columns (inclusive) seen by the unit at map position (y, x).
  public var receptiveField: @Sendable (Int, Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>)

  public init(
    name: String, channels: Int, height: Int, width: Int,
    receptiveField: @escaping @Sendable (Int, Int) -> (rows: ClosedRange<Int>, cols: ClosedRange<Int>)
  ) {
    self.name = name
    self.channels = channels
    self.height = height
    self.width = width
    self.receptiveField = receptiveField
  }

  public static func == (a: LayerGeometry, b: LayerGeometry) -> Bool {
    a.name == b.name && a.channels == b.channels && a.height == b.height && a.width == b.width
  }

  /// Units in the layer (channels x height x width).
  public var units: Int { channels * height * width }
}

/// How attention is directed while recording.
public enum AttentionCondition: Sendable, Equatable {
  /// Object-attention: the model's own glimpse sequence with IOR; a phase is "attended" in the
  /// glimpse that selected the swept object and "unattended" in the one that selected the distractor.
  case glimpses
  /// Object-attention: an exogenous cue pre-inhibits (IOR mask = 1) the other object's region, so the
  /// cued object is attended first; both orders run, and glimpse 1 of each is recorded.
  case cue
  /// Any CNN: the chosen layer's output is multiplied by 1 + beta * exp(-d^2 / (2 sigma^2)), d the
  /// distance (input pixels) from each unit's receptive-field centre to the attended object's
  /// centroid: the swept object (attended) or the distractor (unattended; no gain without one).
  case spatialGain(layer: String, beta: Float, sigma: Double)

  /// A short name for tables and reports.
  public var name: String {
    switch self {
    case .glimpses: return "glimpses"
    case .cue: return "cue"
    case .spatialGain: return "spatial-gain"
    }
  }
}

/// Activity of one batch: per phase (0 = attended, 1 = unattended) and layer, [N, C, H, W]; plus
/// per stimulus which glimpse attended the swept object (glimpses mode; 0-based, -1 otherwise) and
/// the model's predicted class in each phase.
public struct BatchRecording {
  public var activity: [[Tensor<Float>]]
  public var attendedGlimpse: [Int]
  public var predictions: [[Int]]
}

/// A model the recording harness can drive.
public protocol RecordableModel: AnyObject {
  /// Input channels, height and width.
  var inputShape: (channels: Int, height: Int, width: Int) { get }
  /// Recordable layers (post-ReLU outputs).
  var recordableLayers: [LayerGeometry] { get }
  /// Conditions the model supports.
  func supports(_ condition: AttentionCondition) -> Bool
  /// Runs `condition` on stimuli and returns the activity of `layers` in both phases.
  func record(_ stimuli: [Stimulus], condition: AttentionCondition, layers: [String]) throws -> BatchRecording
}

/// Why a recording cannot run.
public struct RecordingError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Stacks stimulus images (one channel, repeated to `channels`) into [N, C, H, W].
func batchTensor(_ images: [[Float]], channels: Int, height: Int, width: Int) -> Tensor<Float> {
  var v = [Float]()
  v.reserveCapacity(images.count * channels * height * width)
  for img in images { for _ in 0..<channels { v += img } }
  return Tensor(shape: [images.count, channels, height, width], scalars: v)
}

/// The centroid (x, y) of an image's mass, or nil when it is empty.
func centroid(_ image: [Float], width: Int) -> (x: Double, y: Double)? {
  var m = 0.0
  var sx = 0.0
  var sy = 0.0
  for (i, v) in image.enumerated() where v > 0 {
    m += Double(v)
    sx += Double(v) * Double(i % width)
    sy += Double(v) * Double(i / width)
  }
  return m > 0 ? (sx / m, sy / m) : nil
}
