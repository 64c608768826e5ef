import Datasets
import Engine
import Foundation
import ImageIO
import Models
import Stimuli

/// The images a feature-attention study draws from: `fit` (values and detectors are measured on
/// these) and `test` (test images and the gain-model test are built from these); disjoint.
public struct FeatureStudyImages: Sendable {
  public var fit: CategoryImages
  public var test: CategoryImages
  /// Where they came from, for the summary.
  public var source: String

  /// The MNIST subset's digits as whole 56 x 56 canvases: the 80% training split for fitting, the 20%
  /// held-out split (the split every digit trainer holds out: `split(testFraction: 0.2, seed: 7)`) for testing.
  public static func digits(data: String?) throws -> FeatureStudyImages {
    let all = try data.map(MNIST.loadCSV) ?? MNIST.defaultSubset()
    let (train, test) = all.split(testFraction: 0.2, seed: 7)
    return FeatureStudyImages(
      fit: DigitCanvas.categories(train), test: DigitCanvas.categories(test),
      source:
        "MNIST subset (\(all.count) digits; \(train.count) for values and detectors, \(test.count) held out for tests)")
  }

  /// An image folder with one subfolder per category (torchvision's ImageFolder layout; PNG or JPEG
  /// files), each image prepared by the model's evaluation transform at `side` and mapped back to
  /// [0, 1]; per category a seeded shuffle puts `fitFraction` of the images in `fit`, the rest in
  /// `test`. Needs at least 2 categories and 2 images in each.
  public static func folder(
    _ dir: String, entry: ModelEntry, side: Int, fitFraction: Double = 0.6, limit: Int = 1000, seed: UInt64
  ) throws -> FeatureStudyImages {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
      throw FeatureStudyError("\(dir): no such folder (expected one subfolder of images per category)")
    }
    let names = try fm.contentsOfDirectory(atPath: dir).filter { name in
      var d: ObjCBool = false
      return !name.hasPrefix(".") && fm.fileExists(atPath: dir + "/" + name, isDirectory: &d) && d.boolValue
    }.sorted()
    guard names.count >= 2 else {
      throw FeatureStudyError("\(dir): needs at least 2 category subfolders, found \(names.count)")
    }
    var sized = entry
    sized.height = side
    sized.width = side
    var rng = RandomGenerator(seed: seed)
    var fit: [[[Float]]] = []
    var test: [[[Float]]] = []
    for name in names {
      let files = try fm.contentsOfDirectory(atPath: dir + "/" + name).filter {
        ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased())
      }.sorted().prefix(limit)
      guard files.count >= 2 else {
        throw FeatureStudyError("\(dir)/\(name): needs at least 2 PNG or JPEG images, found \(files.count)")
      }
      var images: [[Float]] = []
      for f in files {
        let path = dir + "/" + name + "/" + f
        let image: RasterImage
        do { image = try RasterImage.read(path) } catch { throw FeatureStudyError("\(path): \(error)") }
        // Back from the model's normalisation to [0, 1]: test images are composed before normalising.
        var planes = sized.preprocess(image)
        let plane = side * side
        for c in 0..<entry.channels {
          let (mean, std) = entry.normalization.stats(channel: c)
          for i in (c * plane)..<((c + 1) * plane) { planes[i] = planes[i] * std + mean }
        }
        images.append(planes)
      }
      let order = rng.permutation(images.count).map { images[$0] }
      let cut = min(order.count - 1, max(1, Int(Double(order.count) * fitFraction)))
      fit.append(Array(order[..<cut]))
      test.append(Array(order[cut...]))
    }
    return FeatureStudyImages(
      fit: CategoryImages(names: names, images: fit, channels: entry.channels, side: side),
      test: CategoryImages(names: names, images: test, channels: entry.channels, side: side),
      source:
        "\(dir) (\(names.count) categories; \(fit.map(\.count).reduce(0, +)) images for values and detectors, \(test.map(\.count).reduce(0, +)) for tests)"
    )
  }
}

/// Why a feature-attention study cannot run.
public struct FeatureStudyError: Error, CustomStringConvertible {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}
