// The diagonal Gaussian mixture fit against data drawn from a known mixture:
// the parameters within a few standard errors of the truth, a likelihood at
// least that of the true parameters (EM's maximum on the sample), the same
// fit on any thread count, and one error line for too few points.
#include "core/rng.hpp"
#include "prob/gaussian_mixture.hpp"

#include <aevb/error.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kDim = 2, kPoints = 6000;

// Three components 10 standard deviations apart, unequal weights and variances.
DiagonalMixture truth() {
  return {{0.5, 0.3, 0.2}, {0, 0, 10, 0, 0, 12}, {1, 4, 2.25, 1, 0.25, 0.5}, 0, 0};
}

// kPoints draws: component c for the first weight_c share of the rows.
std::vector<double> draw(const DiagonalMixture& m) {
  std::vector<double> noise(kPoints * kDim), x(kPoints * kDim);
  fill_normal(noise.data(), noise.size(), 21, 0);
  double edge = 0;
  std::size_t c = 0;
  for (std::size_t i = 0; i < kPoints; ++i) {
    while (double(i) >= (edge + m.weights[c]) * kPoints) edge += m.weights[c++];
    for (std::size_t j = 0; j < kDim; ++j)
      x[i * kDim + j] = m.means[c * kDim + j] + std::sqrt(m.variances[c * kDim + j]) * noise[i * kDim + j];
  }
  return x;
}

double mean_log_density(const DiagonalMixture& m, const std::vector<double>& x) {
  double sum = 0;
  for (double v : mixture_log_density(m, x, kDim)) sum += v;
  return sum / double(kPoints);
}

TEST(GaussianMixture, RecoversTheComponentsOfItsData) {
  const DiagonalMixture t = truth();
  const std::vector<double> x = draw(t);
  MixtureFitOptions options;
  options.components = 3;
  const DiagonalMixture fit = fit_diagonal_mixture(x, kDim, options);
  for (std::size_t c = 0; c < 3; ++c) {
    // The fitted component nearest to true component c.
    std::size_t f = 0;
    double best = INFINITY;
    for (std::size_t k = 0; k < 3; ++k) {
      const double d = std::hypot(fit.means[k * kDim] - t.means[c * kDim], fit.means[k * kDim + 1] - t.means[c * kDim + 1]);
      if (d < best) best = d, f = k;
    }
    const double n = t.weights[c] * kPoints;
    // The draws put exactly weight_c of the rows in c; the fit's weight errs only by overlap (none at 10 sd).
    EXPECT_NEAR(fit.weights[f], t.weights[c], 1e-3) << "component " << c;
    for (std::size_t j = 0; j < kDim; ++j) {
      const double v = t.variances[c * kDim + j];
      EXPECT_NEAR(fit.means[f * kDim + j], t.means[c * kDim + j], 4 * std::sqrt(v / n)) << "mean " << c << "," << j;
      EXPECT_NEAR(fit.variances[f * kDim + j], v, 4 * v * std::sqrt(2 / n)) << "variance " << c << "," << j;
    }
  }
  // EM climbs to the sample's maximum, which is no lower than the truth's likelihood.
  EXPECT_GE(fit.log_likelihood, mean_log_density(t, x) - 1e-9);
  EXPECT_NEAR(fit.log_likelihood, mean_log_density(fit, x), 1e-9) << "the reported likelihood is the fit's";
  EXPECT_GT(fit.iterations, 0u);
}

TEST(GaussianMixture, TheFitIsTheSameOnAnyThreadCount) {
  const std::vector<double> x = draw(truth());
  MixtureFitOptions options;
  options.components = 4;  // one more than the data has: a split component, many EM steps
  options.seed = 3;
  set_threads(1);
  const DiagonalMixture one = fit_diagonal_mixture(x, kDim, options);
  set_threads(2);
  const DiagonalMixture two = fit_diagonal_mixture(x, kDim, options);
  set_threads(0);
  EXPECT_EQ(one.weights, two.weights);
  EXPECT_EQ(one.means, two.means);
  EXPECT_EQ(one.variances, two.variances);
}

TEST(GaussianMixture, TooFewDistinctPointsGetOneErrorLine) {
  MixtureFitOptions options;
  options.components = 3;
  EXPECT_THROW(
      {
        try {
          fit_diagonal_mixture({1, 1, 1, 1, 2, 2, 1, 1}, kDim, options);
        } catch (const InputError& e) {
          EXPECT_STREQ(e.what(), "Gaussian mixture: 3 components need as many distinct points; the 4 points have 2");
          throw;
        }
      },
      InputError);
  EXPECT_THROW(fit_diagonal_mixture({1, 2, 3, 4}, kDim, options), InputError) << "fewer points than components";
}

}  // namespace
}  // namespace aevb
