import Engine
import Foundation
import Stimuli
import Testing

func workbenchFixture(_ name: String) -> String {
  Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name).path
}

@Suite("Stimuli")
struct StimulusTests {
  @Test("reference rendering reproduces the reference code's PIL bars") func referenceBars() throws {
    let f = try Safetensors.read(workbenchFixture("reference_bars.safetensors"))
    let cases = try JSONSerialization.jsonObject(with: Data(f.metadata["cases"]!.utf8)) as! [[String: Double]]
    for (i, c) in cases.enumerated() {
      let bar = ReferenceBar(degrees: c["degrees"]!, sigma: c["sigma"]!, shiftX: c["x"]!, shiftY: c["y"]!).render(
        height: 28, width: 42)
      let ref = try f.require("bar\(i)").floats()
      let diff = zip(bar, ref).map { abs($0 - $1) }.max()!
      #expect(diff < 1e-6, "bar \(i) \(c): max difference \(diff)")
    }
  }

  @Test("analytic bars: peak, cross-section and orientation") func analyticBars() {
    let horizontal = GaussianBar(orientation: 0, x: 20, y: 14, width: 2, length: 20).render(height: 28, width: 42)
    // Peak on the axis, Gaussian falloff across it: value at distance d is exp(-d^2/(2 sigma^2)) (up to sampling).
    #expect(abs(horizontal[14 * 42 + 20] - 1) < 0.02)
    #expect(abs(horizontal[16 * 42 + 20] - Float(exp(-4.0 / 8))) < 0.03)
    #expect(horizontal[14 * 42 + 32] == 0)  // beyond the end (length 20 from x 10 to 30)
    let vertical = GaussianBar(orientation: 90, x: 14, y: 14, width: 2, length: 20).render(height: 28, width: 28)
    let horizontalSquare = GaussianBar(orientation: 0, x: 14, y: 14, width: 2, length: 20).render(height: 28, width: 28)
    for y in 0..<28 { for x in 0..<28 { #expect(abs(vertical[y * 28 + x] - horizontalSquare[x * 28 + y]) < 1e-5) } }
    // 45 degrees runs up to the right (counter-clockwise, image y down).
    let diagonal = GaussianBar(orientation: 45, x: 14, y: 14, width: 1, length: 20).render(height: 28, width: 28)
    #expect(diagonal[8 * 28 + 20] > 0.5 && diagonal[20 * 28 + 20] < 0.05)
  }

  @Test("gratings and Gabors") func gratings() {
    let g = Grating(orientation: 0, frequency: 0.25, phase: 0, contrast: 1, mean: 0.5, x: 10, y: 10).render(
      height: 20, width: 20)
    #expect(abs(g[10 * 20 + 10] - 1) < 1e-6 && abs(g[10 * 20 + 12] - 0) < 1e-6)  // cos(0) = 1, cos(pi) = -1
    #expect(g[0 * 20 + 10] == g[19 * 20 + 10])  // vertical stripes: constant down a column
    let gabor = Grating(orientation: 0, frequency: 0.25, x: 10, y: 10, envelopeSigma: 2, aperture: 6).render(
      height: 20, width: 20)
    #expect(gabor[0] == 0.5 && abs(gabor[10 * 20 + 10] - 1) < 1e-6)
  }

  @Test("sweeps: full factorial, last parameter fastest, condition table") func sweep() {
    let spec = StimulusSpec(
      kind: .gaussianBar(.analytic),
      parameters: [("orientation", .range(from: 0, to: 90, steps: 3)), ("width", .list([1, 2]))],
      canvasHeight: 28, canvasWidth: 42)
    #expect(spec.count == 6)
    #expect(spec.sweptParameters == ["orientation", "width"])
    #expect(spec.grid.combination(1)["orientation"] == 0 && spec.grid.combination(1)["width"] == 2)
    #expect(spec.grid.combination(5)["orientation"] == 90)
    let table = spec.conditionTableCSV().split(separator: "\n")
    #expect(table[0] == "stimulus,orientation,x,y,width,length,contrast")
    #expect(table[2] == "1,0,8,14,2,20,1")
  }

  @Test("distractors and noise") func distractors() {
    let digit = [Float](repeating: 0.5, count: 784)
    let spec = StimulusSpec(
      kind: .gaussianBar(.analytic), parameters: [("x", .fixed(6))], canvasHeight: 28, canvasWidth: 42,
      distractor: Distractor(kind: .digit(image: digit, label: 3), top: 0, left: 14, height: 28, width: 28),
      combination: .clamp, noise: 0.3, seed: 5)
    let s = spec.stimulus(0)
    #expect(s.distractor[0] == 0 && s.distractor[14] == 0.5 && s.distractor[41] == 0.5)
    #expect(
      zip(s.image, zip(s.object, s.distractor)).allSatisfy { img, parts in
        let sum = min(1, parts.0 + parts.1)
        return sum > 0 ? img == sum : img >= 0 && img < 0.3
      })
    #expect(spec.stimulus(0).image == s.image)  // seeded noise: same every time
  }
}

@Suite("Plaids, dots, repeats and log-spaced sweeps")
struct NewStimulusTests {
  @Test("a plaid of two identical components is the grating; 90 degrees apart both peak at the centre") func plaid() {
    let g = Grating(orientation: 30, frequency: 0.1, phase: 40, contrast: 0.8, mean: 0.5, x: 14, y: 12, aperture: 9)
    let same = Plaid(g, angle: 0).render(height: 28, width: 30)
    let grating = g.render(height: 28, width: 30)
    #expect(zip(same, grating).allSatisfy { abs($0 - $1) < 1e-6 })
    var centred = g
    centred.phase = 0
    let crossed = Plaid(centred, angle: 90).render(height: 28, width: 30)
    #expect(abs(crossed[12 * 30 + 14] - 0.9) < 1e-6)  // mean + contrast/4 (1 + 1)
    #expect(crossed[0] == 0.5)  // outside the aperture
  }

  @Test("ON and OFF dots on a background; exactly the background beyond four sizes") func dots() {
    let on = GaussianDot(x: 10, y: 8, size: 1.5, contrast: 0.5, mean: 0.5).render(height: 20, width: 24)
    let off = GaussianDot(x: 10, y: 8, size: 1.5, contrast: -0.5, mean: 0.5).render(height: 20, width: 24)
    #expect(on[8 * 24 + 10] == 1 && off[8 * 24 + 10] == 0)
    #expect(abs(on[8 * 24 + 11] - Float(0.5 + 0.5 * exp(-1 / 4.5))) < 1e-6)
    #expect(on[19 * 24 + 23] == 0.5 && off[0] == 0.5)
  }

  @Test("log-spaced ranges are geometric with exact ends; repeats add a slowest repeat parameter with new noise")
  func repeats() {
    let v = ParameterValues.logRange(from: 0.01, to: 1, steps: 5).values
    #expect(v.first == 0.01 && v.last == 1)
    #expect(zip(v, v.dropFirst()).allSatisfy { abs($1 / $0 - 10.0.squareRoot()) < 1e-12 })
    var spec = StimulusSpec(
      kind: .dot, parameters: [("x", .list([4, 8]))], canvasHeight: 12, canvasWidth: 12, seed: 9)
    spec.repeats = 3
    spec.trialNoise = 0.1
    #expect(spec.count == 6 && spec.conditionCount == 2 && spec.grid.names.first == "repeat")
    #expect(spec.sweptParameters == ["repeat", "x"])
    // Stimuli 1 and 3 are the same condition (x = 8) in repeats 0 and 1: same dot, other noise.
    let a = spec.stimulus(1)
    let b = spec.stimulus(3)
    #expect(a.object == b.object && a.image != b.image)
    #expect(spec.stimulus(1).image == a.image)
  }
}
