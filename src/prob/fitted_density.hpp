#pragma once
// Densities fitted to a few samples of z, the proposal q(z) of the App. D
// estimator (src/eval/hmc_likelihood.hpp): a Gaussian kernel density
// estimate as scipy.stats.gaussian_kde computes it, and the diagonal Gaussian
// the authors' code falls back on (paper-baselines.md 2.3). Samples are rows
// [n, d] in double; both are normalized densities on R^d.
#include <cstddef>
#include <vector>

namespace aevb {

/// q(y) = 1/n sum_i N(y; x_i, f^2 C), C the samples' covariance with the
/// n - 1 denominator (scipy's gaussian_kde with bw_method = f).
class GaussianKde {
 public:
  /// Fits to samples [n, d], n >= 2. Returns false, and leaves the estimate
  /// unusable, when f^2 C is not positive definite (samples in a subspace).
  bool fit(const double* samples, std::size_t n, std::size_t d, double factor);
  /// out[k] = log q(y_k) for the m points y [m, d], each sum over the
  /// samples taken as a log-sum-exp (no underflow far from them).
  void log_density(const double* y, std::size_t m, double* out) const;

 private:
  std::size_t n_ = 0, d_ = 0;
  std::vector<double> chol_;      // [d, d] lower Cholesky factor of f^2 C
  std::vector<double> whitened_;  // [n, d] chol^-1 x_i
  double log_norm_ = 0;           // -log n - d/2 log 2 pi - log det chol
};

/// q(y) = prod_j N(y_j; m_j, s_j^2) with the samples' mean and standard
/// deviation (denominator n). A zero s_j (a coordinate that never moved) is
/// replaced by the smallest nonzero one, or by 1000 when all are zero, as
/// the authors' code does.
class DiagonalGaussian {
 public:
  void fit(const double* samples, std::size_t n, std::size_t d);
  /// out[k] = log q(y_k) for the m points y [m, d].
  void log_density(const double* y, std::size_t m, double* out) const;

 private:
  std::vector<double> mean_, stddev_;
  double log_norm_ = 0;
};

}  // namespace aevb
