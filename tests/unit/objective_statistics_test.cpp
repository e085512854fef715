// Statistical properties of the estimators, with fixed seeds and tolerances
// of a few standard errors, estimated from independent chunk means.
#include "core/rng.hpp"
#include "model/engine.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace aevb {
namespace {

struct MeanAndError {
  double mean = 0, stderr_ = 0;
};

MeanAndError summarize(const std::vector<double>& v) {
  double mean = 0;
  for (double x : v) mean += x;
  mean /= double(v.size());
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  var /= double(v.size() - 1);
  return {mean, std::sqrt(var / double(v.size()))};
}

class EstimatorStatistics : public ::testing::Test {
 protected:
  // One datapoint repeated `rows` times: each chunk mean averages `rows`
  // independent single-sample estimates of that datapoint's bound.
  static constexpr std::size_t kRows = 200, kChunks = 100;

  EstimatorStatistics() : engine_(config()) {
    engine_.initialize(3);
    for (std::size_t i = 0; i < engine_.param_count(); ++i) engine_.params()[i] *= 30;  // a far-from-trivial q
    std::vector<float> datapoint(config().input_dim);
    fill_uniform(datapoint.data(), datapoint.size(), 4, 0);
    for (std::size_t r = 0; r < kRows; ++r) x_.insert(x_.end(), datapoint.begin(), datapoint.end());
  }
  static ModelConfig config() {
    ModelConfig c;
    c.input_dim = 12;
    c.hidden = {8};
    c.latent = 3;
    return c;
  }
  Bound chunk(Estimator estimator, std::uint64_t stream) {
    std::vector<double> eps(kRows * config().latent);
    fill_normal(eps.data(), eps.size(), 99, stream);
    return engine_.forward({x_.data(), kRows, config().input_dim}, eps.data(), {estimator, 1, 1.0f});
  }
  Engine<double> engine_;
  std::vector<double> x_;
};

TEST_F(EstimatorStatistics, EstimatorsAAndBAgreeInExpectation) {
  std::vector<double> a, b;
  for (std::size_t c = 0; c < kChunks; ++c) {
    a.push_back(chunk(Estimator::A, 2 * c).bound);
    b.push_back(chunk(Estimator::B, 2 * c + 1).bound);  // independent noise
  }
  const MeanAndError ma = summarize(a), mb = summarize(b);
  EXPECT_GT(ma.stderr_, 0.0);
  EXPECT_NEAR(ma.mean, mb.mean, 4 * std::hypot(ma.stderr_, mb.stderr_));
  // B replaces a Monte Carlo KL by its exact value: no more variance than A.
  EXPECT_LT(mb.stderr_, ma.stderr_);
}

TEST_F(EstimatorStatistics, MonteCarloKlMatchesAnalyticKl) {
  std::vector<double> difference;
  double analytic = 0;
  for (std::size_t c = 0; c < kChunks; ++c) {
    const Bound mc = chunk(Estimator::A, c), exact = chunk(Estimator::B, c);  // same noise
    difference.push_back(mc.kl - exact.kl);
    analytic = exact.kl;
  }
  const MeanAndError d = summarize(difference);
  EXPECT_GT(analytic, 0.1) << "the test needs a posterior away from the prior";
  EXPECT_NEAR(d.mean, 0.0, 4 * d.stderr_);
}

TEST(ImportanceWeightedBound, IsAboveTheElboAndGrowsWithK) {
  ModelConfig c;
  c.input_dim = 16;
  c.hidden = {10};
  c.latent = 2;
  c.init = Init::glorot;
  Vae vae(c, 5);
  for (float& p : vae.parameters()) p *= 3;  // a poor q, so that more samples visibly help
  const std::size_t n = 300;
  std::vector<float> x(n * c.input_dim);
  fill_uniform(x.data(), x.size(), 6, 0);
  const ConstMatrix data{x.data(), n, c.input_dim};
  // One seed: L_10 reuses L_1's sample and L_100 L_10's (common random
  // numbers), which shrinks the variance of the differences.
  const auto l1 = vae.log_likelihood(data, 1, 11);
  const auto l10 = vae.log_likelihood(data, 10, 11);
  const auto l100 = vae.log_likelihood(data, 100, 11);
  // Per-datapoint gains; their means must be positive by many standard errors.
  std::vector<double> gain1(n), gain2(n);
  for (std::size_t i = 0; i < n; ++i) {
    gain1[i] = l10[i] - l1[i];
    gain2[i] = l100[i] - l10[i];
  }
  const MeanAndError g1 = summarize(gain1), g2 = summarize(gain2);
  EXPECT_GT(g1.mean, 4 * g1.stderr_);
  EXPECT_GT(g2.mean, 4 * g2.stderr_);
  // L_1 is the single-sample ELBO: its mean matches evaluate() with estimator A.
  const double elbo = vae.evaluate(data, {Estimator::A, 1, 1.0f}, 14).bound;
  const MeanAndError m1 = summarize(l1);
  EXPECT_NEAR(m1.mean, elbo, 4 * m1.stderr_ * std::sqrt(2.0));
}

}  // namespace
}  // namespace aevb
