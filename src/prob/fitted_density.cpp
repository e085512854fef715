#include "prob/fitted_density.hpp"

#include "core/scalar_math.hpp"
#include "prob/cholesky.hpp"

#include <cmath>

namespace aevb {

bool GaussianKde::fit(const double* samples, std::size_t n, std::size_t d, double factor) {
  n_ = n;
  d_ = d;
  std::vector<double> mean(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean[j] += samples[i * d + j] / double(n);
  // The kernel covariance f^2 C, its lower triangle, then its Cholesky factor in place.
  chol_.assign(d * d, 0.0);
  const double scale = factor * factor / double(n - 1);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t a = 0; a < d; ++a)
      for (std::size_t b = 0; b <= a; ++b)
        chol_[a * d + b] += scale * (samples[i * d + a] - mean[a]) * (samples[i * d + b] - mean[b]);
  const std::optional<double> log_det = cholesky_lower_in_place(chol_.data(), d);
  if (!log_det) return false;
  whitened_.resize(n * d);
  for (std::size_t i = 0; i < n; ++i) solve_lower(chol_.data(), samples + i * d, whitened_.data() + i * d, d);
  log_norm_ = -std::log(double(n)) - 0.5 * double(d) * kLog2Pi - *log_det;
  return true;
}

void GaussianKde::log_density(const double* y, std::size_t m, double* out) const {
  std::vector<double> white(d_), log_kernel(n_);
  for (std::size_t k = 0; k < m; ++k) {
    solve_lower(chol_.data(), y + k * d_, white.data(), d_);
    for (std::size_t i = 0; i < n_; ++i) {
      double sq = 0;
      for (std::size_t j = 0; j < d_; ++j) {
        const double r = white[j] - whitened_[i * d_ + j];
        sq += r * r;
      }
      log_kernel[i] = -0.5 * sq;
    }
    out[k] = log_sum_exp(log_kernel.data(), n_) + log_norm_;
  }
}

void DiagonalGaussian::fit(const double* samples, std::size_t n, std::size_t d) {
  mean_.assign(d, 0.0);
  stddev_.assign(d, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) mean_[j] += samples[i * d + j] / double(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < d; ++j) {
      const double r = samples[i * d + j] - mean_[j];
      stddev_[j] += r * r / double(n);
    }
  double smallest = 0;
  for (double& s : stddev_) {
    s = std::sqrt(s);
    if (s > 0 && (smallest == 0 || s < smallest)) smallest = s;
  }
  for (double& s : stddev_)
    if (s == 0) s = smallest > 0 ? smallest : 1000.0;
  log_norm_ = -0.5 * double(d) * kLog2Pi;
  for (double s : stddev_) log_norm_ -= std::log(s);
}

void DiagonalGaussian::log_density(const double* y, std::size_t m, double* out) const {
  const std::size_t d = mean_.size();
  for (std::size_t k = 0; k < m; ++k) {
    double sq = 0;
    for (std::size_t j = 0; j < d; ++j) {
      const double r = (y[k * d + j] - mean_[j]) / stddev_[j];
      sq += r * r;
    }
    out[k] = log_norm_ - 0.5 * sq;
  }
}

}  // namespace aevb
