#pragma once
// The arithmetic peak of one core for the instructions aevb's products run
// on, measured: a loop of independent multiply-adds with no memory traffic.
// A product's GFLOP/s over the peak of its instruction says how much of the
// core it uses, on any CPU; the peaks also differ between CPUs in ways their
// names do not tell (VDPBF16PS on a Sapphire Rapids Xeon runs at half the
// float32 FMA's FLOP rate).
#include <optional>

namespace aevb::bench {

struct InstructionPeaks {
  std::optional<double> fma_avx2;    // VFMADD231PS on 8 floats (AVX2 + FMA), GFLOP/s
  std::optional<double> fma_avx512;  // the same on 16 floats (AVX-512F)
  std::optional<double> dpbf16;      // VDPBF16PS on 32 bf16 pairs (AVX512-BF16), 64 FLOP each
};

/// Each instruction the CPU has, timed for about `seconds` on the calling
/// thread (the best of 3 timings); absent where the CPU lacks it.
InstructionPeaks measure_instruction_peaks(double seconds = 0.1);

}  // namespace aevb::bench
