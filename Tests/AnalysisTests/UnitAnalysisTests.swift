import Analysis
import Foundation
import Testing

/// A deterministic normal generator for synthetic units.
struct Gaussian {
  var state: UInt64
  mutating func uniform() -> Double {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Double(state >> 11) + 0.5) * 0x1.0p-53
  }
  mutating func next() -> Double { (-2 * log(uniform())).squareRoot() * cos(2 * .pi * uniform()) }
}

@Suite("Unit analysis on synthetic units with known truth")
struct UnitAnalysisTests {
  /// 200 units per truth; 21 conditions with a tuning-like U and small noise.
  static func units(_ kind: String, count: Int = 200, seed: UInt64) -> [UnitObservations] {
    var g = Gaussian(state: seed)
    return (0..<count).map { i in
      let u = (0..<21).map { k in 1 + 2 * exp(-pow(Double(k) - 10, 2) / 18) + 0.05 * g.next() }
      let a: [Double]
      switch kind {
      case "multiplicative": a = u.map { 1.3 * $0 + 0.05 * g.next() }
      case "additive": a = u.map { $0 + 0.4 + 0.05 * g.next() }
      default: a = u.map { $0 + 0.05 * g.next() }
      }
      return UnitObservations(
        unit: "\(kind)\(i)", layer: kind, conditions: (0..<21).map(String.init), attended: a, unattended: u)
    }
  }

  @Test("verdicts and estimates recover the truth") func truth() {
    let all = Self.units("multiplicative", seed: 1) + Self.units("additive", seed: 2) + Self.units("none", seed: 3)
    let (units, layers) = analyzeUnits(all, seed: 7)
    let mul = units.filter { $0.layer == "multiplicative" }
    let add = units.filter { $0.layer == "additive" }
    let none = units.filter { $0.layer == "none" }
    let mulRate = Double(mul.filter { $0.gain?.preferred == .multiplicative }.count) / 200
    let addRate = Double(add.filter { $0.gain?.preferred == .additive }.count) / 200
    let falsePositive = Double(none.filter { $0.q < 0.05 }.count) / 200
    let medianGain = median(mul.compactMap { $0.gain?.mulGain })
    let medianOffset = median(add.compactMap { $0.gain?.addOffset })
    print(
      String(
        format:
          "TRUTH multiplicative verdict %.2f (gain median %.4f), additive verdict %.2f (offset median %.4f), no-effect units significant after BH %.3f",
        mulRate, medianGain, addRate, medianOffset, falsePositive))
    #expect(mulRate >= 0.9)
    #expect(addRate >= 0.9)
    #expect(abs(medianGain - 1.3) < 0.01)
    #expect(abs(medianOffset - 0.4) < 0.01)
    #expect(falsePositive <= 0.05)
    #expect(mul.allSatisfy { $0.q < 0.05 && $0.meanAttended > $0.meanUnattended })
    let l = Dictionary(uniqueKeysWithValues: layers.map { ($0.layer, $0) })
    #expect(l["multiplicative"]!.fractionEnhanced == 1)
    #expect(abs(l["none"]!.amiMean) < 0.01)
    // AMI of a pure 1.3 gain: (1.3 - 1) / (1.3 + 1).
    #expect(abs(l["multiplicative"]!.amiMedian - 0.3 / 2.3) < 0.005)
    #expect(
      l["multiplicative"]!.amiMeanCI.low < l["multiplicative"]!.amiMean
        && l["multiplicative"]!.amiMean < l["multiplicative"]!.amiMeanCI.high)
  }

  @Test("the counting bootstrap of the median equals the sorting one, draw for draw")
  func bootstrapMedian() {
    for n in [2, 3, 10, 11, 501] {
      // Ties on purpose: values on a coarse grid.
      let x = (0..<n).map { Double(($0 * 7919) % 13) / 4 - 1 }
      for seed: UInt64 in [1, 99] {
        let fast = bootstrapMedianCI(x, resamples: 300, seed: seed)
        let slow = bootstrapCI(x, resamples: 300, seed: seed, statistic: median)
        #expect(fast.low == slow.low && fast.high == slow.high, "n \(n) seed \(seed): \(fast) vs \(slow)")
      }
    }
  }

  @Test("exclusions are counted with reasons") func exclusions() {
    let obs = [
      UnitObservations(unit: "silent", layer: "L", conditions: ["a", "b"], attended: [0, 0], unattended: [0, 0]),
      UnitObservations(unit: "single", layer: "L", conditions: ["a"], attended: [1], unattended: [2]),
      UnitObservations(unit: "nan", layer: "L", conditions: ["a", "b"], attended: [1, .nan], unattended: [2, 1]),
      UnitObservations(
        unit: "ok", layer: "L", conditions: ["a", "b", "c"], attended: [1, 2, 3.5], unattended: [1, 1.5, 3]),
    ]
    let (units, layers) = analyzeUnits(obs)
    #expect(
      units.map(\.excluded) == [
        ExclusionReason.silent, ExclusionReason.singleCondition, ExclusionReason.nonFinite, nil,
      ])
    #expect(layers[0].included == 1 && layers[0].excluded.values.reduce(0, +) == 3)
    let csv = unitsCSV(units).split(separator: "\n")
    #expect(csv[0].hasPrefix("unit,layer,n,trials,duplicate_conditions,mean_attended,mean_unattended,t,df,p,trial_f"))
    #expect(csv[1].hasSuffix("silent (attended + unattended = 0 everywhere)"))
  }

  @Test("bad tables: clear errors naming line and column") func badTables() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tables-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func table(_ text: String) throws -> String {
      let p = dir + "/t\(UUID().uuidString).csv"
      try text.write(toFile: p, atomically: true, encoding: .utf8)
      return p
    }
    let missing = try table("unit,condition,attended\n1,a,2\n")
    #expect { try readUnitTable(missing) } throws: { "\($0)".contains(":1: missing column unattended") }
    let text = try table("unit,condition,attended,unattended\n1,a,2,3\n1,b,x,4\n")
    #expect { try readUnitTable(text) } throws: { "\($0)".contains(":3: column 'attended': 'x' is not a number") }
    let short = try table("unit,condition,attended,unattended\n1,a,2\n")
    #expect { try readUnitTable(short) } throws: { "\($0)".contains(":2: expected 4 cells, found 3") }
    let empty = try table("")
    #expect { try readUnitTable(empty) } throws: { "\($0)".contains("empty") }
    let layers = try table("layer,unit,condition,attended,unattended\nV1,1,a,2,3\nV4,1,b,2,3\n")
    #expect { try readUnitTable(layers) } throws: {
      "\($0)".contains("unit '1' is in layer 'V4' here but 'V1' earlier")
    }
    let nanTable = try table("unit,condition,attended,unattended\n1,a,NaN,3\n1,b,2,3\n2,a,1,1\n")
    let obs = try readUnitTable(nanTable)
    #expect(obs.count == 2 && obs[0].attended[0].isNaN)
    #expect(analyzeUnits(obs).units.map(\.excluded) == [ExclusionReason.nonFinite, ExclusionReason.singleCondition])
  }
}

@Suite("Tuning fits inside the unit analysis")
struct TuningAnalysisTests {
  @Test("a 1.3 gain on orientation tuning: amplitude ratio 1.3, width, baseline and preference unchanged")
  func gainOnTuning() {
    var g = Gaussian(state: 9)
    let theta = (0..<21).map { Double($0) * 9 }
    let obs = (0..<50).map { i -> UnitObservations in
      let pref = Double(i) * 3.6
      let u = theta.map { TuningModel.wrappedGaussian(period: 180).value($0, [0.2, 1, pref, 20]) + 0.01 * g.next() }
      let a = theta.map {
        1.3 * TuningModel.wrappedGaussian(period: 180).value($0, [0.2, 1, pref, 20]) + 0.01 * g.next()
      }
      return UnitObservations(
        unit: "u\(i)", layer: "L", conditions: theta.map { String(Int($0)) }, attended: a, unattended: u)
    }
    let (units, layers) = analyzeUnits(obs, tuning: .wrappedGaussian(period: 180))
    #expect(units.allSatisfy { $0.effects != nil })
    let l = layers[0]
    #expect(abs(l.medianAmplitudeRatio - 1.3) < 0.02 && abs(l.medianWidthRatio - 1) < 0.02)
    #expect(abs(l.medianBaselineChange - 0.06) < 0.02 && abs(l.medianPreferredShift) < 0.5)
    #expect(l.poorlyFit == 0)
    #expect(units.allSatisfy { ($0.circularVarianceAttended ?? 1) < 0.8 && ($0.osiAttended ?? 0) > 0.5 })
  }
}
