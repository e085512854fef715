#include "instruction_peaks.hpp"

#include <immintrin.h>

#include <algorithm>
#include <chrono>

namespace aevb::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Independent accumulators: more than latency x throughput on any of these
// CPUs (4-5 cycles x 2 a cycle), so each loop runs at its unit's rate: 12 of
// AVX2's 16 registers, 24 of AVX-512's 32.
constexpr int kChainsAvx2 = 12, kChainsAvx512 = 24;

// FLOPs per second of `round`'s rounds of `chains` instructions of
// `flops_each`, the best of three timings.
template <class Round>
double best_rate(double seconds, int chains, int flops_each, const Round& round) {
  double best = 0;
  for (int t = 0; t < 3; ++t) {
    long rounds = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      round(1 << 16);
      rounds += 1 << 16;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < seconds / 3);
    best = std::max(best, double(rounds) * chains * flops_each / elapsed / 1e9);
  }
  return best;
}

// Each loop is unrolled (its accumulators stay in registers) and keeps them
// live past the timing with asm barriers on the operand, so the compiler can
// neither fold the loop nor drop it.
__attribute__((target("avx2,fma"))) double fma_avx2(double seconds) {
  return best_rate(seconds, kChainsAvx2, 16, [](long rounds) {
    __m256 acc[kChainsAvx2];
    for (auto& a : acc) a = _mm256_setzero_ps();
    __m256 x = _mm256_set1_ps(1e-8f);
    for (long i = 0; i < rounds; ++i) {
#pragma GCC unroll 24
      for (auto& a : acc) a = _mm256_fmadd_ps(x, x, a);
      __asm__ volatile("" : "+x"(x));
    }
    for (auto& a : acc) __asm__ volatile("" : : "x"(a));
  });
}

__attribute__((target("avx512f"))) double fma_avx512(double seconds) {
  return best_rate(seconds, kChainsAvx512, 32, [](long rounds) {
    __m512 acc[kChainsAvx512];
    for (auto& a : acc) a = _mm512_setzero_ps();
    __m512 x = _mm512_set1_ps(1e-8f);
    for (long i = 0; i < rounds; ++i) {
#pragma GCC unroll 24
      for (auto& a : acc) a = _mm512_fmadd_ps(x, x, a);
      __asm__ volatile("" : "+v"(x));
    }
    for (auto& a : acc) __asm__ volatile("" : : "v"(a));
  });
}

__attribute__((target("avx512f,avx512bf16"))) double dpbf16(double seconds) {
  return best_rate(seconds, kChainsAvx512, 64, [](long rounds) {
    __m512 acc[kChainsAvx512];
    for (auto& a : acc) a = _mm512_setzero_ps();
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x32ab32ab);  // small bf16 pairs
    for (long i = 0; i < rounds; ++i) {
#pragma GCC unroll 24
      for (auto& a : acc) a = _mm512_dpbf16_ps(a, x, x);
      __asm__ volatile("" : "+v"(x));
    }
    for (auto& a : acc) __asm__ volatile("" : : "v"(a));
  });
}

}  // namespace

InstructionPeaks measure_instruction_peaks(double seconds) {
  InstructionPeaks p;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) p.fma_avx2 = fma_avx2(seconds);
  if (__builtin_cpu_supports("avx512f")) p.fma_avx512 = fma_avx512(seconds);
  if (__builtin_cpu_supports("avx512bf16")) p.dpbf16 = dpbf16(seconds);
  return p;
}

}  // namespace aevb::bench
