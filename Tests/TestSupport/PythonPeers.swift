import Foundation

/// Whether the system's python3 (/usr/bin/python3, where Debian's python3-torch, python3-torchvision
/// and python3-onnx install) can import `modules` ("torch, torchvision").
public func systemPythonImports(_ modules: String) -> Bool {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
  p.arguments = ["-c", "import \(modules)"]
  p.standardError = FileHandle.nullDevice
  guard (try? p.run()) != nil else { return false }
  p.waitUntilExit()
  return p.terminationStatus == 0
}

/// Whether a test that needs `modules` in the system python can run (`present`), and when it cannot,
/// whether that is allowed: only when EPHYS_SKIP_TORCHVISION=1 says why they are absent (the test
/// command installs them, so elsewhere their absence fails the test).
public func pythonPeer(_ modules: String) -> (present: Bool, absenceAllowed: Bool) {
  (systemPythonImports(modules), ProcessInfo.processInfo.environment["EPHYS_SKIP_TORCHVISION"] == "1")
}

/// ||a - b|| / ||b|| in Double, the parity tests' error measure (infinite when the counts differ).
public func normwiseError(_ a: [Float], _ b: [Float]) -> Double {
  guard a.count == b.count else { return .infinity }
  var d = 0.0
  var n = 0.0
  for (x, y) in zip(a, b) {
    d += Double(x - y) * Double(x - y)
    n += Double(y) * Double(y)
  }
  return (d / max(n, 1e-30)).squareRoot()
}
