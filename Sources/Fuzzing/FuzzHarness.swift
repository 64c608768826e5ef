import Analysis
import Datasets
import Engine
import Foundation
import ImageIO
import ModelInterface
import Recording
import Reports
import Workbench

/// What one reader did under fuzz.
public struct FuzzReport: Sendable, Codable {
  public var reader: String
  public var cases = 0
  /// Inputs read without error.
  public var succeeded = 0
  /// Inputs refused with one of Ephys's errors naming the file (and, for YAML, line and column).
  public var locatedErrors = 0
  /// Inputs refused with one of Ephys's errors that does not name the file (e.g. a digit index
  /// outside the data set, found once the data are loaded).
  public var unlocatedErrors = 0
  /// Inputs refused with an error that is not Ephys's, or with no message: each a defect. The first
  /// few, with the case file saved beside the work folder.
  public var uncleanErrors: [String] = []
  /// The slowest case, milliseconds, and its index.
  public var slowestMilliseconds = 0.0
  public var slowestCase = 0
  /// Files created, changed or removed outside the work folder's own outputs (the corpus, the
  /// current folder, unexpected files in the work folder): each a defect.
  public var touchedOutside: [String] = []
  /// Peak resident memory of the whole process when the reader finished, MiB (includes all readers before it;
  /// VmHWM, the high-water mark of this process image).
  public var peakResidentMiB = 0.0
  /// Wall time, seconds.
  public var seconds = 0.0
}

/// Runs fuzz cases in this process: each input is written to `<work>/case.<ext>` (left there if the
/// process dies, so the crash can be replayed with the matching command) and read by the target
/// under a read budget; a watchdog ends the process with exit code 3 when one case runs longer
/// than `caseTimeout` seconds, saving the input as `<work>/hang-<reader>.<ext>`.
public final class FuzzHarness: @unchecked Sendable {
  public let work: String
  public let corpus: String
  public let seed: UInt64
  public let budget: Int
  public let caseTimeout: Double

  private let lock = NSLock()
  private var running: (started: Date, reader: String, file: String)?

  public init(work: String, corpus: String, seed: UInt64, budget: Int = 256 << 20, caseTimeout: Double = 20) {
    self.work = work
    self.corpus = corpus
    self.seed = seed
    self.budget = budget
    self.caseTimeout = caseTimeout
  }

  /// The seeds of `target` (every file in `<corpus>/<name>/`), sorted by name.
  public func seeds(_ target: FuzzTarget) throws -> [[UInt8]] {
    let dir = corpus + "/" + target.name
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.sorted() ?? []
    let seeds = try names.filter { !$0.hasPrefix(".") }.map { try readFileBytes(dir + "/" + $0) }
    guard !seeds.isEmpty else { throw FuzzError("no seed files in \(dir)") }
    return seeds
  }

  /// Prepares the work folder: a fresh folder with the corpus's support files (weights, stimulus
  /// files that seed protocols name) copied in.
  public func prepareWork() throws {
    try? FileManager.default.removeItem(atPath: work)
    try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
    let support = corpus + "/support"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: support)) ?? [] {
      try FileManager.default.copyItem(atPath: support + "/" + name, toPath: work + "/" + name)
    }
    startWatchdog()
  }

  /// Runs `cases` inputs of `target` (the seeds themselves first, then mutants), or fewer when
  /// `seconds` run out; `progress(done)` every 500 cases.
  public func run(_ target: FuzzTarget, cases: Int, seconds: Double? = nil, progress: (Int) -> Void = { _ in })
    throws -> FuzzReport
  {
    let seeds = try seeds(target)
    var mutator = Mutator(seed: seed ^ UInt64(truncatingIfNeeded: target.name.hashValueStable))
    let path = work + "/case." + target.fileExtension
    var report = FuzzReport(reader: target.name)
    let here = FileManager.default.currentDirectoryPath
    let before = (corpus: Self.snapshot(corpus), here: Self.listing(here), work: Self.listing(work))
    let start = Date()
    for i in 0..<cases {
      if let seconds, Date().timeIntervalSince(start) > seconds { break }
      var input = i < seeds.count ? seeds[i] : mutator.mutate(seeds[i % seeds.count], others: seeds, text: target.text)
      if target.zipped && i >= seeds.count && i % 2 == 0 { Mutator.fixZipChecksums(&input) }
      try Data(input).write(to: URL(fileURLWithPath: path))
      lock.withLock { running = (Date(), target.name, path) }
      let t0 = Date()
      let outcome: Result<Void, Error> = ReadBudget.$bytes.withValue(budget) {
        Result { try target.read(path, work, i) }
      }
      let ms = Date().timeIntervalSince(t0) * 1000
      lock.withLock { running = nil }
      if ms > report.slowestMilliseconds { (report.slowestMilliseconds, report.slowestCase) = (ms, i) }
      report.cases += 1
      switch outcome {
      case .success: report.succeeded += 1
      case .failure(let error):
        switch Self.classify(error, file: path) {
        case .located: report.locatedErrors += 1
        case .unlocated: report.unlocatedErrors += 1
        case .unclean(let what):
          if report.uncleanErrors.count < 10 {
            let saved = work + "/unclean-\(target.name)-\(i)." + target.fileExtension
            try? Data(input).write(to: URL(fileURLWithPath: saved))
            report.uncleanErrors.append("case \(i) (\(saved)): \(what)")
          }
        }
      }
      if (i + 1) % 500 == 0 { progress(i + 1) }
    }
    report.seconds = Date().timeIntervalSince(start)
    report.peakResidentMiB = peakResidentMiB()
    // Nothing outside the work folder's case file and output folder may change.
    if Self.snapshot(corpus) != before.corpus { report.touchedOutside.append("the corpus \(corpus) changed") }
    for name in Self.listing(here).symmetricDifference(before.here) where !work.hasPrefix(here + "/" + name) {
      report.touchedOutside.append("\(here)/\(name) appeared or disappeared")
    }
    let expected = before.work.union(["case." + target.fileExtension, "analysis"])
    for name in Self.listing(work).subtracting(expected)
    where !name.hasPrefix("unclean-") && !name.hasPrefix("hang-") && !name.hasPrefix("case.") {
      report.touchedOutside.append("\(work)/\(name) was written")
    }
    return report
  }

  /// Names in `folder` (not recursive).
  static func listing(_ folder: String) -> Set<String> {
    Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
  }

  /// Every file below `folder` with its size and modification time.
  static func snapshot(_ folder: String) -> [String: String] {
    var out: [String: String] = [:]
    guard let e = FileManager.default.enumerator(atPath: folder) else { return out }
    while let f = e.nextObject() as? String {
      let a = try? FileManager.default.attributesOfItem(atPath: folder + "/" + f)
      out[f] = "\(a?[.size] ?? 0) \(a?[.modificationDate] ?? 0)"
    }
    return out
  }

  enum Verdict {
    case located, unlocated
    case unclean(String)
  }

  /// Whether `error` is one of Ephys's own errors with a message, and whether it names `file`.
  static func classify(_ error: Error, file: String) -> Verdict {
    let text: String
    switch error {
    case let e as ProtocolErrors:
      guard !e.issues.isEmpty, e.issues.allSatisfy({ $0.line >= 1 && !$0.message.isEmpty }) else {
        return .unclean("ProtocolErrors without located issues: \(e)")
      }
      text = e.description
    case let e as TableError: text = e.description
    case let e as CheckpointError: text = e.description
    case let e as DatasetError: text = e.description
    case let e as RecordingError: text = e.description
    case let e as ReportError: text = e.description
    case let e as ImageError: text = e.description
    case let e as OutputFolderError: text = e.description
    default: return .unclean("\(type(of: error)): \(error)")
    }
    guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return .unclean("an empty message") }
    return text.contains(file) ? .located : .unlocated
  }

  /// Peak resident set size of this process image, MiB: VmHWM from /proc/self/status (getrusage's
  /// ru_maxrss would include the parent's memory at fork when the harness was started by another
  /// process), else getrusage.
  public func peakResidentMiB() -> Double {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
      let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
    {
      return kib / 1024
    }
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
  }

  /// A background thread that ends the process when a case runs past the timeout.
  private func startWatchdog() {
    let thread = Thread { [self] in
      while true {
        Thread.sleep(forTimeInterval: 0.25)
        let current = lock.withLock { running }
        guard let current, Date().timeIntervalSince(current.started) > caseTimeout else { continue }
        let ext = (current.file as NSString).pathExtension
        let saved = work + "/hang-\(current.reader).\(ext)"
        try? FileManager.default.copyItem(atPath: current.file, toPath: saved)
        FileHandle.standardError.write(
          Data("fuzz: \(current.reader) case ran over \(caseTimeout) s (a hang); input saved as \(saved)\n".utf8))
        _exit(3)
      }
    }
    thread.start()
  }
}

/// A problem with the harness's own set-up.
public struct FuzzError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

extension String {
  /// A hash that is the same in every process (Swift's hashValue is seeded per process).
  var hashValueStable: UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return h
  }
}
