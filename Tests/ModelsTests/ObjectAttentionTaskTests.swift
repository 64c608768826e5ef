import Datasets
import Engine
import Foundation
import Models
import Testing

@Suite("Object-attention data, training and bad input")
struct ObjectAttentionTaskTests {
  @Test("two-digit composites follow the reference's construction") func composites() throws {
    var pixels = [Float](repeating: 0, count: 3 * 784)
    for i in 0..<784 where i % 7 == 0 { pixels[i] = 1 }  // digit 0: sparse strokes
    for i in 784..<(2 * 784) where i % 5 == 0 { pixels[i] = 0.6 }
    let source = MNIST(pixels: pixels, labels: [3, 8, 1])
    let task = MultiDigitMNIST(source: source, objects: 2, noise: 0.3, strength: 0.2)
    var rng = RandomGenerator(seed: 1)
    let b = task.batch(anchors: [0, 1, 2], rng: &rng)
    #expect(b.images.shape == [3, 1, 28, 42])
    let x = b.images.scalars
    let sum = zip(b.digits[0].scalars, b.digits[1].scalars).map { min(1, $0 + $1) }
    for j in x.indices {
      if sum[j] > 0 { #expect(x[j] == sum[j]) } else { #expect(x[j] >= 0 && x[j] < 0.3) }
      #expect(abs(b.targets[0].scalars[j] - (0.8 * x[j] + 0.2 * b.digits[0].scalars[j])) < 1e-6)
    }
    for i in 0..<3 { #expect(b.sources[i].contains([0, 1, 2][i])) }  // each anchor is one of its objects
    // Digits occupy columns 0-27 and 14-41.
    let d1 = b.digits[1].scalars
    for i in 0..<3 { for y in 0..<28 { for xx in 0..<14 { #expect(d1[i * 1176 + y * 42 + xx] == 0) } } }
  }

  @Test("splits are disjoint by source digit and stratified") func splits() throws {
    let data = try MNIST.defaultSubset()
    let (train, val, test) = data.split(validation: 0.1, test: 0.2, seed: 7)
    #expect(train.count == 3500 && val.count == 500 && test.count == 1000)
    func keys(_ m: MNIST) -> Set<[Float]> { Set((0..<m.count).map { Array(m.pixels[($0 * 784)..<(($0 + 1) * 784)]) }) }
    let tr = keys(train)
    let te = keys(test)
    let va = keys(val)
    #expect(tr.isDisjoint(with: te) && tr.isDisjoint(with: va) && va.isDisjoint(with: te))
    #expect((0..<10).allSatisfy { c in test.labels.filter { $0 == c }.count == 100 })
  }

  @Test("COCO-format set: filtering, masks, loading") func cocoLoader() throws {
    let (images, annotations) = try makeTinyCOCO(count: 6)
    let instances = try COCOInstances.load(annotations)
    #expect(instances.supercategories.count == 12)
    let objects = try COCOObjects(instances: instances, imageFolder: images, size: 100, strength: 0.3)
    #expect(objects.items.count == 6)  // crowd and tiny objects filtered, two large objects kept
    for item in objects.items { #expect(item.annotations.count == 2 && !item.annotations.contains { $0.isCrowd }) }
    let (img, targets, labels) = try objects.load(0)
    #expect(img.count == 3 * 100 * 100 && targets.count == 2 && labels.count == 2)
    // Outside both objects the target is (1-s) * image (grey padding 127 or background 40 scaled).
    #expect(img.allSatisfy { $0 >= 0 && $0 <= 1 })
    #expect(zip(targets[0], img).allSatisfy { $0 <= $1 + 1.5 / 255 })
    // RLE (both encodings) and polygon masks have the annotated areas.
    for a in instances.annotations where !a.isCrowd && a.area > 100 {
      let m = try a.mask(height: 48, width: 64)
      #expect(Double(m.reduce(0) { $0 + Int($1) }) == a.area, "annotation \(a.id)")
    }
  }

  @Test("COCO variant trains on the generated set (loss goes down) and evaluates") func cocoTraining() throws {
    let (images, annotations) = try makeTinyCOCO(count: 8)
    let config = ObjectAttentionConfig.coco()
    let task = try ObjectAttentionTask.coco(config: config, images: images, annotations: annotations, batchSize: 4)
    #expect(task.classWeights?.count == 12)
    let net = ObjectAttentionNet(config, seed: 2)
    var settings = ObjectAttentionTrainingConfig()
    settings.learningRate = 1e-3
    settings.phi = 50
    settings.classWeights = task.classWeights
    let trainer = ObjectAttentionTrainer(net: net, config: settings)
    let batch = try task.trainingBatches(0, 4, 1).make(0)
    var losses: [Double] = []
    for _ in 0..<8 { losses.append(try trainer.step(batch).loss) }
    print("COCO losses", losses.map { String(format: "%.3f", $0) })
    #expect(losses.last! < losses.first! * 0.8)
    let acc = try task.evaluate(net, task.test)
    #expect(acc >= 0 && acc <= 1)
  }

  @Test("MNIST CSV: values, blank lines and CRLF read; malformed lines named") func mnistCSV() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-csv-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func row(_ pixel: String, label: String = "7") -> String {
      ([pixel] + [String](repeating: "0", count: 783) + [label]).joined(separator: ",")
    }
    let good = row("255", label: " 3") + "\r\n\n" + row(" 51 ", label: "9") + "\n"
    try Data(good.utf8).write(to: URL(fileURLWithPath: dir + "/good.csv"))
    let m = try MNIST.loadCSV(dir + "/good.csv")
    #expect(m.labels == [3, 9])
    #expect(m.pixels.count == 2 * 784 && m.pixels[0] == 1 && m.pixels[784] == 0.2)
    let cases = [
      (
        row("0") + "\n" + row("0") + ",1\n",
        "line 2: expected 785 comma-separated values (784 pixels and a label), found 786"
      ),
      (row("300"), "line 1: pixel '300' is not a number in 0-255"),
      (row("x1"), "line 1: pixel 'x1' is not a number in 0-255"),
      (row(""), "line 1: pixel '' is not a number in 0-255"),
      (row("0", label: "12"), "line 1: label '12' is not a digit 0-9"),
      ("\n\n", "no digits in file"),
    ]
    for (i, (text, message)) in cases.enumerated() {
      let path = dir + "/bad\(i).csv"
      try Data(text.utf8).write(to: URL(fileURLWithPath: path))
      #expect { try MNIST.loadCSV(path) } throws: { "\($0)".contains(message) && "\($0)".contains("bad\(i).csv") }
    }
  }

  @Test("bad input gives clear errors") func badInput() throws {
    let config = ObjectAttentionConfig.mnist()
    // Input arrays of the wrong shape or dtype.
    #expect {
      try config.inputBatch(
        StoredTensor(name: "x", shape: [2, 28, 28], floats: .init(repeating: 0, count: 1568)), file: "x.npy")
    } throws: {
      "\($0)" == "x.npy: expected a float32 array [N, 1, 28, 42] or [N, 28, 42], found float32 [2, 28, 28]"
    }
    #expect {
      try config.inputBatch(
        StoredTensor(name: "x", shape: [1, 28, 42], ints: .init(repeating: 0, count: 1176)), file: "x.npy")
    } throws: {
      "\($0)".contains("found I64 [1, 28, 42]")
    }
    #expect(
      try config.inputBatch(
        StoredTensor(name: "x", shape: [2, 28, 42], floats: .init(repeating: 0, count: 2352)), file: "x.npy"
      ).shape == [2, 1, 28, 42])
    // A checkpoint of another architecture.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oa-bad-\(UUID().uuidString)").path
    let other = SmallCNN(seed: 1)
    try other.save(to: dir + "/cnn.safetensors", metadata: [:])
    #expect { try ObjectAttentionNet.load(from: dir + "/cnn.safetensors", defaults: config) } throws: {
      let t = "\($0)"
      return t.contains("cnn.safetensors")
        && t.contains("'conv1.weight': expected shape [20, 1, 4, 4], found [16, 1, 5, 5]")
        && t.contains("missing tensor 'linear_out.weight' (expected shape [10, 1600])")
        && t.contains("unexpected tensor 'fc1.weight'")
    }
    try other.save(to: dir + "/tagged.safetensors", metadata: ["ephys.model": "smoke-cnn"])
    #expect { try ObjectAttentionNet.load(from: dir + "/tagged.safetensors", defaults: config) } throws: {
      "\($0)".contains("holds a 'smoke-cnn' model")
    }
    // COCO checkpoint weights into the MNIST variant: shapes named.
    try ObjectAttentionNet(.coco(), seed: 1).saveCheckpoint(to: dir + "/coco.safetensors")
    #expect { try ObjectAttentionNet(.mnist(), seed: 0).load(from: dir + "/coco.safetensors") } throws: {
      "\($0)".contains("'conv1.weight': expected shape [20, 1, 4, 4], found [30, 3, 4, 4]")
    }
    // Empty and malformed COCO files.
    try Data().write(to: URL(fileURLWithPath: dir + "/empty.json"))
    #expect { try COCOInstances.load(dir + "/empty.json") } throws: { "\($0)".contains("empty.json: is empty") }
    try Data("{\"images\": [], \"categories\": []}".utf8).write(to: URL(fileURLWithPath: dir + "/partial.json"))
    #expect { try COCOInstances.load(dir + "/partial.json") } throws: { "\($0)".contains("has no 'annotations' list") }
    try Data("[1, 2".utf8).write(to: URL(fileURLWithPath: dir + "/broken.json"))
    #expect { try COCOInstances.load(dir + "/broken.json") } throws: { "\($0)".contains("is not a JSON object") }
    let bad =
      #"{"images":[{"id":1,"file_name":"a.png","width":4,"height":4}],"categories":[{"id":1,"name":"a","supercategory":"b"}],"annotations":[{"id":1,"image_id":2,"category_id":1,"segmentation":[[0,0,1,1,2,2]]}]}"#
    try Data(bad.utf8).write(to: URL(fileURLWithPath: dir + "/dangling.json"))
    #expect { try COCOInstances.load(dir + "/dangling.json") } throws: {
      "\($0)".contains("annotations[0] refers to unknown image 2")
    }
  }
}
