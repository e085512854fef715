#pragma once
// The backend seam's matrix product, row-major: C = alpha * op(A) op(B) + beta * C.
// The CPU implementation calls OpenBLAS (sgemm/dgemm); a CUDA backend would
// implement the same signature over device pointers.
#include <aevb/config.hpp>

#include <cstddef>

namespace aevb::backend {

enum class Trans { no, yes };

/// Float products started on this thread while it lives use `precision`
/// (bfloat16: src/backend/cpu/gemm_bf16.hpp; std::logic_error where it is
/// not available, so check bf16_products_available() first); float32 again
/// after. Double products ignore it.
class ScopedMatmulPrecision {
 public:
  explicit ScopedMatmulPrecision(MatmulPrecision precision);
  ~ScopedMatmulPrecision();
  ScopedMatmulPrecision(const ScopedMatmulPrecision&) = delete;
  ScopedMatmulPrecision& operator=(const ScopedMatmulPrecision&) = delete;

 private:
  MatmulPrecision saved_;
};

/// The precision of float products started on this thread (float32 unless
/// a ScopedMatmulPrecision says otherwise): work handed to the pool's threads
/// passes it on with a ScopedMatmulPrecision of its own.
MatmulPrecision matmul_precision();

template <class T>
void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

/// The same product as one call on the calling thread, not cut into tiles
/// (bfloat16 products still spread over the pool, inline when called from a
/// pool job): for callers whose work is already parallel in pieces fixed by
/// the problem, such as the conv layers' chunks, where tiles would only pack
/// the shared operand again for each.
template <class T>
void gemm_untiled(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
                  std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

/// How the CPU backend cuts a product into tiles, one single-threaded BLAS
/// call each, run on aevb's thread pool: a function of the shape and the
/// machine's processor count, never of the thread count, so that every element
/// of C is computed by the same call whatever set_threads says.
struct TilePlan {
  bool split_rows = false;  // tiles are rows of C (else columns)
  std::size_t len = 0;      // rows or columns of C being split
  std::size_t count = 1;    // tiles; 1: one call
  std::size_t unit = 1, per_tile = 0, larger = 0;  // tile sizes: per_tile or per_tile + 1 units
  static TilePlan of(std::size_t m, std::size_t n, std::size_t k);  // this machine's processors
  static TilePlan of(std::size_t m, std::size_t n, std::size_t k, std::size_t procs);
  std::size_t first(std::size_t tile) const;
  std::size_t size(std::size_t tile) const;
};

}  // namespace aevb::backend
