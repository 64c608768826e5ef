import Foundation
import Testing

@testable import Analysis

@Suite("CSV tables per RFC 4180")
struct CSVReaderTests {
  func table(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("ephys-\(UUID().uuidString).csv").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test("a quoted field with a comma stays one field (it used to shift the columns silently)") func quotedComma() throws
  {
    let path = try table(
      "unit,condition,attended,unattended\n\"conv1[0,1,2]\",a,2.5,1.5\n\"conv1[0,1,2]\",b,3,1\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let obs = try readUnitTable(path)
    #expect(obs.map(\.unit) == ["conv1[0,1,2]"])
    #expect(obs[0].attended == [2.5, 3] && obs[0].unattended == [1.5, 1])
  }

  @Test("escaped quotes, embedded line breaks and CRLF; line numbers count physical lines") func records() throws {
    let records = try parseCSV("a,\"say \"\"hi\"\"\",c\r\n\"two\nlines\",x,y\r\n\n last , 1 ,2\n", file: "t.csv")
    #expect(records.map(\.fields) == [["a", "say \"hi\"", "c"], ["two\nlines", "x", "y"], ["last", "1", "2"]])
    #expect(records.map(\.line) == [1, 2, 5])
  }

  @Test(
    "what RFC 4180 does not allow is refused with the line",
    arguments: [
      ("a,b\n\"open,c\n", "t.csv:2: a quoted field is never closed"),
      ("a,b\nx\"y,c\n", "t.csv:2: a quote inside an unquoted field"),
      ("a,b\n\"x\"y,c\n", "t.csv:2: text after a closing quote"),
    ])
  func refusals(_ text: String, _ expected: String) {
    #expect {
      _ = try parseCSV(text, file: "t.csv")
    } throws: { ($0 as? TableError)?.message.hasPrefix(expected) == true }
  }

  @Test("a row with more cells than the header is an error naming its line") func extraCells() throws {
    let path = try table("unit,condition,attended,unattended\nu,a,1,2,3\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect { _ = try readUnitTable(path) } throws: {
      ($0 as? TableError)?.message.contains(":2: expected 4 cells") == true
    }
  }
}
