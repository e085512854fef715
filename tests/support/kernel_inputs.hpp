#pragma once
// Inputs and error measures shared by the kernel tests (fast_kernels_test,
// parallel_sizes_test).
#include "core/rng.hpp"

#include <aevb/config.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aevb::test {

/// n standard normal draws from `seed`, times `scale`.
template <class T>
std::vector<T> normals(std::size_t n, std::uint64_t seed, T scale) {
  std::vector<T> v(n);
  fill_normal(v.data(), n, seed, 0);
  for (T& x : v) x *= scale;
  return v;
}

/// A layer declaration field by field (what parse_layers makes of the CLI syntax).
inline LayerSpec spec_of(LayerKind kind, std::size_t out, std::size_t kernel = 0, std::size_t stride = 1,
                         std::size_t padding = 0, std::size_t output_padding = 0) {
  LayerSpec s;
  s.kind = kind;
  s.out = out;
  s.kernel = kernel;
  s.stride = stride;
  s.padding = padding;
  s.output_padding = output_padding;
  return s;
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
