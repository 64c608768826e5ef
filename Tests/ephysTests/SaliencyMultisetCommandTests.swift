import Foundation
import Testing

/// `ephys train saliency-multiset` and `ephys evaluate saliency-multiset`: the shipped checkpoints'
/// numbers (REINFORCE well above the cross-entropy baseline), and a tiny training that resumes and
/// reproduces its bytes.
@Suite("ephys train / evaluate saliency-multiset")
struct SaliencyMultisetCommandTests {
  func evaluate(_ checkpoint: String, task: String, in dir: String) throws -> [String: Any] {
    let r = try runEphys(
      [
        "evaluate", "saliency-multiset", "--weights", repositoryRoot + "/Checkpoints/\(checkpoint).safetensors",
        "--task", task, "--canvases", "400", "--json", "--out", checkpoint + "-" + task,
      ], in: dir)
    #expect(r.status == 0, "\(r.err)")
    return try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any] ?? [:]
  }

  @Test("shipped checkpoints: REINFORCE's exact match well above the cross-entropy baseline's; attn_saliency rose")
  func shipped() throws {
    let dir = try temporaryFolder("hsal-eval")
    for task in ["set", "multiset"] {
      let rl = try evaluate("saliency-multiset-\(task)", task: task, in: dir)
      let ce = try evaluate("saliency-multiset-\(task)-ce", task: task, in: dir)
      let (rlExact, ceExact) = (rl["exact_match"] as? Double ?? 0, ce["exact_match"] as? Double ?? 1)
      print(
        "HSAL \(task): REINFORCE exact \(rlExact) F1 \(rl["macro_f1"] ?? "?"); cross-entropy exact \(ceExact) F1 \(ce["macro_f1"] ?? "?")"
      )
      #expect(rlExact > ceExact + 0.1, "\(task): \(rl) vs \(ce)")
      #expect((rl["macro_f1"] as? Double ?? 0) > (ce["macro_f1"] as? Double ?? 1))
      let history = rl["training_attn_saliency"] as? [Double] ?? []
      #expect(history.count >= 10 && history.last! > history.first!, "attn_saliency per epoch: \(history)")
      for name in ["summary.json", "report.pdf", "glimpses_0.png"] {
        #expect(FileManager.default.fileExists(atPath: "\(dir)/saliency-multiset-\(task)-\(task)/\(name)"), "\(name)")
      }
    }
  }

  @Test("a tiny training resumes from its checkpoint, and the same seed gives the same bytes")
  func tinyTraining() throws {
    let dir = try temporaryFolder("hsal-train")
    let args = [
      "train", "saliency-multiset", "--task", "multiset", "--canvases", "96", "--batch", "32", "--pretrain-epochs", "1",
      "--pretrain-canvases", "64", "--validation", "20",
    ]
    let a = try runEphys(args + ["--epochs", "2", "--out", "a.safetensors"], in: dir)
    #expect(a.status == 0, "\(a.err)")
    let b = try runEphys(args + ["--epochs", "2", "--out", "b.safetensors"], in: dir)
    #expect(b.status == 0)
    #expect(
      FileManager.default.contents(atPath: dir + "/a.safetensors")
        == FileManager.default.contents(atPath: dir + "/b.safetensors"))
    let resumed = try runEphys(args + ["--epochs", "3", "--out", "a.safetensors", "--resume"], in: dir)
    #expect(resumed.status == 0, "\(resumed.err)")
    #expect(resumed.err.contains("resuming after epoch 2") || resumed.out.contains("resuming after epoch 2"))
    let wrong = try runEphys(
      ["train", "saliency-multiset", "--task", "set", "--epochs", "3", "--out", "a.safetensors", "--resume"], in: dir)
    #expect(wrong.status != 0 && (wrong.err + wrong.out).contains("--task multiset"))
    let eval = try runEphys(
      ["evaluate", "saliency-multiset", "--weights", "a.safetensors", "--canvases", "20", "--json", "--out", "e"],
      in: dir)
    #expect(eval.status == 0, "\(eval.err)")
    let summary = try JSONSerialization.jsonObject(with: Data(eval.out.utf8)) as? [String: Any] ?? [:]
    #expect((summary["training_attn_saliency"] as? [Double])?.count == 3)
    #expect(summary["task"] as? String == "multiset")
    let missing = try runEphys(["evaluate", "saliency-multiset", "--weights", "nothing.safetensors"], in: dir)
    #expect(missing.status != 0 && missing.err.contains("nothing.safetensors"))
  }
}
