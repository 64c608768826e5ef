import Foundation

/// The most bytes that reading one file may allocate for decoded data (inflated zip members,
/// tensors expanded from zero-stride views, whole files read into memory). Every reader checks a
/// size it is about to allocate against this budget first, so a small hostile file cannot ask for
/// gigabytes. The default is half the machine's memory (at least 1 GiB); `EPHYS_READ_BUDGET_MB`
/// sets it for a process and `ReadBudget.$bytes.withValue(...)` for one task (the fuzz harness
/// reads under 256 MiB).
public enum ReadBudget {
  /// The budget in force, in bytes.
  @TaskLocal public static var bytes: Int = defaultBytes

  /// Half the physical memory, at least 1 GiB, unless `EPHYS_READ_BUDGET_MB` says otherwise.
  public static let defaultBytes: Int = {
    if let text = ProcessInfo.processInfo.environment["EPHYS_READ_BUDGET_MB"], let mb = Int(text), mb > 0,
      mb < Int.max >> 20
    {
      return mb << 20
    }
    return max(1 << 30, Int(clamping: ProcessInfo.processInfo.physicalMemory / 2))
  }()

  /// Throws when `count` bytes of `what` would exceed the budget (or the count is negative).
  public static func check(_ count: Int, _ what: @autoclosure () -> String) throws {
    guard count >= 0, count <= bytes else {
      throw CheckpointError(
        "\(what()) would need \(describe(count)), more than the read budget of \(describe(bytes)) (set EPHYS_READ_BUDGET_MB to allow more)"
      )
    }
  }

  /// A byte count in words ("1.5 GiB").
  public static func describe(_ count: Int) -> String {
    let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    var v = Double(count)
    var i = 0
    while v >= 1024 && i < units.count - 1 {
      v /= 1024
      i += 1
    }
    return i == 0 ? "\(count) bytes" : String(format: "%.1f %@", v, units[i])
  }
}
