import Analysis
import Datasets
import Engine
import Foundation
import ImageIO
import Models
import Recording
import Reports
import Stimuli
import Workbench

/// One reader under fuzz: the file kind it reads and the whole path from file to result that a
/// user's command takes (parse, validate, and what follows that can trap on odd values).
public struct FuzzTarget: Sendable {
  /// Name used on the command line and in the corpus (`<corpus>/<name>/`).
  public var name: String
  /// File extension of the inputs (written as `case.<ext>`).
  public var fileExtension: String
  /// Whether the inputs are text (favours text-aware mutations).
  public var text: Bool
  /// Whether the inputs are zip archives (half the mutants get their stored members' CRCs fixed up,
  /// so the mutation reaches the reader inside the archive).
  public var zipped = false
  /// Reads the file at the path inside the work folder.
  public var read: @Sendable (_ path: String, _ work: String, _ caseIndex: Int) throws -> Void

  /// Every reader the harness knows, in the order `ephys fuzz` runs them.
  public static let all: [FuzzTarget] = [
    protocolFile, stimulusFile, csvTable, npy, npz, torch, safetensors, coco, voc, onnx,
  ]

  /// `ephys run`'s reading of a protocol: validation, the stimulus sweep materialised on the model's
  /// canvas, the first and last stimulus rendered, the montage, and the condition table of small sweeps.
  public static let protocolFile = FuzzTarget(name: "protocol", fileExtension: "yaml", text: true) { path, _, _ in
    let p = try ProtocolFile.load(path)
    let c = ProtocolFile.inputCanvas(p.architecture, weights: p.weights, stimulus: p.stimulus)
    let spec = try ProtocolRunner.materialize(p.stimulus, height: c.height, width: c.width, seed: p.seed)
    try renderSample(spec)
  }

  /// `ephys stimuli`'s reading of a stimulus file (canvas from the file, else 28 x 42).
  public static let stimulusFile = FuzzTarget(name: "stimulus", fileExtension: "yaml", text: true) { path, _, _ in
    let r = try ProtocolFile.loadStimulus(path)
    let spec = try ProtocolRunner.materialize(
      r, height: r.canvas?.height ?? 28, width: r.canvas?.width ?? 42, seed: 0)
    try renderSample(spec)
  }

  /// `ephys analyze`: the table read and every unit's statistics (tuning fits on numeric
  /// conditions); every 25th readable table also through the report into an output folder.
  public static let csvTable = FuzzTarget(name: "csv", fileExtension: "csv", text: true) { path, work, index in
    let obs = try readUnitTable(path)
    guard obs.count <= 64 else { return }  // a mutant that repeats rows thousands of times: reading was the test
    if index % 25 == 0 {
      let out = work + "/analysis"
      let temporary = try OutputFolder.begin(out)
      defer { OutputFolder.abandon(temporary) }
      _ = try writeAnalysis(
        obs, into: temporary, context: ReportContext(title: "fuzz", summaryLines: ["table: \(path)"]), seed: 1,
        tuning: .gaussian)
      try OutputFolder.commit(temporary, to: out)
    } else {
      _ = analyzeUnits(obs, seed: 1, tuning: .gaussian)
    }
  }

  /// `ephys extract --input`: an .npy array.
  public static let npy = FuzzTarget(name: "npy", fileExtension: "npy", text: false) { path, _, _ in
    _ = try NPY.read(path)
  }

  /// Weights files as `ephys run`, `evaluate` and `inspect` read them: the file, its metadata, and the
  /// tensors loaded into the object-attention network (shape checks).
  static func weights(_ name: String, _ ext: String) -> FuzzTarget {
    var target = FuzzTarget(name: name, fileExtension: ext, text: false) { path, _, _ in
      _ = try readTensorFile(path)
      _ = try ObjectAttentionNet.load(from: path, defaults: .mnist())
    }
    target.zipped = ext != "safetensors"
    return target
  }
  public static let npz = weights("npz", "npz")
  public static let torch = weights("pt", "pt")
  public static let safetensors = weights("safetensors", "safetensors")

  /// A COCO instances file: parsed, and the masks of its first 50 annotations rasterised.
  public static let coco = FuzzTarget(name: "coco", fileExtension: "json", text: true) { path, _, _ in
    let instances = try COCOInstances.load(path)
    for a in instances.annotations.prefix(50) {
      guard let image = instances.images[a.imageID], image.height * image.width <= 1 << 22 else { continue }
      do { _ = try a.mask(height: image.height, width: image.width) } catch let e as DatasetError {
        throw DatasetError(e.message, file: path)  // as COCOObjects reports it: with the file
      }
    }
  }

  /// A Pascal VOC annotation file (`ephys pointing-game --data voc:ROOT`): parsed, and every class's
  /// box union rasterised (images up to 4 M pixels).
  public static let voc = FuzzTarget(name: "voc", fileExtension: "xml", text: true) { path, _, _ in
    let a = try VOCAnnotation.load(path)
    guard a.width * a.height <= 1 << 22 else { return }
    for name in Set(a.objects.map(\.name)) { _ = a.mask(of: name) }
  }

  /// `ephys inspect m.onnx` and `--model onnx`: the model read and checked, run on zeros at its input
  /// size, its receptive fields read off the graph and its recordable layers listed.
  public static let onnx = FuzzTarget(name: "onnx", fileExtension: "onnx", text: false) { path, _, _ in
    _ = try ONNXModel.inspection(path)
  }

  /// Renders what a run shows of a sweep before recording: first and last stimulus, the montage,
  /// and the condition table when the sweep is small.
  static func renderSample(_ spec: StimulusSpec) throws {
    _ = spec.stimulus(0)
    _ = spec.stimulus(spec.count - 1)
    _ = ProtocolRunner.stimulusMontage(spec)
    if spec.count <= 2_000 { _ = spec.conditionTableCSV() }
  }
}
