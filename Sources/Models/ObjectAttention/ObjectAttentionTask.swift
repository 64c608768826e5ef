import Datasets
import Engine
import Foundation

/// A lazily built sequence of batches (images are only loaded when a batch is made).
public struct BatchSource {
  public var count: Int
  public var make: (Int) throws -> ObjectBatch
  public init(count: Int, make: @escaping (Int) throws -> ObjectBatch) {
    self.count = count
    self.make = make
  }
}

/// The data side of object-attention training and evaluation, for either variant.
public struct ObjectAttentionTask {
  /// One line describing the data.
  public var summary: String
  /// Cross-entropy class weights (COCO), or nil.
  public var classWeights: [Float]?
  /// Training batches of an epoch for (epoch, batch size, seed).
  public var trainingBatches: (Int, Int, UInt64) -> BatchSource
  public var validation: BatchSource
  public var test: BatchSource
  /// COCO reports the mean per-label accuracy, MNIST the per-object accuracy.
  public var perLabelAccuracy: Bool

  /// Accuracy of `net` over `source` (per-object, or mean per-label for COCO).
  public func evaluate(_ net: ObjectAttentionNet, _ source: BatchSource) throws -> Double {
    var result = ObjectEvaluation()
    for b in 0..<source.count { net.evaluate(try source.make(b), into: &result) }
    return perLabelAccuracy ? result.meanPerLabelAccuracy : result.accuracy
  }

  /// MNIST composites from the CSV subset (default), another CSV, or IDX files.
  public static func mnist(config: ObjectAttentionConfig, csv: String? = nil, idx: (String, String)? = nil) throws
    -> ObjectAttentionTask
  {
    let source: MNIST
    if let idx {
      source = try MNIST.loadIDX(images: idx.0, labels: idx.1)
    } else if let csv {
      source = try MNIST.loadCSV(csv)
    } else {
      source = try MNIST.defaultSubset()
    }
    let data = ObjectAttentionMNISTData(source: source, config: config)
    let val = ObjectAttentionMNISTData.evaluationBatches(data.validation)
    let test = ObjectAttentionMNISTData.evaluationBatches(data.test)
    return ObjectAttentionTask(
      summary:
        "MNIST \(config.objects)-digit composites from \(data.train.source.count) training, \(data.validation.source.count) validation and \(data.test.source.count) test digits (disjoint by source digit)",
      classWeights: nil,
      trainingBatches: { epoch, size, seed in
        let t = data.trainingBatches(epoch: epoch, batchSize: size, seed: seed)
        return BatchSource(count: t.count, make: t.make)
      },
      validation: BatchSource(count: val.count) { val[$0] }, test: BatchSource(count: test.count) { test[$0] },
      perLabelAccuracy: false)
  }

  /// COCO images with two objects, split 70/15/15 by image (seed 7), class-weighted.
  public static func coco(config: ObjectAttentionConfig, images: String, annotations: String, batchSize: Int = 32)
    throws -> ObjectAttentionTask
  {
    let instances = try COCOInstances.load(annotations)
    let objects = try COCOObjects(
      instances: instances, imageFolder: images, size: config.inputHeight, strength: config.strength,
      objects: config.objects)
    guard objects.items.count >= 3 else {
      throw DatasetError(
        "only \(objects.items.count) images have \(config.objects) large non-overlapping objects; need at least 3",
        file: annotations)
    }
    guard objects.classes == config.classes else {
      throw DatasetError(
        "has \(objects.classes) supercategories; the COCO model expects \(config.classes)", file: annotations)
    }
    var rng = RandomGenerator(seed: 7)
    let order = rng.permutation(objects.items.count)
    let nTrain = max(1, Int(Double(order.count) * 0.7))
    let nVal = max(1, (order.count - nTrain) / 2)
    let train = Array(order[..<nTrain])
    let val = Array(order[nTrain..<(nTrain + nVal)])
    let test = Array(order[(nTrain + nVal)...])
    func source(_ idx: [Int], _ size: Int) -> BatchSource {
      BatchSource(count: (idx.count + size - 1) / size) { b in
        let r = try objects.batch(Array(idx[(b * size)..<min(idx.count, (b + 1) * size)]))
        return ObjectBatch(images: r.images, targets: r.targets, labels: r.labels)
      }
    }
    return ObjectAttentionTask(
      summary:
        "COCO: \(objects.items.count) images with \(config.objects) objects (\(train.count) train, \(val.count) validation, \(test.count) test), \(objects.classes) supercategories",
      classWeights: objects.classWeights(train),
      trainingBatches: { epoch, size, seed in
        var r = RandomGenerator(seed: seed &* 1_000_003 &+ UInt64(epoch))
        return source(r.permutation(train.count).map { train[$0] }, size)
      },
      validation: source(val, batchSize), test: source(test, batchSize), perLabelAccuracy: true)
  }
}
