import Engine
import Foundation
import ImageIO
import Testing

@Suite("ephys attribute and ephys pointing-game")
struct AttributionCommandTests {
  @Test("pointing-game on shipped canvases: table, files, same seed same bytes; c-MWP beats the centre")
  func pointingGame() throws {
    let dir = try temporaryFolder("pointing")
    let args = [
      "pointing-game", "--data", "canvases:24", "--methods", "gradient,mwp,c-mwp,center", "--randomisation-pairs", "8",
      "--weights", repositoryRoot + "/Checkpoints/multi-digit-cnn.safetensors",
    ]
    let a = try runEphys(args + ["--out", "a"], in: dir)
    #expect(a.status == 0, "\(a.err)")
    let b = try runEphys(args + ["--out", "b"], in: dir)
    #expect(b.status == 0)
    let fa = contents(of: dir + "/a")
    #expect(Set(fa.keys).isSuperset(of: ["pointing_game.csv", "summary.json", "report.pdf", "randomisation.csv"]))
    for name in ["pointing_game.csv", "pointing_per_category.csv", "randomisation.csv", "summary.json"] {
      #expect(fa[name] == contents(of: dir + "/b")[name], "\(name) differs between two runs")
    }
    let rows = try String(contentsOfFile: dir + "/a/pointing_game.csv", encoding: .utf8).split(separator: "\n")
      .dropFirst().map { $0.split(separator: ",").map(String.init) }
    let score = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], Double($0[1])!) })
    #expect(score["c-mwp"]! > score["center"]! + 30, "\(score)")
    let bad = try runEphys(Array(args.dropLast(2)) + ["--weights", args.last!, "--data", "voc", "--out", "c"], in: dir)
    #expect(bad.status != 0 && bad.err.contains("voc:ROOT"))
  }

  @Test("pointing-game on a VOC folder: boxes, difficult pairs skipped, clear errors")
  func voc() throws {
    let dir = try temporaryFolder("voc")
    try FileManager.default.createDirectory(atPath: dir + "/VOC/Annotations", withIntermediateDirectories: true)
    try FileManager.default.createDirectory(atPath: dir + "/VOC/JPEGImages", withIntermediateDirectories: true)
    for i in 0..<2 {
      let image = RasterImage(
        width: 80, height: 60, channels: 3, pixels: (0..<(80 * 60 * 3)).map { UInt8(($0 * (i + 3)) % 251) })
      try image.writePNG(to: dir + "/VOC/JPEGImages/im\(i).png")
      let xml = """
        <annotation><filename>im\(i).png</filename><size><width>80</width><height>60</height><depth>3</depth></size>
        <object><name>dog</name><difficult>0</difficult><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>30</xmax><ymax>40</ymax></bndbox></object>
        <object><name>cat</name><difficult>1</difficult><bndbox><xmin>40</xmin><ymin>10</ymin><xmax>70</xmax><ymax>50</ymax></bndbox></object>
        </annotation>
        """
      try xml.write(toFile: dir + "/VOC/Annotations/im\(i).xml", atomically: true, encoding: .utf8)
    }
    let r = try runEphys(
      [
        "pointing-game", "--model", "vgg11", "--weights", "random", "--data", "voc:VOC", "--methods", "gradient,center",
        "--randomisation-pairs", "0", "--out", "out",
      ], in: dir)
    #expect(r.status == 0, "\(r.err)")
    #expect(r.out.contains("2 images, 2 (image, category) pairs"), "the all-difficult cat boxes are skipped: \(r.out)")
    try "<annotation><size><width>80</width></size>".write(
      toFile: dir + "/VOC/Annotations/im1.xml", atomically: true, encoding: .utf8)
    let bad = try runEphys(
      ["pointing-game", "--model", "vgg11", "--weights", "random", "--data", "voc:VOC", "--out", "out2"], in: dir)
    #expect(bad.status != 0 && bad.err.contains("im1.xml"), "\(bad.err)")
  }

  @Test("attribute: maps at the layer's resolution, upsampled, PNG overlays, clear errors")
  func attribute() throws {
    let dir = try temporaryFolder("attribute")
    let x = StoredTensor(
      name: "x", shape: [2, 1, 64, 64], floats: (0..<(2 * 64 * 64)).map { Float(($0 * 37) % 101) / 101 })
    try NPY.write(x, to: dir + "/x.npy")
    let weights = repositoryRoot + "/Checkpoints/multi-digit-cnn.safetensors"
    let base = ["attribute", "--model", "multi-digit-cnn", "--weights", weights, "--input", "x.npy"]
    let r = try runEphys(base + ["--method", "c-mwp", "--class", "3,5", "--out", "m.npy", "--png", "png"], in: dir)
    #expect(r.status == 0, "\(r.err)")
    #expect(try NPY.read(dir + "/m.npy").shape == [2, 16, 16])
    #expect(FileManager.default.fileExists(atPath: dir + "/png/map_0001.png"))
    let u = try runEphys(base + ["--method", "gradient", "--class", "3", "--out", "g.npy", "--upsample"], in: dir)
    #expect(u.status == 0, "\(u.err)")
    #expect(try NPY.read(dir + "/g.npy").shape == [2, 64, 64])
    let bad = try runEphys(
      base + ["--method", "mwp", "--class", "3", "--layer", "features.99", "--out", "b.npy"], in: dir)
    #expect(bad.status != 0 && bad.err.contains("no layer 'features.99'"), "\(bad.err)")
    let wrong = try runEphys(base + ["--method", "mwp", "--class", "1,2,3", "--out", "b.npy"], in: dir)
    #expect(wrong.status != 0 && wrong.err.contains("--class"))
  }
}
