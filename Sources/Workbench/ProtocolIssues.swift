import Foundation
import Stimuli
import Yams

/// One problem in a protocol or stimulus file, located by file, line, column and key path.
public struct ProtocolIssue: Sendable, Equatable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int
  public var key: String
  public var message: String

  public var description: String { "\(file):\(line):\(column): \(key.isEmpty ? "" : key + ": ")\(message)" }
}

/// Every problem found while reading a protocol; thrown together so a user fixes them in one pass.
public struct ProtocolErrors: Error, CustomStringConvertible {
  public var issues: [ProtocolIssue]
  public var description: String { issues.map(\.description).joined(separator: "\n") }
}

/// Collects issues while walking a YAML document.
final class IssueLog {
  let file: String
  var issues: [ProtocolIssue] = []
  init(file: String) { self.file = file }

  /// Issues in file, line and column order.
  var sorted: [ProtocolIssue] { issues.sorted { ($0.file, $0.line, $0.column) < ($1.file, $1.line, $1.column) } }

  func add(_ node: Node?, _ key: String, _ message: String) {
    let mark = node?.mark
    issues.append(
      ProtocolIssue(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, key: key, message: message))
  }
}

/// Edit distance between two strings (for "did you mean" suggestions).
func levenshtein(_ a: String, _ b: String) -> Int {
  let a = Array(a)
  let b = Array(b)
  var row = Array(0...b.count)
  for i in 1...max(1, a.count) where !a.isEmpty {
    var prev = row[0]
    row[0] = i
    for j in 1...max(1, b.count) where !b.isEmpty {
      let cur = row[j]
      row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return a.isEmpty ? b.count : row[b.count]
}

/// The closest of `options` to `word`, when it is close enough to be a likely typo.
func suggestion(_ word: String, _ options: [String]) -> String? {
  let best = options.map { ($0, levenshtein(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
  guard let best, best.1 <= max(2, word.count / 3) else { return nil }
  return best.0
}

/// Typed readers over YAML nodes that log problems instead of throwing.
struct YAMLReader {
  let log: IssueLog

  /// The folder of the file being read: relative paths in it resolve against it.
  var base: URL { URL(fileURLWithPath: log.file).deletingLastPathComponent() }

  /// The entries of a mapping; unknown keys are logged with a suggestion.
  func mapping(_ node: Node, _ path: String, allowed: [String]) -> [String: Node]? {
    guard case .mapping(let m) = node else {
      log.add(node, path, "expected a mapping with keys \(allowed.joined(separator: ", "))")
      return nil
    }
    var out: [String: Node] = [:]
    for (k, v) in m {
      guard let key = k.string else {
        log.add(k, path, "keys must be strings")
        continue
      }
      let full = path.isEmpty ? key : path + "." + key
      if !allowed.contains(key) {
        let hint =
          suggestion(key, allowed).map { "; did you mean '\($0)'?" } ?? " (allowed: \(allowed.joined(separator: ", ")))"
        log.add(k, full, "unknown key\(hint)")
        continue
      }
      if out[key] != nil { log.add(k, full, "appears twice") }
      out[key] = v
    }
    return out
  }

  func require(_ m: [String: Node], _ key: String, _ path: String, in parent: Node) -> Node? {
    if let n = m[key] { return n }
    log.add(parent, path.isEmpty ? key : path + "." + key, "is required")
    return nil
  }

  func string(_ node: Node, _ path: String) -> String? {
    guard case .scalar(let s) = node else {
      log.add(node, path, "expected text, found a \(kind(node))")
      return nil
    }
    return s.string
  }

  func number(_ node: Node, _ path: String, min lo: Double? = nil, max hi: Double? = nil, exclusiveMin: Bool = false)
    -> Double?
  {
    guard case .scalar = node, let v = node.float ?? node.int.map(Double.init), v.isFinite else {
      log.add(node, path, "expected a number, found '\(node.string ?? "a \(kind(node))")'")
      return nil
    }
    if let lo, exclusiveMin ? v <= lo : v < lo {
      log.add(node, path, "must be \(exclusiveMin ? ">" : ">=") \(formatted(lo)), found \(formatted(v))")
      return nil
    }
    if let hi, v > hi {
      log.add(node, path, "must be <= \(formatted(hi)), found \(formatted(v))")
      return nil
    }
    return v
  }

  /// A number within `bounds` (finite, in the parameter's meaningful range).
  func bounded(_ node: Node, _ path: String, _ bounds: ParameterBounds) -> Double? {
    guard let v = number(node, path) else { return nil }
    guard bounds.contains(v) else {
      log.add(node, path, "\(bounds.requirement), found \(formatted(v))")
      return nil
    }
    return v
  }

  func integer(_ node: Node, _ path: String, min lo: Int? = nil, max hi: Int? = nil) -> Int? {
    guard case .scalar = node, let v = node.int else {
      log.add(node, path, "expected a whole number, found '\(node.string ?? "a \(kind(node))")'")
      return nil
    }
    if let lo, v < lo {
      log.add(node, path, "must be >= \(lo), found \(v)")
      return nil
    }
    if let hi, v > hi {
      log.add(node, path, "must be <= \(hi), found \(v)")
      return nil
    }
    return v
  }

  func bool(_ node: Node, _ path: String) -> Bool? {
    guard let b = node.bool else {
      log.add(node, path, "expected true or false")
      return nil
    }
    return b
  }

  func choice(_ node: Node, _ path: String, _ options: [String]) -> String? {
    guard let s = node.string, case .scalar = node else {
      log.add(node, path, "expected one of \(options.joined(separator: ", "))")
      return nil
    }
    guard options.contains(s) else {
      let hint = suggestion(s, options).map { "; did you mean '\($0)'?" } ?? ""
      log.add(node, path, "'\(s)' is not one of \(options.joined(separator: ", "))\(hint)")
      return nil
    }
    return s
  }

  func list(_ node: Node, _ path: String) -> [Node]? {
    guard case .sequence(let s) = node else {
      log.add(node, path, "expected a list")
      return nil
    }
    return Array(s)
  }

  func kind(_ node: Node) -> String {
    switch node {
    case .mapping: return "mapping"
    case .sequence: return "list"
    case .scalar: return "value"
    case .alias: return "alias"
    }
  }

  func formatted(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
}

/// Parses YAML text into a node tree, turning syntax errors into located issues.
func composeYAML(_ text: String, log: IssueLog) -> Node? {
  do {
    guard let node = try Yams.compose(yaml: text) else {
      log.add(nil, "", "the file is empty")
      return nil
    }
    return node
  } catch let e as YamlError {
    var line = 1
    var column = 1
    var message = "\(e)"
    switch e {
    case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
      line = mark.line
      column = mark.column
      message = "YAML syntax error: \(problem)" + (context.map { " (\($0.text))" } ?? "")
    default: break
    }
    log.issues.append(ProtocolIssue(file: log.file, line: line, column: column, key: "", message: message))
    return nil
  } catch {
    log.add(nil, "", "YAML syntax error: \(error)")
    return nil
  }
}
