import Engine
import ModelInterface

/// One recordable layer of a model at a given input size: its output map and the receptive field of
/// its central unit.
public struct LayerRow: Sendable, Equatable {
  public var layer: String
  public var description: String
  /// Output channels (or features), height and width; nil where the layer chain does not fit the input.
  public var channels: Int
  public var height, width: Int?
  /// Input rows and columns the central unit sees (clamped to the input).
  public var fieldRows, fieldCols: Int?
}

extension ModelEntry {
  /// The recordable layers at an input of `height x width` (default: the model's own), from the
  /// layer chain alone (no forward pass): output size from the window steps, channels from the last
  /// conv or linear layer up to the layer, receptive field of the central unit.
  public func layerTable(height: Int? = nil, width: Int? = nil) -> [LayerRow] {
    let module = make()
    let modules = module.namedModules()
    return layers.map { l in
      var channels = 0
      if let at = modules.firstIndex(where: { $0.name == l.name }) {
        var end = at
        while end + 1 < modules.count && modules[end + 1].name.hasPrefix(l.name + ".") { end += 1 }
        for (_, m) in modules[...end] {
          if let c = m as? Conv2d { channels = c.weight.shape[0] }
          if let f = m as? Linear { channels = f.weight.shape[0] }
        }
      }
      let map = try? fields(l.name, height: height, width: width)
      let size = map?.outputSize
      let field = size.flatMap { s in map?.field(y: s.height / 2, x: s.width / 2) }
      return LayerRow(
        layer: l.name, description: l.description, channels: channels, height: size?.height, width: size?.width,
        fieldRows: field?.rows.count, fieldCols: field?.cols.count)
    }
  }
}
