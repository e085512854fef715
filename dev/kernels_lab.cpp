// dev lab: the versions of the fused elementwise kernels that were tried, side
// by side: the simple reference (plain loops over libm, what the engine ran
// first), the same loops over the vectorizable approximations at GCC's default
// vector width on this machine (256 bits on AVX-512 parts), and at 512 bits
// (what src/ ships). For each: the worst error against the reference and the
// median time. The library's own entry points are timed too (they add the
// parallel loop over rows). tests/unit/fast_kernels_test.cpp holds the shipped
// versions to the reference; this program shows why they are what they are.
//
// usage: kernels_lab [repeats]
#include "backend/cpu/vector_math.hpp"
#include "core/rng.hpp"
#include "nn/activation.hpp"
#include "prob/likelihood.hpp"

#include <aevb/vae.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

namespace {

using namespace aevb;
using Clock = std::chrono::steady_clock;

// ---- Bernoulli log-likelihood of one row and its gradient (weight w).

// v0: the reference: libm, double sum (src/prob/likelihood.cpp, reference_row).
double bernoulli_v0(const float* l, const float* x, float w, float* d, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float e = std::exp(-std::abs(l[i]));
    sum += double(x[i]) * l[i] - (std::max(l[i], 0.0f) + std::log1p(e));
    d[i] = w * (x[i] - (l[i] >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e)));
  }
  return sum;
}

#define AEVB_BERNOULLI_BODY                                                 \
  double sum = 0;                                                           \
  _Pragma("omp simd reduction(+ : sum)") for (std::size_t i = 0; i < n; ++i) { \
    const float e = vmath::exp(-vmath::abs(l[i]));                          \
    sum += double(x[i] * l[i] - (vmath::max0(l[i]) + vmath::log1p_unit(e))); \
    const float r = 1.0f / (1.0f + e);                                      \
    d[i] = w * (x[i] - (l[i] >= 0.0f ? r : e * r));                         \
  }                                                                         \
  return sum;

// v1: vectorizable approximations, default vector width.
double bernoulli_v1(const float* l, const float* x, float w, float* d, std::size_t n) { AEVB_BERNOULLI_BODY }

// v2: the same at 512 bits (shipped).
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
double bernoulli_v2(const float* l, const float* x, float w, float* d, std::size_t n) { AEVB_BERNOULLI_BODY }
#pragma GCC pop_options

// ---- tanh forward with bias.

void tanh_v0(float* y, const float* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(y[i] + b[i]);
}
void tanh_v1(float* y, const float* b, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] = vmath::tanh(y[i] + b[i]);
}
#pragma GCC push_options
#pragma GCC target("prefer-vector-width=512")
void tanh_v2(float* y, const float* b, std::size_t n) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) y[i] = vmath::tanh(y[i] + b[i]);
}
#pragma GCC pop_options

// ---- Timing.

double median_seconds(const std::function<void()>& run, int repeats) {
  run();
  std::vector<double> t;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    run();
    t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::vector<float> normals(std::size_t n, std::uint64_t seed, float scale) {
  std::vector<float> v(n);
  fill_normal(v.data(), n, seed, 0);
  for (float& x : v) x *= scale;
  return v;
}

double max_rel(const std::vector<float>& a, const std::vector<float>& ref) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(double(a[i]) - double(ref[i])));
    scale = std::max(scale, std::abs(double(ref[i])));
  }
  return err / scale;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 21;
  set_threads(1);  // kernel versions are compared on one thread; the library's entry points get their own line

  // Bernoulli: one IW datapoint's 5000 samples x 784 pixels.
  const std::size_t rows = 5000, d = 784;
  const std::vector<float> logits = normals(rows * d, 1, 4.0f);
  std::vector<float> x(d);
  fill_uniform(x.data(), d, 2, 0);
  using Row = double (*)(const float*, const float*, float, float*, std::size_t);
  const Row versions[] = {bernoulli_v0, bernoulli_v1, bernoulli_v2};
  const char* names[] = {"v0 reference (libm, scalar)", "v1 approximations, default width",
                         "v2 approximations, 512-bit (shipped)"};
  std::vector<float> ref_values(rows), ref_grad(rows * d);
  std::printf("Bernoulli log-likelihood + gradient, %zu x %zu, 1 thread\n", rows, d);
  std::printf("  %-40s %10s %12s %14s\n", "version", "ms", "ns/element", "max rel error");
  for (int v = 0; v < 3; ++v) {
    std::vector<float> values(rows), grad(rows * d);
    const double s = median_seconds(
        [&] {
          for (std::size_t r = 0; r < rows; ++r)
            values[r] = float(versions[v](logits.data() + r * d, x.data(), -1.0f, grad.data() + r * d, d));
        },
        repeats);
    if (v == 0) {
      ref_values = values;
      ref_grad = grad;
    }
    std::printf("  %-40s %10.2f %12.3f %8.1e/%.1e\n", names[v], s * 1e3, s * 1e9 / double(rows * d),
                max_rel(values, ref_values), max_rel(grad, ref_grad));
  }
  {
    const LikelihoodSpec spec{Likelihood::bernoulli, false, 1.0, d};
    std::vector<float> values(rows), grad(rows * d), weight(rows, -1.0f);
    for (int threads : {1, 2}) {
      set_threads(threads);
      const double s = median_seconds(
          [&] {
            log_likelihood_grad<float>(spec, {logits.data(), rows, d}, {x.data(), 1, d}, rows, weight.data(),
                                       values.data(), {grad.data(), rows, d});
          },
          repeats);
      std::printf("  %-40s %10.2f %12.3f %8.1e/%.1e\n",
                  threads == 1 ? "library log_likelihood_grad, 1 thread" : "library log_likelihood_grad, 2 threads",
                  s * 1e3, s * 1e9 / double(rows * d), max_rel(values, ref_values), max_rel(grad, ref_grad));
    }
    set_threads(1);
  }

  // tanh: the paper model's hidden layer, 100 x 500.
  const std::size_t n = 100 * 500;
  const std::vector<float> pre = normals(n, 3, 2.0f), bias = normals(n, 4, 0.5f);
  using Act1 = void (*)(float*, const float*, std::size_t);
  const Act1 tanhs[] = {tanh_v0, tanh_v1, tanh_v2};
  std::vector<float> ref;
  std::printf("\ntanh(x + b), %zu elements, 1 thread\n", n);
  std::printf("  %-40s %10s %12s %14s\n", "version", "us", "ns/element", "max rel error");
  for (int v = 0; v < 3; ++v) {
    std::vector<float> y = pre;
    const double s = median_seconds(
        [&] {
          y = pre;
          tanhs[v](y.data(), bias.data(), n);
        },
        repeats);
    if (v == 0) ref = y;
    std::printf("  %-40s %10.1f %12.3f %14.1e\n", names[v], s * 1e6, s * 1e9 / double(n), max_rel(y, ref));
  }
  return 0;
}
