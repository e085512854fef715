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

// The operand is read from a volatile every round and the sums are stored
// to one after the loop, so the compiler can neither fold the loop nor drop
// it; each loop is unrolled, its accumulators in registers.
volatile float operand = 1e-8f;
volatile int operand_pairs = 0x32ab32ab;  // two bfloat16 of about 2e-8
volatile float sink = 0;

// `rounds` rounds of `chains` independent instructions each.
__attribute__((target("avx2,fma"))) void fma_avx2_rounds(long rounds) {
  __m256 acc[kChainsAvx2];
  for (auto& a : acc) a = _mm256_setzero_ps();
  for (long i = 0; i < rounds; ++i) {
    const __m256 x = _mm256_set1_ps(operand);
#pragma GCC unroll 24
    for (auto& a : acc) a = _mm256_fmadd_ps(x, x, a);
  }
  __m256 total = _mm256_setzero_ps();
  for (const auto& a : acc) total = _mm256_add_ps(total, a);
  sink = _mm256_cvtss_f32(total);
}

__attribute__((target("avx512f"))) void fma_avx512_rounds(long rounds) {
  __m512 acc[kChainsAvx512];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (long i = 0; i < rounds; ++i) {
    const __m512 x = _mm512_set1_ps(operand);
#pragma GCC unroll 24
    for (auto& a : acc) a = _mm512_fmadd_ps(x, x, a);
  }
  __m512 total = _mm512_setzero_ps();
  for (const auto& a : acc) total = _mm512_add_ps(total, a);
  sink = _mm512_cvtss_f32(total);  // one lane: it depends on every accumulator
}

__attribute__((target("avx512f,avx512bf16"))) void dpbf16_rounds(long rounds) {
  __m512 acc[kChainsAvx512];
  for (auto& a : acc) a = _mm512_setzero_ps();
  for (long i = 0; i < rounds; ++i) {
    const __m512bh x = (__m512bh)_mm512_set1_epi32(operand_pairs);
#pragma GCC unroll 24
    for (auto& a : acc) a = _mm512_dpbf16_ps(a, x, x);
  }
  __m512 total = _mm512_setzero_ps();
  for (const auto& a : acc) total = _mm512_add_ps(total, a);
  sink = _mm512_cvtss_f32(total);  // one lane: it depends on every accumulator
}

// FLOPs per second of `run`'s rounds of `chains` instructions of
// `flops_each`, the best of three timings of about seconds / 3 each.
double best_rate(double seconds, int chains, int flops_each, void (*run)(long)) {
  double best = 0;
  for (int t = 0; t < 3; ++t) {
    long rounds = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      run(1 << 16);
      rounds += 1 << 16;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < seconds / 3);
    best = std::max(best, double(rounds) * chains * flops_each / elapsed / 1e9);
  }
  return best;
}

}  // namespace

InstructionPeaks measure_instruction_peaks(double seconds) {
  InstructionPeaks p;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    p.fma_avx2 = best_rate(seconds, kChainsAvx2, 16, fma_avx2_rounds);
  if (__builtin_cpu_supports("avx512f")) p.fma_avx512 = best_rate(seconds, kChainsAvx512, 32, fma_avx512_rounds);
  if (__builtin_cpu_supports("avx512bf16")) p.dpbf16 = best_rate(seconds, kChainsAvx512, 64, dpbf16_rounds);
  return p;
}

}  // namespace aevb::bench
