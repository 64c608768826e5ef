// GNU Scientific Library (Debian: libgsl-dev). BLAS symbols come from OpenBLAS, not gslcblas.
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>

// The trust-region solver type as a function: Swift 6 refuses to read C global variables.
static inline const gsl_multifit_nlinear_type *ephys_nlinear_trust(void) { return gsl_multifit_nlinear_trust; }
