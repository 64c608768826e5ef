import Analysis
import Foundation
import Testing

@Suite("Streaming unit analysis")
struct StreamingUnitAnalysisTests {
  /// Units of two layers and two strata, tuned over 0...165 degrees plus a repeated 180, with
  /// trials on some, a silent and a non-finite unit among them.
  static func mixedUnits(count: Int) -> [UnitObservations] {
    var g = Gaussian(state: 11)
    let conditions = stride(from: 0, through: 180, by: 15).map { "\($0)" }
    return (0..<count).map { i in
      let peak = Double(i % 12) * 15
      let u = conditions.map { c -> Double in
        let d = min(abs(Double(c)! - peak), 180 - abs(Double(c)! - peak))
        return 0.2 + 2 * exp(-d * d / 800) + 0.05 * g.next()
      }
      let gain = i % 3 == 0 ? 1.0 : 1.2
      var a = u.map { gain * $0 + 0.05 * g.next() }
      var un = u
      if i == 5 {
        a = a.map { _ in 0 }
        un = a
      }
      if i == 9 { a[2] = .nan }
      let groups = [(name: "rf_class", value: i % 4 == 0 ? "distractor" : "object")]
      let layer = i < count / 2 ? "conv1" : "conv2"
      if i % 7 == 0 {
        let trialsA = a.map { v in (0..<3).map { _ in v + 0.1 * g.next() } }
        let trialsU = un.map { v in (0..<3).map { _ in v + 0.1 * g.next() } }
        return UnitObservations(
          unit: "u\(i)", layer: layer, conditions: conditions, attendedTrials: trialsA, unattendedTrials: trialsU,
          groups: groups)
      }
      return UnitObservations(
        unit: "u\(i)", layer: layer, conditions: conditions, attended: a, unattended: un, groups: groups)
    }
  }

  @Test("chunked streaming gives the in-memory analysis's tables byte for byte")
  func sameTables() {
    let obs = Self.mixedUnits(count: 300)
    let model = TuningModel.wrappedGaussian(period: 180)
    let (units, layers) = analyzeUnits(obs, seed: 3, tuning: model)
    #expect(units.contains { $0.excluded == ExclusionReason.silent })
    #expect(units.contains { $0.excluded == ExclusionReason.nonFinite })
    #expect(units.contains { $0.trialTest != nil })
    #expect(layers.count == 4)
    // What a million units' digests cost (documented as 104 bytes).
    #expect(MemoryLayout<UnitDigest>.stride <= 104, "digest stride \(MemoryLayout<UnitDigest>.stride)")
    for chunk in [1, 7, 64, 1000] {
      var analysis = StreamingUnitAnalysis(seed: 3, tuning: model)
      analysis.chunk = chunk
      var rows: [String] = []
      var starts: [Int] = []
      var progress: [Int] = []
      let streamed = analysis.run(
        count: obs.count, observation: { obs[$0] },
        emit: { first, o, r in
          starts.append(first)
          #expect(o.map(\.unit) == r.map(\.unit))
          rows += r.map { $0.csvRow(groupNames: ["rf_class"]) }
        },
        progress: { done, total in
          #expect(total == obs.count)
          progress.append(done)
        })
      #expect(starts == Array(stride(from: 0, to: obs.count, by: chunk)), "chunk \(chunk)")
      #expect(progress.last == obs.count)
      let text = ([unitsCSVHeader(groupNames: ["rf_class"])] + rows).joined(separator: "\n") + "\n"
      #expect(text == unitsCSV(units), "chunk \(chunk)")
      #expect(layersCSV(streamed) == layersCSV(layers), "chunk \(chunk)")
    }
  }

  @Test("contrast verdicts and shares agree with the in-memory analysis")
  func contrastAxis() {
    var g = Gaussian(state: 5)
    let contrasts = [0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    let obs = (0..<120).map { i -> UnitObservations in
      let c50 = 0.1 + 0.002 * Double(i)
      let u = contrasts.map { c in 2 * pow(c, 2) / (pow(c, 2) + c50 * c50) + 0.02 * g.next() }
      let a = contrasts.map { c in 2 * pow(c, 2) / (pow(c, 2) + pow(c50 * 0.7, 2)) + 0.02 * g.next() }
      return UnitObservations(
        unit: "c\(i)", layer: "conv1", conditions: contrasts.map { "\($0)" }, attended: a, unattended: u)
    }
    let (_, layers) = analyzeUnits(obs, seed: 2, contrastAxis: true)
    var analysis = StreamingUnitAnalysis(seed: 2, contrastAxis: true)
    analysis.chunk = 25
    let streamed = analysis.run(count: obs.count, observation: { obs[$0] }, emit: { _, _, _ in })
    #expect(layersCSV(streamed) == layersCSV(layers))
    #expect(layers[0].contrastShares.values.reduce(0, +) > 0.5)
  }
}
