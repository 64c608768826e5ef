import Datasets
import ImageIO

/// One canvas's hierarchical attention as an image, one row: the canvas, then per meta step three
/// tiles: the saliency map S_t, the Gaussian mask M_t (each scaled to its own maximum, grey) and the
/// priority map P_t in red over the canvas with the step's glimpse locations as squares (green:
/// first glimpse, blue: second, then yellow). Tiles are the canvas size times `scale`.
public func glimpseFigure(canvas: MultiDigitCanvas, steps: [MetaStepVisual], grid: Int, scale: Int = 3)
  -> RasterImage
{
  let side = canvas.side
  let cell = side / grid
  let out = side * scale
  func tile(_ rgb: (Int, Int) -> (Float, Float, Float)) -> RasterImage {
    var px = [UInt8](repeating: 0, count: out * out * 3)
    for y in 0..<out {
      for x in 0..<out {
        let (r, g, b) = rgb(y / scale, x / scale)
        let i = (y * out + x) * 3
        px[i] = UInt8(max(0, min(255, (r * 255).rounded())))
        px[i + 1] = UInt8(max(0, min(255, (g * 255).rounded())))
        px[i + 2] = UInt8(max(0, min(255, (b * 255).rounded())))
      }
    }
    return RasterImage(width: out, height: out, channels: 3, pixels: px)
  }
  func gridMap(_ values: [Float]) -> (Int, Int) -> Float {
    let peak = max(values.max() ?? 0, 1e-12)
    return { y, x in values[min(grid - 1, y / cell) * grid + min(grid - 1, x / cell)] / peak }
  }
  var tiles = [
    tile { y, x in
      let v = canvas.pixels[y * side + x]
      return (v, v, v)
    }
  ]
  let marks: [(Float, Float, Float)] = [(0, 1, 0), (0.2, 0.5, 1), (1, 1, 0)]
  for step in steps {
    let s = gridMap(step.saliency)
    let m = gridMap(step.mask)
    let p = gridMap(step.priority)
    tiles.append(
      tile { y, x in
        let v = s(y, x)
        return (v, v, v)
      })
    tiles.append(
      tile { y, x in
        let v = m(y, x)
        return (v, v, v)
      })
    tiles.append(
      tile { y, x in
        let v = canvas.pixels[y * side + x] * 0.6
        let heat = p(y, x)
        // Glimpse squares: the border of the glimpsed cell.
        for (i, a) in step.glimpses.enumerated() {
          let (gy, gx) = (a / grid * cell, a % grid * cell)
          let inside = y >= gy && y < gy + cell && x >= gx && x < gx + cell
          let border = inside && (y == gy || y == gy + cell - 1 || x == gx || x == gx + cell - 1)
          if border { return marks[min(i, marks.count - 1)] }
        }
        return (min(1, v + heat), v, v)
      })
  }
  return montage(tiles, columns: tiles.count, gap: 4)
}
