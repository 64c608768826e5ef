import Engine
import Foundation
import SwiftProtobuf

/// An ONNX model file as read from disk: the decoded protobuf, the folder that external-data
/// locations are resolved in, and the operator-set version of the default domain.
struct ModelFile {
  let path: String
  let proto: Onnx_ModelProto
  /// The model's folder (symbolic links resolved): external data must lie inside it.
  let folder: URL
  /// The version of the default ("" or "ai.onnx") operator set the graph was exported with.
  let opset: Int

  /// Operator-set versions the executor implements, per the ONNX operator changelog.
  static let supportedOpsets = 7...17

  /// Reads and decodes `path`. The file's size is checked against the read budget (and protobuf's
  /// 2 GiB message limit) before it is read; errors name the file and say what was found.
  init(path: String) throws {
    self.path = path
    let url = URL(fileURLWithPath: path)
    let attributes: [FileAttributeKey: Any]
    do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
      throw CheckpointError("cannot read the ONNX model: no such file", file: path)
    }
    guard (attributes[.type] as? FileAttributeType) != .typeDirectory else {
      throw CheckpointError("is a folder, not an ONNX model file", file: path)
    }
    let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    guard size > 0 else { throw CheckpointError("empty file, not an ONNX model", file: path) }
    guard size < 1 << 31 else {
      throw CheckpointError(
        "\(ReadBudget.describe(size)) exceeds protobuf's 2 GiB limit; export with external data (onnx.save_model(..., save_as_external_data=True))",
        file: path)
    }
    do { try ReadBudget.check(size, "reading the ONNX model") } catch let e as CheckpointError { throw e.inFile(path) }
    let data: Data
    do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
      throw CheckpointError("cannot read the ONNX model: \(error.localizedDescription)", file: path)
    }
    var options = BinaryDecodingOptions()
    options.messageDepthLimit = 64
    do {
      proto = try Onnx_ModelProto(serializedBytes: data, extensions: nil, partial: false, options: options)
    } catch {
      throw CheckpointError(
        "not an ONNX model: the protobuf does not decode (\(Self.describe(error))); truncated or another format?",
        file: path)
    }
    guard proto.hasGraph else { throw CheckpointError("an ONNX model without a graph", file: path) }
    let defaultSets = proto.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
    guard let version = defaultSets.map(\.version).max() else {
      throw CheckpointError(
        "the model imports no default-domain operator set (opset_import is empty or names other domains only)",
        file: path)
    }
    guard Self.supportedOpsets.contains(Int(clamping: version)) else {
      throw CheckpointError(
        "operator set \(version) is not supported (this reader implements opsets \(Self.supportedOpsets.lowerBound) to \(Self.supportedOpsets.upperBound); re-export with torch.onnx.export(..., opset_version=17))",
        file: path)
    }
    opset = Int(version)
    folder = url.deletingLastPathComponent().resolvingSymlinksInPath().standardizedFileURL
  }

  /// A decoding error in words.
  static func describe(_ error: Error) -> String {
    switch error {
    case BinaryDecodingError.truncated: return "the data ends inside a field"
    case BinaryDecodingError.malformedProtobuf: return "malformed field data"
    case BinaryDecodingError.invalidUTF8: return "a string that is not UTF-8"
    case BinaryDecodingError.messageDepthLimit: return "nested deeper than 64 messages"
    default: return "\(error)"
    }
  }
}
