// Float kernels compiled once per x86-64 instruction set (baseline SSE2, AVX2, AVX-512F) and chosen at
// run time from CPUID, so every CPU runs its widest path and none executes an instruction it lacks.
// Every variant does the same IEEE operations in the same order (no FMA contraction: -ffp-contract=off),
// so all paths give the same bits as each other and as the Swift twin each kernel names.
#ifndef EPHYS_CKERNELS_H
#define EPHYS_CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set paths: 0 baseline x86-64 (or any non-x86 CPU), 1 AVX2, 2 AVX-512F.
typedef enum { EPHYS_ISA_BASELINE = 0, EPHYS_ISA_AVX2 = 1, EPHYS_ISA_AVX512 = 2 } ephys_isa;

/// The widest path this CPU and OS support (CPUID and XGETBV), lowered by the environment variable
/// EPHYS_SIMD=baseline|avx2|avx512 when it names a narrower one. Decided once per process.
ephys_isa ephys_isa_active(void);

/// The widest path this CPU supports, ignoring EPHYS_SIMD (tests run every path up to it).
ephys_isa ephys_isa_supported(void);

/// Name of a path: "baseline", "avx2" or "avx512".
const char *ephys_isa_name(ephys_isa isa);

/// y[i] = tanh(x[i]) for n floats, bit for bit `FastTanh.value` (Swift) on every path.
void ephys_tanh_f32(const float *x, float *y, ptrdiff_t n);
/// The same on one chosen path (which must be <= ephys_isa_supported()).
void ephys_tanh_f32_isa(const float *x, float *y, ptrdiff_t n, ephys_isa isa);

/// 2x2, stride-2 max pool of `planes` planes [h, w] into [h/2, w/2], values only: bit for bit
/// `maxPool2x2Values` (Swift), NaN propagating.
void ephys_maxpool2x2_f32(const float *in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, float *out);
void ephys_maxpool2x2_f32_isa(const float *in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, float *out,
                              ephys_isa isa);

/// Backward of the 2x2, stride-2 max pool: each window's winner (recomputed from `in` by `maxPool2x2`'s
/// rule) gains dL/dOutput in `gin` [planes, h, w]; bit for bit `maxPool2x2BackwardPortable` (Swift).
void ephys_maxpool2x2_backward_f32(const float *in, const float *gout, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                   float *gin);
void ephys_maxpool2x2_backward_f32_isa(const float *in, const float *gout, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                       float *gin, ephys_isa isa);

/// A convolution's geometry as `ConvGeometry` (Swift) holds it, output size included.
typedef struct {
  ptrdiff_t channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW;
  ptrdiff_t outHeight, outWidth;
} ephys_conv_geometry;

/// col2im through a nearest-upsampling source map, adding into `image` [channels, height, width]: bit
/// for bit `col2imGatherAdd` (Swift). rowSource has outHeight entries, colSource outWidth.
void ephys_col2im_gather_add_f32(const float *col, ptrdiff_t ldCol, const ephys_conv_geometry *g,
                                 const ptrdiff_t *rowSource, const ptrdiff_t *colSource, ptrdiff_t mapWidth,
                                 float *image);
void ephys_col2im_gather_add_f32_isa(const float *col, ptrdiff_t ldCol, const ephys_conv_geometry *g,
                                     const ptrdiff_t *rowSource, const ptrdiff_t *colSource, ptrdiff_t mapWidth,
                                     float *image, ephys_isa isa);

/// im2col of one image [channels, height, width] for output rows [rowStart, rowEnd): bit for bit
/// `im2colPortable` (Swift); `col` rows have stride ldCol.
void ephys_im2col_f32(const float *image, const ephys_conv_geometry *g, float *col, ptrdiff_t ldCol,
                      ptrdiff_t rowStart, ptrdiff_t rowEnd);
void ephys_im2col_f32_isa(const float *image, const ephys_conv_geometry *g, float *col, ptrdiff_t ldCol,
                          ptrdiff_t rowStart, ptrdiff_t rowEnd, ephys_isa isa);

#ifdef __cplusplus
}
#endif

#endif
