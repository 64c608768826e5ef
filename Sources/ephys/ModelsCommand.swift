import ArgumentParser
import Models

/// `ephys models`: the model registry.
struct Models: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models",
    abstract: "List the architectures Ephys can build, load and record from; with a name, its layers.",
    discussion: """
      Without a name: one line per model (input channels x height x width, normalisation, its own attention
      conditions). With a name: every recordable layer by its PyTorch module name, what it is, its output map
      (channels x height x width) and the receptive field of its central unit in input pixels, computed from
      the layer chain for the model's input size or --size.
      """)

  @Argument(help: "A model name (see the list).") var name: String?
  @Option(help: "Input side in pixels for the layer table (models that take any size).") var size: Int?

  func run() throws {
    guard let name else {
      for e in ModelRegistry.entries {
        let normalisation = e.normalization == .imagenet ? "ImageNet mean/std" : "[0, 1]"
        let conditions = e.conditions.isEmpty ? "" : "; own conditions: " + e.conditions.joined(separator: ", ")
        say(
          "\(e.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(e.channels)x\(e.height)x\(e.width)\(e.variableSize ? " (any size >= \(e.minimumSide))" : "")  input \(normalisation)\(conditions)"
        )
        say("    \(e.summary)")
      }
      for importer in ModelRegistry.importers {
        say("\(importer.name.padding(toLength: 24, withPad: " ", startingAt: 0)) read from a file (--weights FILE)")
        say("    \(importer.summary); `ephys inspect FILE` lists its layers")
      }
      return
    }
    if ModelRegistry.importers.contains(where: { $0.name == name }) {
      throw ValidationError("\(name) networks are read from their files: `ephys inspect FILE` lists the layers")
    }
    guard let entry = ModelRegistry.entry(name) else {
      throw ValidationError("unknown model '\(name)'; models: \(ModelRegistry.allNames.joined(separator: ", "))")
    }
    if let size {
      guard entry.variableSize else {
        throw ValidationError("\(name) takes only \(entry.height)x\(entry.width) inputs")
      }
      guard size >= entry.minimumSide, size <= 4096 else {
        throw ValidationError("--size must be \(entry.minimumSide) to 4096 for \(name)")
      }
    }
    let h = size ?? entry.height
    let w = size ?? entry.width
    say("\(entry.name): \(entry.summary); input \(entry.channels)x\(h)x\(w)")
    let table = entry.layerTable(height: h, width: w)
    // The layer column fits the longest name (nested modules such as `activation.features.10`).
    let column = max(16, (table.map(\.layer.count).max() ?? 0) + 2)
    say("layer".padding(toLength: column, withPad: " ", startingAt: 0) + "output map      field (px)  what")
    for row in table {
      let map = row.height.map { "\(row.channels)x\($0)x\(row.width!)" } ?? "does not fit"
      let field = row.fieldRows.map { "\($0)x\(row.fieldCols!)" } ?? "-"
      say(
        row.layer.padding(toLength: column, withPad: " ", startingAt: 0)
          + map.padding(toLength: 16, withPad: " ", startingAt: 0)
          + field.padding(toLength: 12, withPad: " ", startingAt: 0) + row.description)
    }
  }
}
