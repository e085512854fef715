#pragma once
// bfloat16 products on AMX (src/backend/cpu/gemm_bf16_amx.cpp): the optional
// fast path for training's matrix products on CPUs that have it.
#include "backend/gemm.hpp"

#include <cstddef>
#include <string_view>

namespace aevb::backend {

/// Whether this CPU has AMX-BF16 (and AVX512-BF16) and the OS grants this
/// process the tile state. Asked once; later calls return the first answer.
bool bf16_products_available();

/// Throws InputError, "`who`: matmul_precision bfloat16 needs ...", unless
/// bf16_products_available().
void require_bf16_products(std::string_view who);

/// C = alpha * op(A) op(B) + beta * C, row-major, with op(A) and op(B) rounded
/// to bfloat16 (to nearest even) and the products summed in float32 in a
/// fixed order, on aevb's thread pool (the same result on any thread count).
/// Requires bf16_products_available().
void gemm_bf16(Trans trans_a, Trans trans_b, std::size_t m, std::size_t n, std::size_t k, float alpha,
               const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
               std::size_t ldc);

}  // namespace aevb::backend
