import CCairo
import CPNG
import Foundation
import Testing

/// The C libraries link, and BLAS calls go to OpenBLAS (GSL's gslcblas must never shadow it).
@Suite("System libraries")
struct LinkageTests {
  @Test("cblas_sgemm resolves to OpenBLAS") func sgemmIsOpenBLAS() throws {
    let global = dlsym(nil, "cblas_sgemm")  // RTLD_DEFAULT: what the process actually calls
    #expect(global != nil)
    let openblas = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD)
    #expect(openblas != nil, "libopenblas is not loaded in this process")
    if let openblas {
      #expect(dlsym(openblas, "cblas_sgemm") == global, "cblas_sgemm does not come from OpenBLAS")
    }
  }

  @Test("Cairo and libpng answer") func libraries() {
    #expect(cairo_version() >= 11400)
    #expect(png_access_version_number() >= 10600)
  }
}
