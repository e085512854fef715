// dev lab: bfloat16 products (each kernel the machine has: AMX, AVX512-BF16)
// against OpenBLAS float32, one product at a time, for the GEMM shapes of the
// peer model's step and the IW decoder. Prints GFLOP/s of each (on `threads`
// threads: aevb's pool for bf16, the same tiles as backend::gemm for
// OpenBLAS) and the worst difference between the
// two relative to sum |a b| (both operands rounded to bfloat16: up to about
// 2 * 2^-9 = 3.9e-3).
//
// usage: gemm_bf16 [threads] [repeats]
#include "backend/cpu/gemm_bf16.hpp"
#include "backend/gemm.hpp"
#include "core/rng.hpp"

#include <aevb/vae.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using aevb::backend::Trans;
using Clock = std::chrono::steady_clock;

struct Shape {
  const char* name;
  Trans ta, tb;
  std::size_t m, n, k;
};

// Median seconds of one call of `run` over `repeats` timings of ~0.1 s each.
template <class F>
double seconds_per_call(const F& run, int repeats) {
  run();
  std::vector<double> per_call;
  for (int r = 0; r < repeats; ++r) {
    std::size_t calls = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      run();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < 0.1);
    per_call.push_back(elapsed / double(calls));
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1, repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  if (!aevb::backend::bf16_products_available()) {
    std::printf("gemm_bf16: this machine has no bfloat16 kernel (neither AMX-BF16 nor AVX512-BF16)\n");
    return 0;
  }
  aevb::set_threads(threads);
  const Shape shapes[] = {
      {"enc fwd", Trans::no, Trans::yes, 128, 400, 784},  {"enc dW", Trans::yes, Trans::no, 400, 784, 128},
      {"head fwd", Trans::no, Trans::yes, 128, 40, 400},  {"dec1 fwd", Trans::no, Trans::yes, 128, 400, 20},
      {"out fwd", Trans::no, Trans::yes, 128, 784, 400},  {"out dW", Trans::yes, Trans::no, 784, 400, 128},
      {"out dX", Trans::no, Trans::no, 128, 400, 784},    {"iw out fwd", Trans::no, Trans::yes, 5000, 784, 400},
  };
  for (const aevb::backend::Bf16Kernel kernel : aevb::backend::bf16_kernels_available()) {
  const aevb::backend::ScopedBf16Kernel use(kernel);
  std::printf("%d thread(s)     %-18s %9s bf16 %12s %8s %14s\n", threads, "m x n x k",
              std::string(aevb::backend::to_string(kernel)).c_str(), "OpenBLAS f32", "ratio", "max |diff|/sum|ab|");
  for (const Shape& s : shapes) {
    const std::size_t a_cols = s.ta == Trans::no ? s.k : s.m, b_cols = s.tb == Trans::no ? s.n : s.k;
    std::vector<float> a(s.m * s.k), b(s.k * s.n), c16(s.m * s.n), c32(s.m * s.n);
    aevb::fill_normal(a.data(), a.size(), 1, 1);
    aevb::fill_normal(b.data(), b.size(), 1, 2);
    auto bf16 = [&] {
      aevb::backend::gemm_bf16(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), a_cols, b.data(), b_cols, 0.0f,
                               c16.data(), s.n);
    };
    auto blas = [&] {
      aevb::backend::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.0f, a.data(), a_cols, b.data(), b_cols, 0.0f,
                                 c32.data(), s.n);
    };
    const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
    const double t16 = seconds_per_call(bf16, repeats), t32 = seconds_per_call(blas, repeats);
    // Relative to sum |a b| of the element, computed in double.
    double worst = 0;
    for (std::size_t i = 0; i < s.m; i += 7) {
      for (std::size_t j = 0; j < s.n; j += 5) {
        double magnitude = 0;
        for (std::size_t kk = 0; kk < s.k; ++kk) {
          const double x = s.ta == Trans::no ? a[i * a_cols + kk] : a[kk * a_cols + i];
          const double y = s.tb == Trans::no ? b[kk * b_cols + j] : b[j * b_cols + kk];
          magnitude += std::fabs(x * y);
        }
        worst = std::max(worst, std::fabs(double(c16[i * s.n + j]) - c32[i * s.n + j]) / magnitude);
      }
    }
    std::printf("%-16s %5zu x %4zu x %4zu %12.1f %12.1f %7.1fx %14.1e\n", s.name, s.m, s.n, s.k, flops / t16 / 1e9,
                flops / t32 / 1e9, t32 / t16, worst);
  }
  }
  return 0;
}
