internal import CKernels

/// Float kernels compiled in C for each instruction set (CKernels) and run on `InstructionSet.active`:
/// the loops whose vector width shows in a sweep. Each gives the bits of its Swift twin (named on each
/// function), which stays the path for Double and the reference in tests.
public enum VectorKernels {
  /// `maxPool2x2Values` for floats: 2x2, stride-2 maxima of `planes` planes [height, width].
  public static func maxPool2x2Values(
    _ input: UnsafePointer<Float>, planes: Int, height: Int, width: Int, output: UnsafeMutablePointer<Float>,
    on path: InstructionSet = .active
  ) {
    precondition(path <= InstructionSet.supported, "this CPU has no \(path.name) path")
    ephys_maxpool2x2_f32_isa(input, planes, height, width, output, path.isa)
  }

  /// `maxPool2x2BackwardPortable` for floats: each 2x2 window's winner in `input` gains dL/dOutput in
  /// `gradInput` [planes, height, width].
  public static func maxPool2x2Backward(
    _ input: UnsafePointer<Float>, gradOutput: UnsafePointer<Float>, planes: Int, height: Int, width: Int,
    gradInput: UnsafeMutablePointer<Float>, on path: InstructionSet = .active
  ) {
    precondition(path <= InstructionSet.supported, "this CPU has no \(path.name) path")
    ephys_maxpool2x2_backward_f32_isa(input, gradOutput, planes, height, width, gradInput, path.isa)
  }

  /// `col2imGatherAddPortable` for floats: col2im through a nearest-upsampling source map, added into
  /// `image` [channels, height, width].
  public static func col2imGatherAdd(
    _ col: UnsafePointer<Float>, ldCol: Int, _ g: ConvGeometry, _ map: NearestSourceMap,
    _ image: UnsafeMutablePointer<Float>, on path: InstructionSet = .active
  ) {
    precondition(path <= InstructionSet.supported, "this CPU has no \(path.name) path")
    precondition(map.rowSource.count == g.outHeight && map.colSource.count == g.outWidth, "source map size")
    var geometry = cGeometry(g)
    map.rowSource.withUnsafeBufferPointer { rs in
      map.colSource.withUnsafeBufferPointer { cs in
        ephys_col2im_gather_add_f32_isa(
          col, ldCol, &geometry, rs.baseAddress!, cs.baseAddress!, map.width, image, path.isa)
      }
    }
  }

  /// `im2colPortable` for floats: one image [channels, height, width] unfolded into columns with row
  /// stride `ldCol`, for the output rows `outputRows` (all by default).
  public static func im2col(
    _ image: UnsafePointer<Float>, _ g: ConvGeometry, _ col: UnsafeMutablePointer<Float>, ldCol: Int,
    outputRows: Range<Int>? = nil, on path: InstructionSet = .active
  ) {
    precondition(path <= InstructionSet.supported, "this CPU has no \(path.name) path")
    let rows = outputRows ?? 0..<g.outHeight
    var geometry = cGeometry(g)
    ephys_im2col_f32_isa(image, &geometry, col, ldCol, rows.lowerBound, rows.upperBound, path.isa)
  }

  /// The geometry as the C kernels take it (output size included).
  static func cGeometry(_ g: ConvGeometry) -> ephys_conv_geometry {
    ephys_conv_geometry(
      channels: g.channels, height: g.height, width: g.width, kernelH: g.kernelH, kernelW: g.kernelW,
      strideH: g.strideH, strideW: g.strideW, padH: g.padH, padW: g.padW, dilationH: g.dilationH,
      dilationW: g.dilationW, outHeight: g.outHeight, outWidth: g.outWidth)
  }
}
