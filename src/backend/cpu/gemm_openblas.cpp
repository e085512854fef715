// GEMM on OpenBLAS, made reproducible across thread counts. OpenBLAS's own
// threading changes the result with the thread count (its single-thread
// small-matrix kernels and its threaded blocked path round differently), so
// we split C into tiles of a fixed size, independent of the thread count, and
// run one single-threaded BLAS call per tile on aevb's pool (core/thread_pool).
// Every element of C is then computed by the same kernel on the same operands
// whatever the number of threads.
#include "backend/gemm.hpp"

#include "backend/cpu/gemm_bf16.hpp"

#include "core/thread_pool.hpp"

#include <aevb/vae.hpp>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace aevb::backend {
namespace {

// How a product is cut (dev/gemm_tiles.cpp measures the choices). Each tile's
// call packs its slice of one operand and the whole other one, so fewer tiles
// pack less: a product is cut into one tile per processor of the machine
// (pool::processor_count(): fixed for a machine, whatever set_threads says),
// fewer where the side being cut is short (one per kTile started), an even
// count (two or four threads get equal shares); below kParallelFlops it is
// one call. Small products were once cut into many tiles about kTile wide,
// dealt round-robin: the threads then wrote alternating stretches of C's rows,
// whose cache lines moved between the cores, and on an AVX-512 Xeon the
// 128 x 400 x 40 dL/dh ran at 66 GFLOP/s on two threads against 113 in halves
// (the peer step: +3%, docs/performance.md).
constexpr std::size_t kTile = 64;
constexpr double kParallelFlops = 2e6;

// OpenBLAS's OpenMP build sizes its own threading by the calling thread's
// omp_get_max_threads() at every call (whatever openblas_set_num_threads
// said), and its threaded path rounds differently. Every call therefore runs
// with that thread's OpenMP count set to 1 for its duration.
class SerialBlas {
 public:
  SerialBlas() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~SerialBlas() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  SerialBlas(const SerialBlas&) = delete;
  SerialBlas& operator=(const SerialBlas&) = delete;

 private:
  int saved_;
};

CBLAS_TRANSPOSE to_cblas(Trans t) { return t == Trans::yes ? CblasTrans : CblasNoTrans; }
blasint as_blas(std::size_t v) { return static_cast<blasint>(v); }

thread_local MatmulPrecision thread_precision = MatmulPrecision::float32;

// With beta = 0, OpenBLAS first zeroes C in a scalar loop of its own (one
// store a cycle on Zen: 8% of a VQ-VAE training step, whose products write
// 20 million values), then adds the product to it. Zeroing C here (memset)
// and asking for beta = 1 computes the same sums, bitwise: 0 + x is x.
template <class T>
T zero_for_blas(T beta, std::size_t m, std::size_t n, T* c, std::size_t ldc) {
  if (beta != T(0)) return beta;
  if (ldc == n) {
    std::fill_n(c, m * n, T(0));
  } else {
    for (std::size_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, T(0));
  }
  return T(1);
}

void blas(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, float alpha, const float* a,
          std::size_t lda, const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  const SerialBlas serial;
  beta = zero_for_blas(beta, m, n, c, ldc);
  cblas_sgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

void blas(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, double alpha, const double* a,
          std::size_t lda, const double* b, std::size_t ldb, double beta, double* c, std::size_t ldc) {
  const SerialBlas serial;
  beta = zero_for_blas(beta, m, n, c, ldc);
  cblas_dgemm(CblasRowMajor, to_cblas(ta), to_cblas(tb), as_blas(m), as_blas(n), as_blas(k), alpha, a,
              as_blas(lda), b, as_blas(ldb), beta, c, as_blas(ldc));
}

// The product in bfloat16 (gemm_bf16, which spreads its own work over the
// pool) where this thread asks for it; false otherwise.
template <class T>
bool bf16_product(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    if (thread_precision == MatmulPrecision::bfloat16) {
      gemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      return true;
    }
  }
  return false;
}

}  // namespace

MatmulPrecision matmul_precision() { return thread_precision; }

template <class T>
void gemm_untiled(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (!bf16_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
    blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <class T>
void gemm(Trans ta, Trans tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a, std::size_t lda,
          const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (bf16_product(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
  const TilePlan plan = TilePlan::of(m, n, k);
  if (plan.count == 1) {
    blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Round-robin: with an even count, the larger tiles (the first ones) split evenly between threads.
  pool::for_each_task(plan.count, [&](std::size_t t) {
    const std::size_t first = plan.first(t), size = plan.size(t);
    if (plan.split_rows) {
      // Rows [first, first + size) of op(A) and C.
      const T* a_tile = ta == Trans::no ? a + first * lda : a + first;
      blas(ta, tb, size, n, k, alpha, a_tile, lda, b, ldb, beta, c + first * ldc, ldc);
    } else {
      // Columns [first, first + size) of op(B) and C.
      const T* b_tile = tb == Trans::no ? b + first : b + first * ldb;
      blas(ta, tb, m, size, k, alpha, a, lda, b_tile, ldb, beta, c + first, ldc);
    }
  });
}

TilePlan TilePlan::of(std::size_t m, std::size_t n, std::size_t k, std::size_t procs) {
  TilePlan p;
  p.split_rows = m >= n;  // tile the longer side of C
  p.len = p.split_rows ? m : n;
  // Tile sizes are multiples of `unit`. Columns of C are OpenBLAS's M (row-major
  // C is its column-major C^T), which its AVX-512 kernels unroll by 16, but
  // equal halves (400 = 200 + 200 rather than 208 + 192) measured ~8% faster
  // on two threads than 16-aligned ones; rows are its N, unrolled by 4.
  p.unit = p.split_rows ? 4 : 8;
  const std::size_t units = p.len / p.unit;
  const double flops = 2.0 * double(m) * double(n) * double(k);
  std::size_t count = std::min(procs, (p.len + kTile - 1) / kTile);
  count += count % 2;
  count = std::min(count, units);
  if (flops < kParallelFlops || count < 2) count = 1;
  p.count = count;
  p.per_tile = units / count;
  p.larger = units % count;
  return p;
}

TilePlan TilePlan::of(std::size_t m, std::size_t n, std::size_t k) {
  static const auto procs = static_cast<std::size_t>(pool::processor_count());
  return of(m, n, k, procs);
}

std::size_t TilePlan::first(std::size_t t) const {
  return (t * per_tile + std::min(t, larger)) * unit;
}

std::size_t TilePlan::size(std::size_t t) const {
  if (count == 1) return len;
  // The last tile also takes the rows or columns that do not fill a unit.
  return t + 1 == count ? len - first(t) : (per_tile + (t < larger ? 1 : 0)) * unit;
}

template void gemm<float>(Trans, Trans, std::size_t, std::size_t, std::size_t, float, const float*, std::size_t,
                          const float*, std::size_t, float, float*, std::size_t);
template void gemm<double>(Trans, Trans, std::size_t, std::size_t, std::size_t, double, const double*, std::size_t,
                           const double*, std::size_t, double, double*, std::size_t);
template void gemm_untiled<float>(Trans, Trans, std::size_t, std::size_t, std::size_t, float, const float*,
                                  std::size_t, const float*, std::size_t, float, float*, std::size_t);
template void gemm_untiled<double>(Trans, Trans, std::size_t, std::size_t, std::size_t, double, const double*,
                                   std::size_t, const double*, std::size_t, double, double*, std::size_t);

ScopedMatmulPrecision::ScopedMatmulPrecision(MatmulPrecision precision) : saved_(thread_precision) {
  // Asking also obtains the OS's permission for the tile state, without which
  // the first AMX instruction would kill the process.
  if (precision == MatmulPrecision::bfloat16 && !bf16_products_available())
    throw std::logic_error("bfloat16 products requested on a machine without AMX-BF16");
  thread_precision = precision;
}

ScopedMatmulPrecision::~ScopedMatmulPrecision() { thread_precision = saved_; }

}  // namespace aevb::backend
