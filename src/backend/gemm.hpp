#pragma once
// The backend seam's matrix product, row-major: C = alpha * op(A) op(B) + beta * C.
// The CPU implementation calls OpenBLAS (sgemm/dgemm); a CUDA backend would
// implement the same signature over device pointers.
#include <cstddef>

namespace aevb::backend {

enum class Trans { no, yes };

template <class T>
void gemm(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
          std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

/// Sets the thread count of the one OpenMP pool (BLAS and our kernels).
void set_thread_count(int threads);
int thread_count();

}  // namespace aevb::backend
