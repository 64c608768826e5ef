import ArgumentParser
import Engine
import Foundation
import Models

/// `ephys grid-search object-attention`: the paper's Table 3 (accuracy over learning rate x phi).
struct GridSearch: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "grid-search", abstract: "Hyper-parameter grids.", subcommands: [GridSearchObjectAttention.self])
}

struct GridSearchObjectAttention: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "object-attention",
    abstract:
      "Train the MNIST variant for every (lr, phi) pair and trial; write final train and validation accuracy as CSV (paper Table 3)."
  )

  @Option(help: "Comma-separated learning rates.") var lr = "1e-3"
  @Option(help: "Comma-separated reconstruction weights phi.") var phi = "0,100,1000,10000"
  @Option(help: "Trials (seeds seed, seed+1, ...) per cell.") var trials = 1
  @Option(help: "Epochs per run.") var epochs = 10
  @Option(help: "Batch size.") var batch = 64
  @Option(help: "First seed.") var seed: UInt64 = 1
  @Option(help: "MNIST CSV (default data/mnist_5k.csv.gz).") var data: String?
  @Option(help: "Output CSV.") var out = "Reports/grid-search-object-attention.csv"

  func parse(_ list: String, _ flag: String) throws -> [Double] {
    try list.split(separator: ",").map {
      guard let v = Double($0.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0 else {
        throw ValidationError("\(flag): '\($0)' is not a non-negative number")
      }
      return v
    }
  }

  func run() throws {
    let lrs = try parse(lr, "--lr")
    let phis = try parse(phi, "--phi")
    guard trials > 0, epochs > 0, !lrs.isEmpty, !phis.isEmpty else {
      throw ValidationError("need at least one lr, phi, trial and epoch")
    }
    let config = ObjectAttentionConfig.mnist()
    let task = try ObjectAttentionTask.mnist(config: config, csv: data)
    var rows = ["lr,phi,trial,seed,epochs,train_accuracy,val_accuracy"]
    for l in lrs {
      for p in phis {
        for trial in 0..<trials {
          let s = seed &+ UInt64(trial)
          var settings = ObjectAttentionTrainingConfig()
          settings.learningRate = l
          settings.phi = Float(p)
          let net = ObjectAttentionNet(config, seed: s)
          let trainer = ObjectAttentionTrainer(net: net, config: settings)
          var correct = 0
          var total = 0
          for epoch in 0..<epochs {
            let source = task.trainingBatches(epoch, batch, s)
            correct = 0
            total = 0
            for b in 0..<source.count {
              let stats = try trainer.step(try source.make(b))
              correct += stats.correct
              total += stats.total
            }
          }
          let val = try task.evaluate(net, task.validation)
          let train = Double(correct) / Double(max(1, total))
          rows.append(String(format: "%g,%g,%d,%llu,%d,%.4f,%.4f", l, p, trial, s, epochs, train, val))
          say(rows.last!)
          try writeFileAtomically(Array((rows.joined(separator: "\n") + "\n").utf8), to: out)
        }
      }
    }
    say("wrote \(out)")
  }
}
