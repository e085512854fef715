#include "backend/gemm.hpp"

#include <aevb/vae.hpp>

#include <cblas.h>
#include <omp.h>

namespace aevb::backend {
namespace {

CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::yes ? CblasTrans : CblasNoTrans; }
blasint as_blas(std::size_t v) { return static_cast<blasint>(v); }

}  // namespace

template <>
void gemm<float>(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
                 std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

template <>
void gemm<double>(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
                  std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

void set_thread_count(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

int thread_count() { return omp_get_max_threads(); }

}  // namespace aevb::backend

namespace aevb {
void set_threads(int threads) { backend::set_thread_count(threads); }
}  // namespace aevb
