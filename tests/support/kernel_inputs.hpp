#pragma once
// Inputs and error measures shared by the kernel tests (fast_kernels_test,
// parallel_sizes_test).
#include "core/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aevb::test {

/// n standard normal draws from `seed`, times `scale`.
inline std::vector<float> normals(std::size_t n, std::uint64_t seed, float scale) {
  std::vector<float> v(n);
  fill_normal(v.data(), n, seed, 0);
  for (float& x : v) x *= scale;
  return v;
}

/// max |a - b| / max |b|: the reference test's measure.
inline double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  double err = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    err = std::max(err, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return err / std::max(scale, 1e-30);
}

}  // namespace aevb::test
