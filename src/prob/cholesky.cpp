#include "prob/cholesky.hpp"

#include <cmath>

namespace aevb {

std::optional<double> cholesky_lower_in_place(double* a, std::size_t d) {
  double log_det = 0;
  for (std::size_t r = 0; r < d; ++r) {
    for (std::size_t c = 0; c <= r; ++c) {
      double v = a[r * d + c];
      for (std::size_t k = 0; k < c; ++k) v -= a[r * d + k] * a[c * d + k];
      if (r == c) {
        if (!(v > 0) || !std::isfinite(v)) return std::nullopt;
        a[r * d + r] = std::sqrt(v);
        log_det += std::log(a[r * d + r]);
      } else {
        a[r * d + c] = v / a[c * d + c];
      }
    }
  }
  return log_det;
}

void solve_lower(const double* l, const double* b, double* y, std::size_t d) {
  for (std::size_t i = 0; i < d; ++i) {
    double r = b[i];
    for (std::size_t k = 0; k < i; ++k) r -= l[i * d + k] * y[k];
    y[i] = r / l[i * d + i];
  }
}

}  // namespace aevb
