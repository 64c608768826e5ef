// tanh for floats: the algorithm and constants of Kernels/FastTanh.swift, operation for operation.
#include "Dispatch.h"

#include <stdint.h>
#include <string.h>

EPHYS_INLINE float tanh1(float x) {
  float m = __builtin_fabsf(x);
  float a = m < 9.0f ? m : 9.0f;  // NaN takes 9 here and is restored at the end
  // Small |x|: x + x^3 (-1/3 + x^2 (2/15 + x^2 (-17/315 + x^2 (62/2835 + x^2 (-1382/155925))))).
  float z = a * a;
  float p = -1382.0f / 155925.0f;
  p = p * z + 62.0f / 2835.0f;
  p = p * z - 17.0f / 315.0f;
  p = p * z + 2.0f / 15.0f;
  p = p * z - 1.0f / 3.0f;
  float small = a + a * z * p;
  // Large |x|: e^(2a) = 2^k e^r; k rounded to nearest even by the 1.5 * 2^23 shift (0 <= k <= 26).
  float y = 2 * a;
  float k = (y * 1.44269504f + 12582912.0f) - 12582912.0f;
  float r = (y - k * 0.69314575f) - k * 1.4286068e-6f;
  float e = 1.0f / 5040.0f;
  e = e * r + 1.0f / 720.0f;
  e = e * r + 1.0f / 120.0f;
  e = e * r + 1.0f / 24.0f;
  e = e * r + 1.0f / 6.0f;
  e = e * r + 0.5f;
  e = e * r + 1;
  e = e * r + 1;
  float kb = k + 8388735.0f;
  uint32_t bits;
  __builtin_memcpy(&bits, &kb, 4);
  bits = (bits - 0x4B000000u) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, 4);
  float large = 1 - 2 / (e * scale + 1);
  float t = a < 0.4f ? small : large;
  uint32_t tb, xb;
  __builtin_memcpy(&tb, &t, 4);
  __builtin_memcpy(&xb, &x, 4);
  tb = (tb & 0x7FFFFFFFu) | (xb & 0x80000000u);
  float signedT;
  __builtin_memcpy(&signedT, &tb, 4);
  return x != x ? x : signedT;
}

EPHYS_INLINE void tanh_body(const float *restrict x, float *restrict y, ptrdiff_t n) {
  for (ptrdiff_t i = 0; i < n; i++) y[i] = tanh1(x[i]);
}

EPHYS_VARIANTS(tanh_f32, tanh_body, (const float *restrict x, float *restrict y, ptrdiff_t n), (x, y, n))

void ephys_tanh_f32_isa(const float *x, float *y, ptrdiff_t n, ephys_isa isa) {
  void (*f)(const float *restrict, float *restrict, ptrdiff_t);
  tanh_f32_on(isa, &f);
  f(x, y, n);
}

void ephys_tanh_f32(const float *x, float *y, ptrdiff_t n) { ephys_tanh_f32_isa(x, y, n, ephys_isa_active()); }
