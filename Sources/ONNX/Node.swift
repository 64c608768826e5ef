import Engine
import Foundation

/// One node of an ONNX graph as the executor runs it: operator, named inputs (empty: an optional input
/// left out) and outputs, and attributes read with type checks whose errors name the node.
struct Node: Sendable {
  /// Position in the file's node list.
  let index: Int
  /// The node's name, or "#index" when the exporter left it empty.
  let name: String
  let opType: String
  let domain: String
  let inputs: [String]
  let outputs: [String]
  let attributes: [String: Onnx_AttributeProto]

  init(_ proto: Onnx_NodeProto, index: Int) {
    self.index = index
    name = proto.name.isEmpty ? "#\(index)" : proto.name
    opType = proto.opType
    domain = proto.domain
    inputs = proto.input
    outputs = proto.output
    var a: [String: Onnx_AttributeProto] = [:]
    for attribute in proto.attribute where a[attribute.name] == nil { a[attribute.name] = attribute }
    attributes = a
  }

  /// "node 'NAME' (OP)", for errors.
  var label: String { "node '\(name)' (\(opType))" }

  /// An error about this node.
  func error(_ message: String) -> CheckpointError { CheckpointError("\(label): \(message)") }

  /// Integer attribute `key`, or `fallback` when absent.
  func int(_ key: String, _ fallback: Int) throws -> Int {
    guard let a = attributes[key] else { return fallback }
    guard a.type == .int || (a.type == .undefined && a.hasI) else { throw error("attribute \(key) is not an integer") }
    guard abs(a.i) < 1 << 40 else { throw error("attribute \(key) = \(a.i) is out of range") }
    return Int(a.i)
  }

  /// Integer-list attribute `key`, nil when absent. With `clamping`, values beyond +-2^40 are clamped
  /// (Slice's starts and ends use INT64_MAX for "to the end"); otherwise they are an error.
  func ints(_ key: String, clamping: Bool = false) throws -> [Int]? {
    guard let a = attributes[key] else { return nil }
    guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else {
      throw error("attribute \(key) is not a list of integers")
    }
    if clamping { return a.ints.map { Int(min(max($0, -(1 << 40)), 1 << 40)) } }
    guard a.ints.allSatisfy({ abs($0) < 1 << 40 }) else { throw error("attribute \(key) has values out of range") }
    return a.ints.map { Int($0) }
  }

  /// Float attribute `key`, or `fallback` when absent.
  func float(_ key: String, _ fallback: Float) throws -> Float {
    guard let a = attributes[key] else { return fallback }
    guard a.type == .float || (a.type == .undefined && a.hasF) else { throw error("attribute \(key) is not a float") }
    return a.f
  }

  /// Float-list attribute `key`, nil when absent.
  func floats(_ key: String) throws -> [Float]? {
    guard let a = attributes[key] else { return nil }
    guard a.type == .floats || (a.type == .undefined && !a.floats.isEmpty) else {
      throw error("attribute \(key) is not a list of floats")
    }
    return a.floats
  }

  /// String attribute `key`, or `fallback` when absent.
  func string(_ key: String, _ fallback: String) throws -> String {
    guard let a = attributes[key] else { return fallback }
    guard a.type == .string || (a.type == .undefined && a.hasS), let s = String(data: a.s, encoding: .utf8) else {
      throw error("attribute \(key) is not a string")
    }
    return s
  }

  /// Tensor attribute `key`, nil when absent.
  func tensor(_ key: String) throws -> Onnx_TensorProto? {
    guard let a = attributes[key] else { return nil }
    guard a.type == .tensor || (a.type == .undefined && a.hasT) else { throw error("attribute \(key) is not a tensor") }
    return a.t
  }
}
