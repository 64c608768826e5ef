// im2col for floats: Kernels/ConvGeometry.swift `im2colPortable`, loop for loop (copies and zeros only,
// so the same bits), with the short row copies inlined instead of one memmove call per row.
#include "Dispatch.h"

EPHYS_INLINE void im2col_body(const float *restrict image, const ephys_conv_geometry *g, float *restrict col,
                              ptrdiff_t ldCol, ptrdiff_t y0, ptrdiff_t y1) {
  ptrdiff_t ow = g->outWidth, row = 0;
  for (ptrdiff_t c = 0; c < g->channels; c++) {
    const float *plane = image + c * g->height * g->width;
    for (ptrdiff_t ki = 0; ki < g->kernelH; ki++) {
      for (ptrdiff_t kj = 0; kj < g->kernelW; kj++) {
        float *dst = col + row * ldCol;
        ptrdiff_t offI = ki * g->dilationH - g->padH;
        ptrdiff_t offJ = kj * g->dilationW - g->padW;
        ptrdiff_t st = g->strideW;
        // Output columns whose input column x * st + offJ lies in the image.
        ptrdiff_t x0 = offJ >= 0 ? 0 : (-offJ + st - 1) / st;
        ptrdiff_t x1 = g->width - offJ <= 0 ? 0 : (g->width - offJ + st - 1) / st;
        if (x1 > ow) x1 = ow;
        if (x0 > ow) x0 = ow;
        for (ptrdiff_t y = y0; y < y1; y++) {
          ptrdiff_t iy = y * g->strideH + offI;
          float *d = dst + (y - y0) * ow;
          if (iy < 0 || iy >= g->height) {
            for (ptrdiff_t x = 0; x < ow; x++) d[x] = 0;
            continue;
          }
          const float *src = plane + iy * g->width;
          for (ptrdiff_t x = 0; x < x0; x++) d[x] = 0;
          for (ptrdiff_t x = x1 > x0 ? x1 : x0; x < ow; x++) d[x] = 0;
          if (st == 1) {
            const float *s = src + offJ;
            // Rows are short (tens of floats): one vector at a time, not four.
#pragma clang loop vectorize_width(8) interleave_count(1)
            for (ptrdiff_t x = x0; x < x1; x++) d[x] = s[x];
          } else {
            for (ptrdiff_t x = x0; x < x1; x++) d[x] = src[x * st + offJ];
          }
        }
        row++;
      }
    }
  }
}

EPHYS_VARIANTS(im2col_f32, im2col_body,
               (const float *restrict image, const ephys_conv_geometry *g, float *restrict col, ptrdiff_t ldCol,
                ptrdiff_t y0, ptrdiff_t y1),
               (image, g, col, ldCol, y0, y1))

void ephys_im2col_f32_isa(const float *image, const ephys_conv_geometry *g, float *col, ptrdiff_t ldCol,
                          ptrdiff_t rowStart, ptrdiff_t rowEnd, ephys_isa isa) {
  void (*f)(const float *restrict, const ephys_conv_geometry *, float *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t);
  im2col_f32_on(isa, &f);
  f(image, g, col, ldCol, rowStart, rowEnd);
}

void ephys_im2col_f32(const float *image, const ephys_conv_geometry *g, float *col, ptrdiff_t ldCol,
                      ptrdiff_t rowStart, ptrdiff_t rowEnd) {
  ephys_im2col_f32_isa(image, g, col, ldCol, rowStart, rowEnd, ephys_isa_active());
}
