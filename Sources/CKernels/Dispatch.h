// Stamps out one kernel per instruction set from an always-inline body, plus the dispatching entry
// points. Clang inlines the body into each target-attributed wrapper and vectorises it for that ISA.
#ifndef EPHYS_DISPATCH_H
#define EPHYS_DISPATCH_H

#include "CKernels.h"

#define EPHYS_INLINE static inline __attribute__((always_inline))

#if defined(__x86_64__)
/// Defines name_avx512, name_avx2 and name_baseline, each running body ARGS with PARAMS, and
/// name_on(isa, &f), which sets f to the variant for `isa`.
#define EPHYS_VARIANTS(name, body, PARAMS, ARGS)                                        \
  __attribute__((target("avx512f"))) static void name##_avx512 PARAMS { body ARGS; }  \
  __attribute__((target("avx2"))) static void name##_avx2 PARAMS { body ARGS; }       \
  static void name##_baseline PARAMS { body ARGS; }                                   \
  static void name##_on(ephys_isa isa, void (**f) PARAMS) {                          \
    *f = isa == EPHYS_ISA_AVX512 ? name##_avx512                                      \
       : isa == EPHYS_ISA_AVX2   ? name##_avx2                                        \
                                 : name##_baseline;                                   \
  }
#else
#define EPHYS_VARIANTS(name, body, PARAMS, ARGS)                                        \
  static void name##_baseline PARAMS { body ARGS; }                                   \
  static void name##_on(ephys_isa isa, void (**f) PARAMS) {                          \
    (void)isa;                                                                        \
    *f = name##_baseline;                                                             \
  }
#endif

#endif
