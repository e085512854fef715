// GEMM on OpenBLAS, made reproducible across thread counts. OpenBLAS's own
// threading changes the result with the thread count (its single-thread
// small-matrix kernels and its threaded blocked path round differently), so
// we split C into tiles of a fixed size, independent of the thread count, and
// run one single-threaded BLAS call per tile on our OpenMP pool (inside a
// parallel region the OpenMP build of OpenBLAS runs on the calling thread).
// Every element of C is then computed by the same kernel on the same operands
// whatever the number of threads.
#include "backend/gemm.hpp"

#include <aevb/vae.hpp>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace aevb::backend {
namespace {

// Tile size along the split dimension of C, and the work below which a
// product is one call (a parallel region would cost more than it saves).
constexpr std::size_t kTile = 64;
constexpr double kParallelFlops = 2e6;

CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::yes ? CblasTrans : CblasNoTrans; }
blasint as_blas(std::size_t v) { return static_cast<blasint>(v); }

void blas(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

void blas(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

}  // namespace

template <class T>
void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  // Also for programs that never call set_threads: BLAS is single-threaded.
  static const bool blas_single_threaded = [] {
    set_thread_count(omp_get_max_threads());
    return true;
  }();
  (void)blas_single_threaded;
  const bool split_rows = m >= n;  // tile the longer side of C
  const std::size_t tiles = ((split_rows ? m : n) + kTile - 1) / kTile;
  // One call for small products; tiles always otherwise (never depending on the thread count).
  if (2.0 * double(m) * double(n) * double(k) < kParallelFlops || tiles == 1) {
    blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  const auto count = static_cast<std::int64_t>(tiles);
#pragma omp parallel for schedule(static)
  for (std::int64_t t = 0; t < count; ++t) {
    const std::size_t first = static_cast<std::size_t>(t) * kTile;
    if (split_rows) {
      // Rows [first, first + size) of op(A) and C.
      const std::size_t size = std::min(kTile, m - first);
      const T* a_tile = ta == Trans::no ? a + first * lda : a + first;
      blas(ta, tb, size, n, k, alpha, a_tile, lda, b, ldb, beta, c + first * ldc, ldc);
    } else {
      // Columns [first, first + size) of op(B) and C.
      const std::size_t size = std::min(kTile, n - first);
      const T* b_tile = tb == Trans::no ? b + first : b + first * ldb;
      blas(ta, tb, m, size, k, alpha, a, lda, b_tile, ldb, beta, c + first, ldc);
    }
  }
}

template void gemm<float>(Trans, Trans, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(Trans, Trans, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t);

void set_thread_count(int threads) {
  if (threads <= 0) threads = omp_get_num_procs();
  // BLAS runs single-threaded inside our tiles: one pool, ours. In OpenBLAS's
  // OpenMP build this call also sets the OpenMP thread count, so ours comes after.
  openblas_set_num_threads(1);
  omp_set_num_threads(threads);
}

int thread_count() { return omp_get_max_threads(); }

}  // namespace aevb::backend

namespace aevb {
void set_threads(int threads) { backend::set_thread_count(threads); }
}  // namespace aevb
