import ArgumentParser
import Engine
import Foundation
import ImageIO
import Models

/// `ephys extract`: layer activations of a model for an input array or a folder of images, as NPZ
/// (thingsvision-style).
struct Extract: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Record layer activations of a model for a float32 input array or image files and write them as .npz.",
    discussion: """
      Every model of `ephys models`. Feedforward networks (the torchvision zoo, smoke-cnn): the outputs of the
      named modules (PyTorch names, e.g. features.29 or layer3.1) as [N, C, H, W] ([N, F] after flattening)
      and `logits`. Object attention: the glimpse dynamics; per requested layer the post-ReLU (pre-pool) conv
      output at the last pass of each glimpse as [N, glimpses, C, H, W], plus logits [N, glimpses, classes] and
      gated_input [N, glimpses, C, H, W] (settings: --glimpses, --passes, --strength, --theta).
      Input: --input X.npy, float32 [N, C, H, W] already normalised as the model expects (ImageNet mean/std
      for the zoo), of the model's size or, for models that take any size, at least its minimum; or --images
      DIR, PNG and JPEG files in file-name order, prepared by the model's evaluation transform (shorter side
      resized with antialiased bilinear filtering to the model's side divided by its crop fraction, 256 for
      the zoo; central crop; grey or RGB; normalised). The order is written to OUT.files.txt.
      """)

  @Option(help: "A model of `ephys models` (object-attention-mnist, vgg16, resnet50, ...), or onnx.") var model: String
  @Option(
    help:
      "Weights: safetensors, PyTorch .pt/.pth state_dict or .npz; 'random' for the default initialisation; the .onnx file for --model onnx."
  )
  var weights: String
  @Option(help: "Input .npy (float32, already normalised).") var input: String?
  @Option(help: "A folder of PNG/JPEG images (the model's preprocessing is applied).") var images: String?
  @Option(help: "Comma-separated layer names.") var layers = "conv1,conv2"
  @Option(help: "Output .npz.") var out: String
  @Option(help: "Glimpses (object attention).") var glimpses: Int?
  @Option(help: "Passes per glimpse (object attention).") var passes: Int?
  @Option(help: "Gating strength s (object attention; default: the checkpoint's).") var strength: Float?
  @Option(help: "IOR threshold theta (object attention).") var theta: Float?
  @Option(help: "Images per batch.") var batch = 256
  @Option(
    help:
      "Input normalisation of an imported network (--model onnx): imagenet, none or MEAN,.../STD,... (default: imagenet for 3 channels, else none)."
  )
  var normalization: String?

  func validate() throws {
    guard (input == nil) != (images == nil) else { throw ValidationError("give either --input or --images") }
    guard batch > 0 else { throw ValidationError("--batch must be positive") }
  }

  func run() throws {
    let names = layers.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !names.isEmpty else { throw ValidationError("--layers names no layer") }
    guard weights == "random" || FileManager.default.fileExists(atPath: weights) else {
      throw ValidationError("no such weights file: \(weights) (or 'random' for the default initialisation)")
    }
    guard let entry = try ModelRegistry.entry(model, file: weights, normalization: normalizationOption(normalization))
    else {
      throw ValidationError("unknown --model '\(model)'; models: \(ModelRegistry.allNames.joined(separator: ", "))")
    }
    let x: Tensor<Float>
    if let input {
      x = try entry.inputBatch(NPY.read(input), file: input)
    } else {
      x = try imageBatch(images!, entry: entry)
    }
    var settings: [String: Double] = [:]
    if let glimpses { settings["glimpses"] = Double(glimpses) }
    if let passes { settings["passes"] = Double(passes) }
    if let strength { settings["strength"] = Double(strength) }
    if let theta { settings["theta"] = Double(theta) }
    var bar = ProgressBar(total: x.shape[0], label: "extract", unit: "img")
    try entry.extract(
      ExtractionRequest(
        weights: weights, input: x, layers: names, out: out, batchSize: batch, settings: settings,
        progress: { bar.update($0, items: $0) }))
    say("wrote \(out)")
  }

  /// The PNG and JPEG files of `dir` in file-name order, each prepared by the model's evaluation
  /// transform; writes the order next to the output.
  func imageBatch(_ dir: String, entry: ModelEntry) throws -> Tensor<Float> {
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
      ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased())
    }.sorted()
    guard !files.isEmpty else { throw ValidationError("\(dir) holds no .png, .jpg or .jpeg files") }
    var values: [Float] = []
    for f in files { values += entry.preprocess(try RasterImage.read(dir + "/" + f)) }
    try writeFileAtomically(Array((files.joined(separator: "\n") + "\n").utf8), to: out + ".files.txt")
    return Tensor(shape: [files.count, entry.channels, entry.height, entry.width], scalars: values)
  }
}
