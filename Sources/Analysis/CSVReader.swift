/// One record of a CSV file: its fields and the line it starts on (1-based).
public struct CSVRecord: Sendable, Equatable {
  public var line: Int
  public var fields: [String]
}

/// Splits CSV text into records per RFC 4180: fields separated by commas, records by LF or CRLF; a
/// field in double quotes may hold commas, line breaks and doubled quotes (`""` is one `"`).
/// Unquoted fields are trimmed of spaces and tabs; spaces around a quoted field are allowed. What
/// RFC 4180 does not allow is refused loudly, naming the line: a quote inside an unquoted field,
/// text after a closing quote, a quoted field never closed. Blank lines are skipped.
public func parseCSV(_ text: String, file: String) throws -> [CSVRecord] {
  let bytes = Array(text.utf8)
  let quote = UInt8(ascii: "\"")
  let comma = UInt8(ascii: ",")
  let lf = UInt8(ascii: "\n")
  let cr = UInt8(ascii: "\r")
  func isBlank(_ b: UInt8) -> Bool { b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
  func fail(_ line: Int, _ message: String) -> TableError { TableError(message: "\(file):\(line): \(message)") }

  var records: [CSVRecord] = []
  var fields: [String] = []
  var line = 1
  var recordLine = 1
  var i = 0
  var atRecordStart = true
  while i <= bytes.count {
    if atRecordStart {
      recordLine = line
      atRecordStart = false
    }
    // One field starting at i.
    var j = i
    while j < bytes.count && isBlank(bytes[j]) { j += 1 }
    var field: [UInt8] = []
    if j < bytes.count && bytes[j] == quote {
      let opened = line
      j += 1
      while true {
        guard j < bytes.count else { throw fail(opened, "a quoted field is never closed (a missing \")") }
        let b = bytes[j]
        if b == quote {
          if j + 1 < bytes.count && bytes[j + 1] == quote {
            field.append(quote)
            j += 2
            continue
          }
          j += 1
          break
        }
        if b == lf { line += 1 }
        field.append(b)
        j += 1
      }
      while j < bytes.count && isBlank(bytes[j]) { j += 1 }
      if j < bytes.count && bytes[j] != comma && bytes[j] != lf && !(bytes[j] == cr) {
        throw fail(line, "text after a closing quote (a field is either quoted whole or not at all)")
      }
    } else {
      let start = i
      while j < bytes.count && bytes[j] != comma && bytes[j] != lf && bytes[j] != cr {
        if bytes[j] == quote {
          throw fail(line, "a quote inside an unquoted field (quote the whole field and double inner quotes)")
        }
        j += 1
      }
      var a = start
      var b = j
      while a < b && isBlank(bytes[a]) { a += 1 }
      while b > a && isBlank(bytes[b - 1]) { b -= 1 }
      field = Array(bytes[a..<b])
    }
    fields.append(String(decoding: field, as: UTF8.self))
    // What ends the field: a comma (next field), a line break or the end (end of record).
    if j < bytes.count && bytes[j] == comma {
      i = j + 1
      continue
    }
    if j < bytes.count && bytes[j] == cr {
      j += 1
      if j < bytes.count && bytes[j] != lf { throw fail(line, "a carriage return not followed by a line feed") }
    }
    let blank = fields.count == 1 && fields[0].isEmpty
    if !blank { records.append(CSVRecord(line: recordLine, fields: fields)) }
    fields = []
    atRecordStart = true
    line += 1
    i = j + 1
  }
  return records
}
