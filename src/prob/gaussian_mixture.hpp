#pragma once
// A Gaussian mixture with diagonal covariances fitted to points by EM
// (Dempster et al. 1977; Bishop, PRML sec. 9.2), started from k-means++
// seeds (Arthur & Vassilvitskii 2007) and Lloyd's iterations, as
// scikit-learn's GaussianMixture(covariance_type="diag") starts: VaDE's
// initialization of its prior from an autoencoder's codes.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace aevb {

struct DiagonalMixture {
  std::vector<double> weights;    // [K], summing to 1
  std::vector<double> means;      // [K, d]
  std::vector<double> variances;  // [K, d]
  double log_likelihood = 0;      // mean over the points of log p(x)
  std::size_t iterations = 0;     // EM iterations of the fit kept
};

struct MixtureFitOptions {
  std::size_t components = 10;
  std::size_t restarts = 3;          // fits from different seeds; the most likely is kept
  std::size_t max_iterations = 200;  // EM iterations per fit
  double tolerance = 1e-6;           // stop when the mean log-likelihood gains less
  /// Added to every variance (scikit-learn's reg_covar), so that a component
  /// on few points keeps a density.
  double variance_floor = 1e-6;
  std::uint64_t seed = 1;
};

/// Fits points [n, d] (row-major). The result is a function of the points and
/// the options alone, whatever the thread count. InputError when there are
/// fewer distinct points than components.
DiagonalMixture fit_diagonal_mixture(const std::vector<double>& points, std::size_t d, const MixtureFitOptions& options);

/// log p(x) of each point under the mixture, and the responsibilities p(c|x)
/// [n, K] into `responsibilities` unless it is null.
std::vector<double> mixture_log_density(const DiagonalMixture& mixture, const std::vector<double>& points,
                                        std::size_t d, std::vector<double>* responsibilities = nullptr);

}  // namespace aevb
