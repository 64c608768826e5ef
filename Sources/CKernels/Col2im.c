// col2im through a nearest-upsampling source map for floats: Kernels/NearestSourceMap.swift
// `col2imGatherAdd`, loop for loop (the adds in the same order, so the same bits).
#include "Dispatch.h"

#include <stdlib.h>

EPHYS_INLINE void gather_add_body(const float *restrict col, ptrdiff_t ldCol, const ephys_conv_geometry *g,
                                  const ptrdiff_t *rs, const ptrdiff_t *cs, ptrdiff_t mapWidth,
                                  float *restrict image, float *restrict expanded) {
  ptrdiff_t oh = g->outHeight, ow = g->outWidth, row = 0;
  for (ptrdiff_t c = 0; c < g->channels; c++) {
    float *plane = image + c * g->height * g->width;
    for (ptrdiff_t ki = 0; ki < g->kernelH; ki++) {
      for (ptrdiff_t kj = 0; kj < g->kernelW; kj++) {
        const float *src = col + row * ldCol;
        ptrdiff_t offI = ki * g->dilationH - g->padH;
        ptrdiff_t offJ = kj * g->dilationW - g->padW;
        int contiguous = g->strideW == 1 && offJ >= 0 && ow - 1 + offJ < g->width;
        ptrdiff_t gathered = -1;
        for (ptrdiff_t y = 0; y < oh; y++) {
          ptrdiff_t iy = y * g->strideH + offI;
          if (iy < 0 || iy >= g->height) continue;
          float *dst = plane + iy * g->width;
          const float *s = src + rs[y] * mapWidth;
          if (contiguous) {
            if (rs[y] != gathered) {
              for (ptrdiff_t x = 0; x < ow; x++) expanded[x] = s[cs[x]];
              gathered = rs[y];
            }
            float *d = dst + offJ;
            // Rows are short (16 to 40 floats): one vector at a time, not four.
#pragma clang loop vectorize_width(8) interleave_count(1)
            for (ptrdiff_t x = 0; x < ow; x++) d[x] += expanded[x];
            continue;
          }
          for (ptrdiff_t x = 0; x < ow; x++) {
            ptrdiff_t ix = x * g->strideW + offJ;
            if (ix >= 0 && ix < g->width) dst[ix] += s[cs[x]];
          }
        }
        row++;
      }
    }
  }
}

EPHYS_VARIANTS(gather_add_f32, gather_add_body,
               (const float *restrict col, ptrdiff_t ldCol, const ephys_conv_geometry *g, const ptrdiff_t *rs,
                const ptrdiff_t *cs, ptrdiff_t mapWidth, float *restrict image, float *restrict expanded),
               (col, ldCol, g, rs, cs, mapWidth, image, expanded))

void ephys_col2im_gather_add_f32_isa(const float *col, ptrdiff_t ldCol, const ephys_conv_geometry *g,
                                     const ptrdiff_t *rowSource, const ptrdiff_t *colSource, ptrdiff_t mapWidth,
                                     float *image, ephys_isa isa) {
  float stack[1024];
  float *expanded = g->outWidth <= 1024 ? stack : malloc(sizeof(float) * (size_t)g->outWidth);
  if (!expanded) abort();
  void (*f)(const float *restrict, ptrdiff_t, const ephys_conv_geometry *, const ptrdiff_t *, const ptrdiff_t *,
            ptrdiff_t, float *restrict, float *restrict);
  gather_add_f32_on(isa, &f);
  f(col, ldCol, g, rowSource, colSource, mapWidth, image, expanded);
  if (expanded != stack) free(expanded);
}

void ephys_col2im_gather_add_f32(const float *col, ptrdiff_t ldCol, const ephys_conv_geometry *g,
                                 const ptrdiff_t *rowSource, const ptrdiff_t *colSource, ptrdiff_t mapWidth,
                                 float *image) {
  ephys_col2im_gather_add_f32_isa(col, ldCol, g, rowSource, colSource, mapWidth, image, ephys_isa_active());
}
