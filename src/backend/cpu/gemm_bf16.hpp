#pragma once
// bfloat16 products (src/backend/cpu/gemm_bf16.cpp): the optional fast path
// for training's matrix products, on AMX-BF16 (Intel Xeon of the 4th
// generation and later) or, without AMX, on AVX512-BF16's VDPBF16PS (AMD
// Zen 4 and later, Intel Cooper Lake), chosen at run time.
#include "backend/gemm.hpp"

#include <cstddef>
#include <span>
#include <string_view>

namespace aevb::backend {

/// The kernels that multiply the packed bfloat16 operands.
enum class Bf16Kernel { amx, avx512 };
std::string_view to_string(Bf16Kernel kernel);

/// The kernels this CPU (and, for AMX, the OS) provides, fastest first.
/// Asked once; later calls return the first answer.
std::span<const Bf16Kernel> bf16_kernels_available();

/// Whether any bf16 kernel is available.
bool bf16_products_available();

/// The kernel gemm_bf16 uses: the first available unless a ScopedBf16Kernel says otherwise.
Bf16Kernel bf16_kernel();

/// Forces `kernel` (which must be available) for its lifetime, for tests and
/// benchmarks that compare the kernels; not for concurrent use.
class ScopedBf16Kernel {
 public:
  explicit ScopedBf16Kernel(Bf16Kernel kernel);
  ~ScopedBf16Kernel();
  ScopedBf16Kernel(const ScopedBf16Kernel&) = delete;
  ScopedBf16Kernel& operator=(const ScopedBf16Kernel&) = delete;

 private:
  int previous_;  // the forced kernel before, or -1
};

/// Throws InputError, "`who`: matmul_precision bfloat16 needs ...", unless
/// bf16_products_available().
void require_bf16_products(std::string_view who);

/// C = alpha * op(A) op(B) + beta * C, row-major, with op(A) and op(B) rounded
/// to bfloat16 (to nearest even) and the products summed in float32 in a
/// fixed order, on aevb's thread pool (the same result on any thread count;
/// the two kernels order their sums differently, so they may differ in the
/// last bits). Requires bf16_products_available().
void gemm_bf16(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
               const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
               std::size_t ldc);

}  // namespace aevb::backend
