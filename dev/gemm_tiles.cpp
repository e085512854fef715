// dev lab: how many fixed tiles should backend::gemm cut a product into?
// For each shape of the peer model's step, times the tiled product (one
// single-threaded OpenBLAS call per tile on aevb's thread pool, as
// src/backend/cpu/gemm_openblas.cpp does) for several tile counts.
//
// usage: gemm_tiles [threads] [repeats]
#include "core/thread_pool.hpp"

#include <aevb/vae.hpp>

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
  const char* name;
  bool ta, tb;
  int m, n, k;
};

// C = op(A) op(B) cut into `tiles` pieces along the longer side of C,
// each piece a multiple of `align` (the last one takes the rest).
void tiled(const Shape& s, int tiles, int align, const float* a, const float* b, float* c) {
  const int lda = s.ta ? s.m : s.k, ldb = s.tb ? s.k : s.n, ldc = s.n;
  const bool rows = s.m >= s.n;
  const int len = rows ? s.m : s.n;
  int step = (len + tiles - 1) / tiles;
  step = (step + align - 1) / align * align;
  const int count = (len + step - 1) / step;
  aevb::pool::for_each_task(std::size_t(count), [&](std::size_t task) {
    omp_set_num_threads(1);  // OpenBLAS's OpenMP build: single-threaded on this thread
    const int t = int(task), first = t * step, size = std::min(step, len - first);
    const CBLAS_TRANSPOSE ta = s.ta ? CblasTrans : CblasNoTrans, tb = s.tb ? CblasTrans : CblasNoTrans;
    if (rows) {
      const float* at = s.ta ? a + first : a + std::size_t(first) * lda;
      cblas_sgemm(CblasRowMajor, ta, tb, size, s.n, s.k, 1.0f, at, lda, b, ldb, 0.0f, c + std::size_t(first) * ldc, ldc);
    } else {
      const float* bt = s.tb ? b + std::size_t(first) * ldb : b + first;
      cblas_sgemm(CblasRowMajor, ta, tb, s.m, size, s.k, 1.0f, a, lda, bt, ldb, 0.0f, c + first, ldc);
    }
  });
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2, repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  aevb::set_threads(threads);
  const int batch = 128;
  const Shape shapes[] = {
      {"enc fwd", false, true, batch, 400, 784}, {"enc dW", true, false, 400, 784, batch},
      {"head fwd", false, true, batch, 40, 400}, {"head dW", true, false, 40, 400, batch},
      {"head dX", false, false, batch, 400, 40}, {"dec1 fwd", false, true, batch, 400, 20},
      {"dec1 dW", true, false, 400, 20, batch},  {"dec1 dX", false, false, batch, 20, 400},
      {"out fwd", false, true, batch, 784, 400}, {"out dW", true, false, 784, 400, batch},
      {"out dX", false, false, batch, 400, 784}, {"iw out fwd", false, true, 5000, 784, 400},
  };
  const int counts[] = {1, 2, 4, 8, 16};
  std::printf("%-12s %16s", "GFLOP/s", "64-wide (old)");
  for (int t : counts) std::printf("  tiles=%-3d", t);
  std::printf("\n");
  for (const Shape& s : shapes) {
    std::vector<float> a(std::size_t(s.m) * s.k, 0.5f), b(std::size_t(s.k) * s.n, 0.25f), c(std::size_t(s.m) * s.n);
    const double flops = 2.0 * s.m * s.n * s.k;
    auto rate = [&](int tiles, int align) {
      const int calls = std::max(1, int(2e8 / flops));
      tiled(s, tiles, align, a.data(), b.data(), c.data());
      std::vector<double> r;
      for (int i = 0; i < repeats; ++i) {
        const auto t0 = Clock::now();
        for (int j = 0; j < calls; ++j) tiled(s, tiles, align, a.data(), b.data(), c.data());
        r.push_back(flops * calls / std::chrono::duration<double>(Clock::now() - t0).count() / 1e9);
      }
      return median(r);
    };
    const int len = s.m >= s.n ? s.m : s.n;
    std::printf("%-12s %16.1f", s.name, rate((len + 63) / 64, 64));
    for (int t : counts) std::printf("  %9.1f", rate(t, 16));
    std::printf("\n");
  }
}
