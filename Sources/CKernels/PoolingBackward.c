// Backward of the 2x2, stride-2 max pool for floats: Kernels/Pooling.swift `maxPool2x2BackwardPortable`
// (winners recomputed from the input by `maxPool2x2`'s rule: the first maximum in row-major window
// order wins, NaN wins; dL/dOutput added into the winner, the other three left as they are).
#include "Dispatch.h"

EPHYS_INLINE void maxpool_backward_body(const float *restrict in, const float *restrict gout, ptrdiff_t planes,
                                        ptrdiff_t h, ptrdiff_t w, float *restrict gin) {
  ptrdiff_t oh = h / 2, ow = w / 2;
  for (ptrdiff_t pl = 0; pl < planes; pl++) {
    const float *src = in + pl * h * w;
    const float *g = gout + pl * oh * ow;
    float *d = gin + pl * h * w;
    for (ptrdiff_t y = 0; y < oh; y++) {
      const float *r0 = src + 2 * y * w, *r1 = r0 + w;
      float *d0 = d + 2 * y * w, *d1 = d0 + w;
      const float *gy = g + y * ow;
      for (ptrdiff_t x = 0; x < ow; x++) {
        float a = r0[2 * x], b = r0[2 * x + 1], c = r1[2 * x], e = r1[2 * x + 1];
        float best = a;
        int bi = 0;
        int t = best == best && (b > best || b != b);
        best = t ? b : best;
        bi = t ? 1 : bi;
        t = best == best && (c > best || c != c);
        best = t ? c : best;
        bi = t ? 2 : bi;
        t = best == best && (e > best || e != e);
        bi = t ? 3 : bi;
        float gv = gy[x];
        d0[2 * x] = bi == 0 ? d0[2 * x] + gv : d0[2 * x];
        d0[2 * x + 1] = bi == 1 ? d0[2 * x + 1] + gv : d0[2 * x + 1];
        d1[2 * x] = bi == 2 ? d1[2 * x] + gv : d1[2 * x];
        d1[2 * x + 1] = bi == 3 ? d1[2 * x + 1] + gv : d1[2 * x + 1];
      }
    }
  }
}

EPHYS_VARIANTS(maxpool2x2_backward_f32, maxpool_backward_body,
               (const float *restrict in, const float *restrict gout, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                float *restrict gin),
               (in, gout, planes, h, w, gin))

void ephys_maxpool2x2_backward_f32_isa(const float *in, const float *gout, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                       float *gin, ephys_isa isa) {
  void (*f)(const float *restrict, const float *restrict, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *restrict);
  maxpool2x2_backward_f32_on(isa, &f);
  f(in, gout, planes, h, w, gin);
}

void ephys_maxpool2x2_backward_f32(const float *in, const float *gout, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                   float *gin) {
  ephys_maxpool2x2_backward_f32_isa(in, gout, planes, h, w, gin, ephys_isa_active());
}
