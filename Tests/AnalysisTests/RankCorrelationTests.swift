import Analysis
import Testing

@Suite("Spearman's rank correlation")
struct RankCorrelationTests {
  @Test("ties share their average rank (scipy.stats.spearmanr: 0.8207826816681233); constant side is NaN")
  func values() {
    let r = spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    #expect(abs(r - 0.8207826816681233) < 1e-12)
    #expect(abs(spearmanCorrelation([1, 2, 3], [30, 20, 10]) + 1) < 1e-12)
    #expect(spearmanCorrelation([1, 2, 3], [4, 4, 4]).isNaN)
    #expect(spearmanCorrelation([1], [2]).isNaN)
  }
}
