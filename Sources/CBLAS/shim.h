// OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
#include <cblas.h>
// glibc allocator tuning (mallopt), used once by the kernels' set-up.
#include <malloc.h>
