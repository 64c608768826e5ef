// Run-time choice of the instruction-set path (see CKernels.h).
#include "CKernels.h"
#include "Dispatch.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return ((unsigned long long)edx << 32) | eax;
}

static ephys_isa detect(void) {
  unsigned int a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return EPHYS_ISA_BASELINE;
  int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
  if (!osxsave || !avx) return EPHYS_ISA_BASELINE;
  unsigned long long xcr0 = read_xcr0();
  if ((xcr0 & 0x6) != 0x6) return EPHYS_ISA_BASELINE;  // the OS saves XMM and YMM state
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return EPHYS_ISA_BASELINE;
  int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
  if (avx512f && (xcr0 & 0xE6) == 0xE6) return EPHYS_ISA_AVX512;  // and opmask, ZMM state
  return avx2 ? EPHYS_ISA_AVX2 : EPHYS_ISA_BASELINE;
}
#else
static ephys_isa detect(void) { return EPHYS_ISA_BASELINE; }
#endif

ephys_isa ephys_isa_supported(void) {
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    v = (int)detect();
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return (ephys_isa)v;
}

ephys_isa ephys_isa_active(void) {
  static int cached = -1;
  int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
  if (v < 0) {
    v = (int)ephys_isa_supported();
    const char *want = getenv("EPHYS_SIMD");
    if (want && strcmp(want, "baseline") == 0) v = EPHYS_ISA_BASELINE;
    if (want && strcmp(want, "avx2") == 0 && v > EPHYS_ISA_AVX2) v = EPHYS_ISA_AVX2;
    __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
  }
  return (ephys_isa)v;
}

const char *ephys_isa_name(ephys_isa isa) {
  switch (isa) {
    case EPHYS_ISA_AVX512: return "avx512";
    case EPHYS_ISA_AVX2: return "avx2";
    default: return "baseline";
  }
}
