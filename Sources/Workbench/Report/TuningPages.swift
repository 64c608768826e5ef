import Analysis
import Foundation
import Reports

extension ReportData {
  /// Unit `k`'s tuning curves as a panel: the data points per phase with error bars (SEM over trials
  /// when there are trials), the fitted curve per phase (tuning model, or Naka-Rushton on a contrast
  /// axis) and the fitted parameters as notes under the title.
  func unitPanel(_ k: Int) -> LinePanel {
    let o = obs[k]
    let r = units[k]
    let xs = o.conditions.enumerated().map { Double($0.element) ?? Double($0.offset) }
    func sem(_ trials: [[Double]]?) -> [Double]? {
      guard let trials, let n = trials.first?.count, n > 1 else { return nil }
      return trials.map { t in
        let m = t.reduce(0, +) / Double(n)
        return (t.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1)).squareRoot() / Double(n).squareRoot()
      }
    }
    var series = [
      Series(x: xs, y: o.attended, color: .attended, label: "attended", errors: sem(o.attendedTrials), style: .points),
      Series(
        x: xs, y: o.unattended, color: .unattended, label: "unattended", errors: sem(o.unattendedTrials),
        style: .points),
    ]
    var notes: [(String, Color)] = []
    let axis = self.axis
    let lo = xs.filter(axis.scale.admits).min() ?? 0
    let hi = xs.max() ?? 1
    var dense: [Double] = []
    for i in 0...80 {
      let t = Double(i) / 80
      dense.append(axis.scale == .linear ? lo + (hi - lo) * t : lo * pow(hi / lo, t))
    }
    if let c = r.contrast {
      for (fit, color, name) in [(c.attended, Color.attended, "A"), (c.unattended, Color.unattended, "U")] {
        series.append(Series(x: dense, y: dense.map(fit.function.value), color: color, label: ""))
        notes.append(
          (
            String(
              format: "%@: Rmax %.2g  c50 %.2g  n %.2g  R² %.2f", name, fit.function.rmax, fit.function.c50,
              fit.function.exponent, fit.r2), color
          ))
      }
    } else {
      for (fit, color, name) in [(r.fitAttended, Color.attended, "A"), (r.fitUnattended, Color.unattended, "U")] {
        guard let fit, fit.converged else { continue }
        series.append(
          Series(x: dense, y: dense.map { fit.model.value($0, fit.parameters) }, color: color, label: ""))
        let unit = axis.suffix.isEmpty ? "" : axis.suffix
        notes.append(
          (
            String(
              format: "%@: R² %.2f  amp %.2g  pref %.3g%@  hwhm %.2g%@  base %.2g", name, fit.r2, fit.amplitude,
              fit.preferred, unit, fit.halfWidth ?? .nan, unit, fit.baseline), color
          ))
      }
    }
    let verdict = r.verdict.isEmpty ? "" : "  \(r.verdict)"
    return LinePanel(
      title: String(format: "%@  AMI %+.2f%@", o.unit, r.ami ?? .nan, verdict), x: axis, yLabel: "response",
      series: series, notes: notes)
  }

  /// Per layer and stratum: nine units across the AMI distribution (2nd to 98th percentile).
  func exampleUnitPages() -> [ReportPage] {
    labels.compactMap { label in
      let included = self.included(label).sorted { units[$0].ami! < units[$1].ami! }
      guard !included.isEmpty else { return nil }
      var picks: [Int] = []
      for q in [0.02, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.98] {
        let k = included[min(included.count - 1, Int(q * Double(included.count - 1)))]
        if !picks.contains(k) { picks.append(k) }
      }
      let panels = picks.map(unitPanel)
      let legend = [
        LegendEntry(.attended, "attended (mean ± SEM over trials where there are trials)", style: .points),
        LegendEntry(.unattended, "unattended", style: .points), LegendEntry(.black, "fitted curves (same colours)"),
      ]
      return ReportPage(title: "\(label): example units across the AMI distribution") { cr, w, h in
        drawTextBlock(
          cr, title: "\(label): units at AMI percentiles 2, 10, 25, 40, 50, 60, 75, 90, 98", lines: [], x: 36, y: 36)
        let shape = gridShape(panels.count, maxColumns: 3)
        var grid = PanelGrid(panels: panels, columns: shape.columns, legend: legend)
        grid.panelHeight = 200
        grid.panelWidth = 260
        grid.draw(cr, fitting: 36, 48, w - 72, h - 80)
      }
    }
  }

  /// Population tuning of a layer label: each included unit's curves aligned on its preferred
  /// condition (peak of the unattended curve) and normalised by that peak; mean with 95% CI
  /// (1.96 SEM over units) at each offset from the preference, in the axis's units. Periodic axes
  /// (orientation) wrap, with the duplicate end condition (180 = 0) dropped; others align by offset,
  /// keeping offsets that at least 10% of units reach. Nil without usable units.
  func populationPanel(_ label: String) -> LinePanel? {
    let ok = (unitsByLabel[label] ?? []).filter { units[$0].excluded == nil }
    guard let first = ok.first else { return nil }
    let values = obs[first].conditions.map { Double($0) ?? .nan }
    var m = values.count
    let periodic = context.axisName == "orientation" || context.axisName == "direction"
    let period = context.axisName == "direction" ? 360.0 : 180.0
    if periodic, m > 2, let a = values.first, let b = values.last, abs(b - a - period) < 1e-9 { m -= 1 }
    let steps = zip(values.prefix(m).dropFirst(), values.prefix(m)).map { $0 - $1 }
    let uniform = !steps.isEmpty && steps.allSatisfy { abs($0 - steps[0]) < 1e-6 * max(1, abs(steps[0])) }
    let step = uniform ? steps[0] : 1
    let offsets = periodic ? Array((-(m / 2))...((m - 1) / 2)) : Array((-(m - 1))...(m - 1))
    var a = [[Double]](repeating: [], count: offsets.count)
    var u = a
    for k in ok {
      let o = obs[k]
      guard o.unattended.count >= m, let peak = o.unattended.prefix(m).max(), peak > 0 else { continue }
      let pi = o.unattended.prefix(m).firstIndex(of: peak)!
      for (j, d) in offsets.enumerated() {
        var src = pi + d
        if periodic { src = ((src % m) + m) % m }
        guard src >= 0 && src < m else { continue }
        a[j].append(o.attended[src] / peak)
        u[j].append(o.unattended[src] / peak)
      }
    }
    let count = u.map(\.count).max() ?? 0
    guard count > 0 else { return nil }
    let keep = offsets.indices.filter { u[$0].count >= max(1, count / 10) }
    func stats(_ v: [[Double]]) -> ([Double], [Double]) {
      let mean = keep.map { v[$0].reduce(0, +) / Double(v[$0].count) }
      let ci = keep.enumerated().map { i, j -> Double in
        let n = Double(v[j].count)
        guard n > 1 else { return 0 }
        let sd = (v[j].map { ($0 - mean[i]) * ($0 - mean[i]) }.reduce(0, +) / (n - 1)).squareRoot()
        return 1.96 * sd / n.squareRoot()
      }
      return (mean, ci)
    }
    let xs = keep.map { Double(offsets[$0]) * step }
    let (ma, ca) = stats(a)
    let (mu, cu) = stats(u)
    let unitName = uniform ? (periodic ? "deg" : AxisSpec.stimulus(context.axisName).label) : "conditions"
    let xAxis =
      periodic
      ? AxisSpec(
        "offset from preferred \(context.axisName) (deg)",
        ticks: Array(stride(from: -period / 2, through: period / 2, by: period / 4)), suffix: "°")
      : AxisSpec("offset from the preferred condition (\(unitName))")
    return LinePanel(
      title: "\(label) (\(count) units)", x: xAxis, yLabel: "response / unattended peak",
      series: [
        Series(x: xs, y: ma, color: .attended, label: "attended (mean, 95% CI)", band: ca),
        Series(x: xs, y: mu, color: .unattended, label: "unattended (mean, 95% CI)", band: cu),
      ])
  }

  /// Population tuning of every layer and stratum, on as many pages as needed (up to 8 a page).
  func populationPages() -> [ReportPage] {
    let panels = labels.compactMap(populationPanel)
    return balancedPages(panels, perPage: 8).enumerated().map { i, part in
      ReportPage(title: "Population tuning aligned to preference, 95% CI" + (panels.count > 8 ? " (\(i + 1))" : "")) {
        cr, w, h in
        drawTextBlock(
          cr, title: "Population tuning aligned to each unit's preference (normalised by the unattended peak)",
          lines: [], x: 36, y: 36)
        let shape = gridShape(part.count)
        var grid = PanelGrid(panels: part, columns: shape.columns)
        grid.panelHeight = 190
        grid.draw(cr, fitting: 36, 48, w - 72, h - 80)
      }
    }
  }
}
