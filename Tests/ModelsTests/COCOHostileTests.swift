import Datasets
import Foundation
import Testing

@Suite("COCO instances with extreme values")
struct COCOHostileTests {
  func write(_ json: [String: Any]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("coco-\(UUID().uuidString).json").path
    try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
    return path
  }

  func instances(height: Any = 48, polygon: [Double] = [4, 6, 22, 6, 22, 26, 4, 26], counts: [Any] = [100, 20, 2952])
    -> [String: Any]
  {
    [
      "images": [["id": 1, "file_name": "a.png", "height": height, "width": 64]],
      "categories": [["id": 1, "name": "thing", "supercategory": "animal"]],
      "annotations": [
        ["id": 1, "image_id": 1, "category_id": 1, "segmentation": [polygon]],
        ["id": 2, "image_id": 1, "category_id": 1, "segmentation": ["size": [48, 64], "counts": counts]],
      ],
    ]
  }

  @Test("huge image sizes and overflowing RLE counts are errors naming the file") func refused() throws {
    for json in [
      instances(height: 1e30), instances(height: 2_000_000_000), instances(counts: [100, Int.max, 5]),
      instances(counts: [1e40]), instances(counts: [100, 20, 99_999_999_999]),
    ] {
      let path = try write(json)
      defer { try? FileManager.default.removeItem(atPath: path) }
      #expect {
        let coco = try COCOInstances.load(path)
        for a in coco.annotations { _ = try a.mask(height: 48, width: 64) }
      } throws: { ($0 as? DatasetError) != nil }
    }
  }

  @Test("polygon vertices far outside the image rasterise without trapping") func farPolygon() throws {
    let mask = SegmentationMask.polygons([[-1e300, 0, 1e300, 0, 1e300, 40, -1e300, 40]], height: 48, width: 64)
    #expect(mask.count == 48 * 64 && mask.contains(1))
  }
}
