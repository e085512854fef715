// The HMC sampler (src/prob/hmc.hpp) on Gaussian targets whose moments are
// known: one transition replayed from its definition (exactly L position
// updates, half momentum steps at both ends, the Metropolis test), the target
// left invariant (chains started from it keep its mean and covariance within
// standard errors), step sizes adapting to the target acceptance, and paths
// that depend on a chain's id only, not on the batch it runs in.
#include "support/scratch.hpp"

#include "core/rng.hpp"
#include "prob/hmc.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kDim = 3;
using Mat3 = std::array<std::array<double, kDim>, kDim>;

// N(m, S) with S = C C^T: log pi(z) = -1/2 (z - m)^T S^-1 (z - m) + const.
// Counts its calls, to check the number of leapfrog steps.
class GaussianTarget final : public HmcTarget<double> {
 public:
  GaussianTarget(std::array<double, kDim> mean, Mat3 chol) : mean_(mean), chol_(chol) {
    // S^-1 from C: S^-1 = C^-T C^-1, C^-1 by forward substitution on e_k.
    Mat3 inv{};
    for (std::size_t k = 0; k < kDim; ++k)
      for (std::size_t i = 0; i < kDim; ++i) {
        double r = i == k ? 1.0 : 0.0;
        for (std::size_t j = 0; j < i; ++j) r -= chol_[i][j] * inv[j][k];
        inv[i][k] = r / chol_[i][i];
      }
    for (std::size_t a = 0; a < kDim; ++a)
      for (std::size_t b = 0; b < kDim; ++b)
        for (std::size_t i = 0; i < kDim; ++i) precision_[a][b] += inv[i][a] * inv[i][b];
  }
  void log_density_grad(MatrixView<const double> z, double* log_density, MatrixView<double> grad) override {
    ++calls;
    for (std::size_t c = 0; c < z.rows; ++c) {
      double quad = 0;
      for (std::size_t a = 0; a < kDim; ++a) {
        double g = 0;
        for (std::size_t b = 0; b < kDim; ++b) g -= precision_[a][b] * (z.row(c)[b] - mean_[b]);
        grad.row(c)[a] = g;
        quad -= g * (z.row(c)[a] - mean_[a]);
      }
      log_density[c] = -0.5 * quad;
    }
  }
  // z = m + C eps for eps ~ N(0, I): exact draws.
  void draw(double* z, std::size_t chains, std::uint64_t seed) const {
    std::vector<double> eps(chains * kDim);
    fill_normal(eps.data(), eps.size(), seed, 0);
    for (std::size_t c = 0; c < chains; ++c)
      for (std::size_t a = 0; a < kDim; ++a) {
        z[c * kDim + a] = mean_[a];
        for (std::size_t b = 0; b <= a; ++b) z[c * kDim + a] += chol_[a][b] * eps[c * kDim + b];
      }
  }
  double covariance(std::size_t a, std::size_t b) const {
    double s = 0;
    for (std::size_t i = 0; i < kDim; ++i) s += chol_[a][i] * chol_[b][i];
    return s;
  }
  double mean(std::size_t a) const { return mean_[a]; }
  int calls = 0;

 private:
  std::array<double, kDim> mean_;
  Mat3 chol_;
  Mat3 precision_{};
};

const GaussianTarget kDiagonal({0.5, -1.0, 2.0}, Mat3{{{0.3, 0, 0}, {0, 1.0, 0}, {0, 0, 0.6}}});
// Correlations of about -0.8 and 0.6 between the coordinates.
const GaussianTarget kCorrelated({-0.2, 0.4, 1.0}, Mat3{{{0.5, 0, 0}, {-0.4, 0.3, 0}, {0.3, 0.2, 0.4}}});

// Chains of a target, as the sampler's owner keeps them.
struct Batch {
  std::vector<double> z, log_density, grad, step;
  std::vector<std::uint64_t> id;
  Batch(GaussianTarget& target, std::size_t chains, double step_size, std::uint64_t seed, std::uint64_t first_id = 0)
      : z(chains * kDim), log_density(chains), grad(chains * kDim), step(chains, step_size), id(chains) {
    target.draw(z.data(), chains, seed);
    for (std::size_t c = 0; c < chains; ++c) id[c] = first_id + c;
    target.log_density_grad(view().z, log_density.data(), view().grad);
  }
  HmcChains<double> view() {
    const std::size_t n = id.size();
    return {{z.data(), n, kDim}, log_density.data(), {grad.data(), n, kDim}, step.data(), id.data()};
  }
};

TEST(Hmc, OneTransitionIsTheLeapfrogOfItsDefinition) {
  GaussianTarget target = kCorrelated;
  const std::size_t chains = 4, steps = 3;
  Batch batch(target, chains, 0.0, 1, 10);
  for (std::size_t c = 0; c < chains; ++c) batch.step[c] = 0.1 + 0.25 * double(c);  // the last ones reject more
  const Batch before = batch;
  HmcOptions options;
  options.leapfrog_steps = steps;
  Hmc<double> hmc(kDim, options);
  target.calls = 0;
  const std::uint64_t seed = 5, index = 7;
  hmc.transition(target, batch.view(), seed, index, false);
  EXPECT_EQ(target.calls, int(steps)) << "one gradient per position update";
  std::size_t accepted = 0;
  for (std::size_t c = 0; c < chains; ++c) {
    // By hand: p ~ N(0, I) from the chain's momentum stream at index * dim.
    std::array<double, kDim> p{}, z{}, g{};
    fill_normal(p.data(), kDim, seed, hmc_stream(before.id[c], HmcDraw::momentum), index * kDim);
    float u = 0;
    fill_uniform(&u, 1, seed, hmc_stream(before.id[c], HmcDraw::accept), index);
    const double e = before.step[c];
    double h0 = -before.log_density[c], h1 = 0, log_pi = 0;
    for (std::size_t a = 0; a < kDim; ++a) {
      h0 += 0.5 * p[a] * p[a];
      z[a] = before.z[c * kDim + a];
      p[a] += 0.5 * e * before.grad[c * kDim + a];
    }
    for (std::size_t l = 0; l < steps; ++l) {
      for (std::size_t a = 0; a < kDim; ++a) z[a] += e * p[a];
      target.log_density_grad({z.data(), 1, kDim}, &log_pi, {g.data(), 1, kDim});
      for (std::size_t a = 0; a < kDim; ++a) p[a] += (l + 1 < steps ? e : 0.5 * e) * g[a];
    }
    h1 = -log_pi;
    for (std::size_t a = 0; a < kDim; ++a) h1 += 0.5 * p[a] * p[a];
    const double a_prob = std::min(1.0, std::exp(h0 - h1));
    EXPECT_NEAR(hmc.acceptance()[c], a_prob, 1e-12) << "chain " << c;
    const bool accept = double(u) < a_prob;
    accepted += accept;
    for (std::size_t a = 0; a < kDim; ++a)
      EXPECT_NEAR(batch.z[c * kDim + a], accept ? z[a] : before.z[c * kDim + a], 1e-12) << "chain " << c;
    EXPECT_NEAR(batch.log_density[c], accept ? log_pi : before.log_density[c], 1e-12);
    EXPECT_EQ(batch.step[c], before.step[c]) << "no adaptation was asked for";
  }
  EXPECT_GT(accepted, 0u);
}

// Chains started from the target stay distributed as the target: after many
// transitions the sample mean, variances and covariances of 4000 independent
// chains are within 4 standard errors of the target's (the standard error of
// a sample covariance of n Gaussian draws is sqrt((S_aa S_bb + S_ab^2) / n)).
// Step sizes near the stability limit of the narrowest direction reject
// often, so a missing or wrong Metropolis test shows.
void expect_invariant(GaussianTarget target, double step_size, std::size_t leapfrog_steps) {
  const std::size_t chains = 4000, transitions = 20;
  Batch batch(target, chains, step_size, 3);
  HmcOptions options;
  options.leapfrog_steps = leapfrog_steps;
  Hmc<double> hmc(kDim, options);
  double acceptance = 0;
  for (std::size_t t = 0; t < transitions; ++t) {
    hmc.transition(target, batch.view(), 9, t, false);
    for (std::size_t c = 0; c < chains; ++c) acceptance += hmc.acceptance()[c] / double(chains * transitions);
  }
  EXPECT_GT(acceptance, 0.3);
  EXPECT_LT(acceptance, 0.95) << "a step this small would not test the Metropolis correction";
  const double n = double(chains);
  std::array<double, kDim> mean{};
  for (std::size_t c = 0; c < chains; ++c)
    for (std::size_t a = 0; a < kDim; ++a) mean[a] += batch.z[c * kDim + a] / n;
  for (std::size_t a = 0; a < kDim; ++a) {
    EXPECT_NEAR(mean[a], target.mean(a), 4 * std::sqrt(target.covariance(a, a) / n)) << "mean " << a;
    for (std::size_t b = 0; b <= a; ++b) {
      double cov = 0;
      for (std::size_t c = 0; c < chains; ++c)
        cov += (batch.z[c * kDim + a] - mean[a]) * (batch.z[c * kDim + b] - mean[b]) / (n - 1);
      const double s_ab = target.covariance(a, b);
      const double se = std::sqrt((target.covariance(a, a) * target.covariance(b, b) + s_ab * s_ab) / n);
      EXPECT_NEAR(cov, s_ab, 4 * se) << "covariance " << a << ", " << b;
    }
  }
}

TEST(Hmc, LeavesADiagonalGaussianInvariant) { expect_invariant(kDiagonal, 0.45, 4); }
TEST(Hmc, LeavesACorrelatedGaussianInvariant) { expect_invariant(kCorrelated, 0.3, 10); }

// Adaptation moves step sizes until the acceptance probability averages the
// target. The shared rule steps on the mean over 2000 chains (its noise is
// about 0.3 / sqrt(2000) ~ 0.01 a step); each chain's own rule on one draw, so
// its frozen step size is noisier: 0.03 and 0.06 leave room for that noise
// while a rule that moved the wrong way or not at all misses by far more.
void expect_adapts(StepSizeRule rule, double target_rate, double tolerance) {
  GaussianTarget target = kCorrelated;
  const std::size_t chains = 2000;
  Batch batch(target, chains, 1e-3, 4);  // far too small: acceptance near 1
  HmcOptions options;
  options.target_acceptance = target_rate;
  options.rule = rule;
  options.adaptation_rate = 0.5;
  Hmc<double> hmc(kDim, options);
  for (std::size_t t = 0; t < 150; ++t) hmc.transition(target, batch.view(), 2, t, true);
  const std::vector<double> frozen = batch.step;
  double acceptance = 0;
  for (std::size_t t = 150; t < 170; ++t) {
    hmc.transition(target, batch.view(), 2, t, false);
    for (std::size_t c = 0; c < chains; ++c) acceptance += hmc.acceptance()[c] / double(chains * 20);
  }
  EXPECT_EQ(batch.step, frozen) << "step sizes moved without adaptation";
  EXPECT_NEAR(acceptance, target_rate, tolerance);
  if (rule == StepSizeRule::shared) {
    for (double s : batch.step) ASSERT_EQ(s, batch.step[0]) << "one step size for all chains";
  }
}

TEST(Hmc, SharedStepSizeReachesTheTargetAcceptance) {
  expect_adapts(StepSizeRule::shared, 0.9, 0.03);
  expect_adapts(StepSizeRule::shared, 0.65, 0.03);
}
TEST(Hmc, PerChainStepSizesReachTheTargetAcceptance) { expect_adapts(StepSizeRule::per_chain, 0.65, 0.06); }

// A chain's path is a function of its id: the same chains in one batch of 12
// or in batches of 5 and 7 end where they did, to the bit.
TEST(Hmc, PathsDependOnTheChainIdNotOnTheBatch) {
  GaussianTarget target = kCorrelated;
  Batch whole(target, 12, 0.3, 6, 100);
  Batch first(target, 5, 0.3, 6, 100), second(target, 7, 0.3, 6, 105);
  std::copy_n(whole.z.begin() + 5 * kDim, 7 * kDim, second.z.begin());  // the same starting points
  target.log_density_grad(second.view().z, second.log_density.data(), second.view().grad);
  Hmc<double> hmc(kDim, HmcOptions{});
  for (std::size_t t = 0; t < 10; ++t)
    for (Batch* b : {&whole, &first, &second}) hmc.transition(target, b->view(), 8, t, t < 5);
  for (std::size_t i = 0; i < 5 * kDim; ++i) EXPECT_EQ(whole.z[i], first.z[i]);
  for (std::size_t i = 0; i < 7 * kDim; ++i) EXPECT_EQ(whole.z[5 * kDim + i], second.z[i]);
  for (std::size_t c = 0; c < 5; ++c) EXPECT_EQ(whole.step[c], first.step[c]);
}

TEST(Hmc, RejectsInvalidOptions) {
  HmcOptions options;
  options.leapfrog_steps = 0;
  EXPECT_ERROR_CONTAINS(Hmc<double>(kDim, options), "HMC: expected at least 1 leapfrog step");
  options = {};
  options.target_acceptance = 1.0;
  EXPECT_ERROR_CONTAINS(Hmc<double>(kDim, options), "HMC: expected a target acceptance rate in (0, 1)");
  options = {};
  options.adaptation_rate = -1;
  EXPECT_ERROR_CONTAINS(Hmc<double>(kDim, options), "HMC: expected a step-size adaptation rate >= 0");
}

}  // namespace
}  // namespace aevb
