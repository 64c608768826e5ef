// 2x2, stride-2 max pool (values only) for floats: Kernels/Pooling.swift `maxPool2x2Values`, NaN propagating.
#include "Dispatch.h"

EPHYS_INLINE float nan_max(float p, float q) { return (p >= q || p != p) ? p : q; }

EPHYS_INLINE void maxpool_body(const float *restrict in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                               float *restrict out) {
  ptrdiff_t oh = h / 2, ow = w / 2;
  for (ptrdiff_t pl = 0; pl < planes; pl++) {
    const float *src = in + pl * h * w;
    float *dst = out + pl * oh * ow;
    for (ptrdiff_t y = 0; y < oh; y++) {
      const float *r0 = src + 2 * y * w, *r1 = r0 + w;
      float *d = dst + y * ow;
      for (ptrdiff_t x = 0; x < ow; x++)
        d[x] = nan_max(nan_max(r0[2 * x], r0[2 * x + 1]), nan_max(r1[2 * x], r1[2 * x + 1]));
    }
  }
}

EPHYS_VARIANTS(maxpool2x2_f32, maxpool_body,
               (const float *restrict in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, float *restrict out),
               (in, planes, h, w, out))

void ephys_maxpool2x2_f32_isa(const float *in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, float *out,
                              ephys_isa isa) {
  void (*f)(const float *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *restrict);
  maxpool2x2_f32_on(isa, &f);
  f(in, planes, h, w, out);
}

void ephys_maxpool2x2_f32(const float *in, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w, float *out) {
  ephys_maxpool2x2_f32_isa(in, planes, h, w, out, ephys_isa_active());
}
