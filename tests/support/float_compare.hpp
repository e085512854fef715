#pragma once
// Comparing results that may differ by float rounding only: a product's rows
// can round differently with the product's row count (OpenBLAS's Haswell
// kernels, which it runs on AMD Zen, do), so the same draws computed in
// batches of different sizes agree to rounding, not bit for bit.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace aevb::test {

/// max_i |a_i - b_i|; infinity when the lengths differ or a value is NaN.
inline double largest_difference(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(double(a[i]) - double(b[i]));
    if (!(d <= worst)) worst = std::isnan(d) ? std::numeric_limits<double>::infinity() : d;
  }
  return worst;
}

}  // namespace aevb::test
