#pragma once
// Numerically stable scalar functions shared by the kernels.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

namespace aevb {

inline constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)

/// Below this many elements a parallel loop on the thread pool costs more than it saves.
inline constexpr std::size_t kParallelElements = 1 << 15;

/// The sum of v[0..n) in an order fixed by n alone: 16 running sums (one
/// vector add per 16 elements, not a chain of dependent scalar adds), then the
/// lanes in order, then the tail. An `omp simd` reduction would do the same
/// but lets the compiler peel iterations for alignment, which would make the
/// order depend on the address.
template <class T>
inline T fixed_order_sum(const T* v, std::size_t n) {
  constexpr std::size_t kLanes = 16;
  T lanes[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (std::size_t j = 0; j < kLanes; ++j) lanes[j] += v[i + j];
  T sum = 0;
  for (const T l : lanes) sum += l;
  for (; i < n; ++i) sum += v[i];
  return sum;
}

template <class T>
inline T sigmoid(T x) {
  const T e = std::exp(-std::abs(x));
  return x >= 0 ? T(1) / (T(1) + e) : e / (T(1) + e);
}

/// log(1 + e^x) without overflow for large x or loss of precision for small.
template <class T>
inline T softplus(T x) {
  return std::max(x, T(0)) + std::log1p(std::exp(-std::abs(x)));
}

/// log sum_i exp(v_i), stable: the max is factored out. -inf for n = 0.
template <class T>
double log_sum_exp(const T* v, std::size_t n) {
  double top = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) top = std::max(top, double(v[i]));
  if (!std::isfinite(top)) return top;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += std::exp(double(v[i]) - top);
  return top + std::log(sum);
}

/// out[i] = v[i] - log sum_j exp(v_j): log softmax(v), stable.
template <class T>
void log_softmax(const T* v, std::size_t n, T* out) {
  const double lse = log_sum_exp(v, n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<T>(double(v[i]) - lse);
}

}  // namespace aevb
