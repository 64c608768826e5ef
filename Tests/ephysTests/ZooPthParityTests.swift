import Engine
import Foundation
import TestSupport
import Testing

/// The zoo against torchvision through the command line, as a user meets it: torchvision builds each
/// architecture with random weights and saves its state_dict as a .pth (scripts/fixtures/zoo_pth_parity.py,
/// run here with the system's python3 and Debian's python3-torchvision, which the test command installs);
/// `ephys extract` loads the file as it is and its logits and three intermediate layers must agree within
/// 1e-4 (normwise relative) at 224x224 and 64x64, batch 3 and batch 1.
@Suite("Zoo .pth files against torchvision", .serialized)
struct ZooPthParityTests {
  static let layers: [String: String] = [
    "alexnet": "features.4,features.11,classifier.5",
    "vgg11": "features.5,features.15,classifier.4", "vgg11_bn": "features.7,features.21,classifier.4",
    "vgg13": "features.8,features.19,classifier.4", "vgg13_bn": "features.12,features.27,classifier.4",
    "vgg16": "features.8,features.22,classifier.4", "vgg16_bn": "features.12,features.32,classifier.4",
    "vgg19": "features.8,features.26,classifier.4", "vgg19_bn": "features.12,features.38,classifier.4",
    "resnet18": "layer1.0,layer3.1,avgpool", "resnet34": "layer1.2,layer3.5,avgpool",
    "resnet50": "layer1.0,layer3.5,avgpool",
  ]

  @Test("torchvision .pth files load as they are and give torchvision's outputs at 224 and 64 pixels")
  func parity() throws {
    let peer = pythonPeer("torchvision")
    guard peer.present else {
      #expect(peer.absenceAllowed, "python3 cannot import torchvision (scripts/setup.sh installs python3-torchvision)")
      return
    }
    let dir = NSTemporaryDirectory() + "ephys-pth-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    for (model, layers) in Self.layers.sorted(by: { $0.key < $1.key }) {
      let script = Process()
      script.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
      script.arguments = [
        repositoryRoot + "/scripts/fixtures/zoo_pth_parity.py", model, "224,64", "3", layers, dir,
      ]
      try script.run()
      script.waitUntilExit()
      try #require(script.terminationStatus == 0, "the fixture script failed for \(model)")
      for size in [224, 64] {
        let expected = try readTensorFile(dir + "/expected-\(size).npz")
        for batch in [3, 1] {
          let out = dir + "/ours-\(batch).npz"
          let r = try runEphys(
            [
              "extract", "--model", model, "--weights", dir + "/model.pth", "--input", dir + "/x-\(size).npy",
              "--layers", layers,
              "--out", out, "--batch", "\(batch)",
            ], in: dir)
          try #require(r.status == 0, "ephys extract failed for \(model): \(r.err)")
          let ours = try readTensorFile(out)
          var worst = 0.0
          for name in layers.split(separator: ",").map(String.init) + ["logits"] {
            let a = try #require(ours.tensors.first { $0.name == name }, "\(model): no \(name) in the output")
            let b = try #require(expected.tensors.first { $0.name == name })
            #expect(a.count == b.count, "\(model) \(name): \(a.shape) vs torchvision \(b.shape)")
            let e = normwiseError(try a.floats(), try b.floats())
            worst = max(worst, e)
            #expect(e < 1e-4, "\(model) \(name) at \(size)x\(size), batch \(batch): normwise error \(e)")
          }
          print("PTH-PARITY \(model) \(size)x\(size) batch \(batch): worst normwise relative error \(worst)")
        }
      }
      try FileManager.default.removeItem(atPath: dir + "/model.pth")
    }
  }
}
