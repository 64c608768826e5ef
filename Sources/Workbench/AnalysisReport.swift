import Analysis
import CCairo
import Engine
import Foundation
import ModelInterface
import Recording
import Reports
import Stimuli

/// What the report says about where the data came from, and optional curves to draw.
public struct ReportContext {
  public var title: String
  public var summaryLines: [String]
  /// Tuning axis name and values, and per unit (by row of the observations) its attended and
  /// unattended curves, when the data are tuning curves.
  public var axisName: String
  public var montagePNG: String?
  /// Gating models: per-image inhibition inside and outside the attended object, and attention PNGs.
  public var inhibition: (attended: [Double], outside: [Double])?
  public var attentionPNGs: [String] = []
  /// Warnings about the unit selection and caveats about the design, printed on page 1.
  public var warnings: [String] = []
  public var caveats: [String] = []
  /// Pages of the protocol's measures (receptive-field maps, V1 properties).
  public var measurePages: [MeasurePage] = []

  public init(title: String, summaryLines: [String], axisName: String = "condition", montagePNG: String? = nil) {
    self.title = title
    self.summaryLines = summaryLines
    self.axisName = axisName
    self.montagePNG = montagePNG
  }
}

/// Turns tuning curves into paired observations: one per unit, its conditions the axis values, A and U
/// the attended and unattended tuning values.
public func observations(from r: RecordingResult, values: [Float]) -> [UnitObservations] {
  let u = r.units.units.count
  let axis = r.tuning.axisValues
  return r.units.units.enumerated().map { k, unit in
    UnitObservations(
      unit: "\(unit.layer)[\(unit.channel),\(unit.y),\(unit.x)]", layer: unit.layer,
      conditions: axis.map(formatNumberForTable),
      attended: (0..<axis.count).map { Double(values[($0 * 2) * u + k]) },
      unattended: (0..<axis.count).map { Double(values[($0 * 2 + 1) * u + k]) })
  }
}

func formatNumberForTable(_ v: Double) -> String { formatNumber(v) }

/// Runs the analysis on observations and writes the unit and layer tables and the PDF report;
/// returns the results and every report page's drawn elements (see `reportLayoutProblems`).
@discardableResult
public func writeAnalysis(
  _ obs: [UnitObservations], into dir: String, unitsFile: String = "units.csv", layersFile: String = "layers.csv",
  context: ReportContext, seed: UInt64 = 1, tuning: TuningModel? = nil, contrastAxis: Bool = false
) throws -> (units: [UnitResult], layers: [LayerSummary], layout: [[DrawnElement]]) {
  let (units, layers) = analyzeUnits(obs, seed: seed, tuning: tuning, contrastAxis: contrastAxis)
  try writeFileAtomically(Array(unitsCSV(units).utf8), to: dir + "/" + unitsFile)
  try writeFileAtomically(Array(layersCSV(layers).utf8), to: dir + "/" + layersFile)
  let layouts = try writeReport(dir + "/report.pdf", obs: obs, units: units, layers: layers, context: context)
  return (units, layers, layouts)
}

/// Layout problems of every page of a report, "page N: ...".
public func reportLayoutProblems(_ layouts: [[DrawnElement]], width: Double = 842, height: Double = 595) -> [String] {
  layouts.enumerated().flatMap { i, elements in
    layoutProblems(elements, width: width, height: height).map { "page \(i + 1): \($0)" }
  }
}
