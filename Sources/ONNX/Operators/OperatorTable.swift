import Engine
import Foundation

/// What an operator sees when it runs: its node, the model's default-domain opset, and its input
/// values in order (nil: an optional input left out).
struct OperatorCall {
  let node: Node
  let opset: Int
  let inputs: [GraphValue?]
  /// The model's folder (a Constant's tensor may keep its data in an external file there).
  let folder: URL

  /// Input `i`, or an error naming the node when it is missing.
  func input(_ i: Int) throws -> GraphValue {
    guard i < inputs.count, let v = inputs[i] else { throw node.error("input \(i + 1) is missing") }
    return v
  }

  /// Input `i` when given.
  func optional(_ i: Int) -> GraphValue? { i < inputs.count ? inputs[i] : nil }

  /// Float input `i`.
  func float(_ i: Int) throws -> Tensor<Float> {
    switch try input(i) {
    case .float(let t): return t
    case let v: throw node.error("input \(i + 1) is \(v.kind), expected float")
    }
  }

  /// Integer (or bool) input `i` as values, with its shape.
  func integers(_ i: Int) throws -> IntTensor {
    switch try input(i) {
    case .int(let t), .bool(let t): return t
    case .float(let t):
      guard let v = GraphValue.float(t).integers else { throw node.error("input \(i + 1) has non-integral values") }
      return IntTensor(shape: t.shape, values: v)
    }
  }

  /// An error about this node.
  func error(_ message: String) -> Error { node.error(message) }
}

/// An operator's forward computation: the output values from an `OperatorCall`. Float outputs are
/// built from engine ops (or `Tensor.customOp` with a pullback), so gradients flow through every one.
typealias OperatorKernel = @Sendable (OperatorCall) throws -> [GraphValue]

/// The operators the executor implements (default domain, opsets 7 to 17), by op type. Each family of
/// operators lives in its own file and adds its entries here.
enum OperatorTable {
  static let kernels: [String: OperatorKernel] = {
    var table: [String: OperatorKernel] = [:]
    for family in [
      convolutionOperators, activationOperators, arithmeticOperators, linearOperators, shapeOperators,
      resizeOperators,
    ] {
      table.merge(family) { a, _ in a }
    }
    return table
  }()

  /// Ops whose outputs depend on their inputs' shapes only, never on the values: a subgraph that
  /// starts from them is folded once per input shape.
  static let shapeOnly: Set<String> = ["Shape", "Size"]
}
