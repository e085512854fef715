// The likelihood as an Observation sees x (src/prob/likelihood.hpp):
// inpainting's hidden values drop out of log p(x|z), exactly (seen plus
// hidden is the whole), without being read and with zero gradient; and
// denoising's noise adds its variance to the Gaussian ones, against the
// closed form. Finite differences of both are in gradcheck_joint_test.cpp.
#include "support/kernel_inputs.hpp"

#include "core/scalar_math.hpp"
#include "prob/likelihood.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kRows = 3, kSamples = 2, kDim = 11;

struct Inputs {
  LikelihoodSpec spec;
  std::vector<double> out, x;
  std::vector<std::uint8_t> seen, hidden;  // complementary masks
};

Inputs inputs(Likelihood kind) {
  Inputs in;
  in.spec = {kind, true, 0.4, kDim};
  in.out = test::normals(kRows * kSamples * in.spec.output_width(), 3, 1.0);
  std::vector<float> u(kRows * kDim);
  fill_uniform(u.data(), u.size(), 4, 0);
  in.x.assign(u.begin(), u.end());
  for (std::size_t v = 0; v < u.size(); ++v) {
    in.seen.push_back(v % 4 != 2);
    in.hidden.push_back(v % 4 == 2);
  }
  return in;
}

struct Pass {
  std::vector<double> log_lik, dout;
};
template <class T>
Pass run(const Inputs& in, const std::vector<double>& x, const Observation& observation) {
  const std::size_t n = kRows * kSamples, width = in.spec.output_width();
  const std::vector<T> out(in.out.begin(), in.out.end()), xs(x.begin(), x.end()), weight(n, T(1));
  std::vector<T> log_lik(n), dout(n * width);
  log_likelihood_grad<T>(in.spec, {out.data(), n, width}, {xs.data(), kRows, kDim}, kSamples, weight.data(),
                         log_lik.data(), {dout.data(), n, width}, observation);
  return {{log_lik.begin(), log_lik.end()}, {dout.begin(), dout.end()}};
}

class ObservedLikelihood : public ::testing::TestWithParam<Likelihood> {};

// log p(x_seen|z) + log p(x_hidden|z) = log p(x|z), and the two gradients
// partition the whole one, in double (the reference loops both ways) and in
// float (the masked pass on the reference loops, the whole on the fast ones).
TEST_P(ObservedLikelihood, SeenAndHiddenPartitionTheWhole) {
  const Inputs in = inputs(GetParam());
  const std::size_t width = in.spec.output_width();
  const Pass whole = run<double>(in, in.x, {}), seen = run<double>(in, in.x, {in.seen.data()}),
             hidden = run<double>(in, in.x, {in.hidden.data()});
  for (std::size_t r = 0; r < kRows * kSamples; ++r) {
    EXPECT_NEAR(seen.log_lik[r] + hidden.log_lik[r], whole.log_lik[r], 1e-12 * std::abs(whole.log_lik[r]));
    EXPECT_GT(std::abs(hidden.log_lik[r]), 0.05) << "the hidden values carry weight: the check is not empty";
    for (std::size_t i = 0; i < width; ++i) {
      const bool is_seen = in.seen[(r / kSamples) * kDim + i % kDim] != 0;
      const double part = is_seen ? seen.dout[r * width + i] : hidden.dout[r * width + i];
      const double other = is_seen ? hidden.dout[r * width + i] : seen.dout[r * width + i];
      EXPECT_EQ(part, whole.dout[r * width + i]) << "row " << r << ", output " << i;
      EXPECT_EQ(other, 0.0) << "row " << r << ", output " << i;
    }
  }
  const Pass seen_float = run<float>(in, in.x, {in.seen.data()}), whole_float = run<float>(in, in.x, {});
  for (std::size_t r = 0; r < kRows * kSamples; ++r) {
    EXPECT_NEAR(seen_float.log_lik[r], seen.log_lik[r], 1e-5 * (1 + std::abs(seen.log_lik[r])));
    EXPECT_NEAR(whole_float.log_lik[r], whole.log_lik[r], 1e-5 * (1 + std::abs(whole.log_lik[r])));
  }
}

// Whatever the hidden values hold, NaN included, nothing changes: they are never read.
TEST_P(ObservedLikelihood, NeverReadsAHiddenValue) {
  const Inputs in = inputs(GetParam());
  std::vector<double> poisoned = in.x;
  for (std::size_t v = 0; v < poisoned.size(); ++v)
    if (!in.seen[v]) poisoned[v] = std::nan("");
  const Pass a = run<double>(in, in.x, {in.seen.data()}), b = run<double>(in, poisoned, {in.seen.data()});
  EXPECT_EQ(a.log_lik, b.log_lik);
  EXPECT_EQ(a.dout, b.dout);
  const Pass fa = run<float>(in, in.x, {in.seen.data()}), fb = run<float>(in, poisoned, {in.seen.data()});
  EXPECT_EQ(fa.log_lik, fb.log_lik);
}

INSTANTIATE_TEST_SUITE_P(Likelihoods, ObservedLikelihood,
                         ::testing::Values(Likelihood::bernoulli, Likelihood::gaussian, Likelihood::gaussian_fixed),
                         [](const ::testing::TestParamInfo<Likelihood>& p) {
                           return p.param == Likelihood::bernoulli ? "bernoulli"
                                  : p.param == Likelihood::gaussian ? "gaussian"
                                                                    : "gaussian_fixed";
                         });

// Denoising: N(x; m, v + s^2) per value, written out here in double, for the
// learned variance, and for the fixed one, whose c simply becomes c + s^2.
TEST(NoisyLikelihood, AddsTheNoiseVarianceToTheGaussians) {
  const double s2 = 0.3;
  const Inputs g = inputs(Likelihood::gaussian);
  const Pass noisy = run<double>(g, g.x, {nullptr, s2}), masked = run<double>(g, g.x, {g.seen.data(), s2});
  for (std::size_t r = 0; r < kRows * kSamples; ++r) {
    double all = 0, seen = 0;
    for (std::size_t i = 0; i < kDim; ++i) {
      const double m = sigmoid(g.out[r * 2 * kDim + i]), v = std::exp(g.out[r * 2 * kDim + kDim + i]) + s2;
      const double x = g.x[(r / kSamples) * kDim + i];
      const double term = -0.5 * (std::log(2 * M_PI) + std::log(v) + (x - m) * (x - m) / v);
      all += term;
      if (g.seen[(r / kSamples) * kDim + i]) seen += term;
    }
    EXPECT_NEAR(noisy.log_lik[r], all, 1e-12 * std::abs(all));
    EXPECT_NEAR(masked.log_lik[r], seen, 1e-12 * std::abs(seen));
  }
  Inputs fixed = inputs(Likelihood::gaussian_fixed);
  const Pass fixed_noisy = run<double>(fixed, fixed.x, {nullptr, s2});
  fixed.spec.fixed_variance += s2;
  const Pass wider = run<double>(fixed, fixed.x, {});
  for (std::size_t r = 0; r < kRows * kSamples; ++r) EXPECT_NEAR(fixed_noisy.log_lik[r], wider.log_lik[r], 1e-12 * std::abs(wider.log_lik[r]));
  for (std::size_t i = 0; i < wider.dout.size(); ++i) EXPECT_NEAR(fixed_noisy.dout[i], wider.dout[i], 1e-12);
}

// E[x_clean | z, x]: (s2 m + v x) / (v + s2) where seen, m where hidden.
TEST(NoisyLikelihood, DenoisedMeanWeighsTheModelAgainstTheNoisyValue) {
  const double s2 = 0.3;
  for (Likelihood kind : {Likelihood::gaussian, Likelihood::gaussian_fixed}) {
    const Inputs g = inputs(kind);
    const std::size_t n = kRows * kSamples, width = g.spec.output_width();
    std::vector<double> mean(n * kDim);
    denoised_mean<double>(g.spec, {g.out.data(), n, width}, {g.x.data(), kRows, kDim}, kSamples, {g.seen.data(), s2},
                          {mean.data(), n, kDim});
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t i = 0; i < kDim; ++i) {
        const double m = sigmoid(g.out[r * width + i]);
        const double v = kind == Likelihood::gaussian ? std::exp(g.out[r * width + kDim + i]) : 0.4;
        const std::size_t k = (r / kSamples) * kDim + i;
        EXPECT_NEAR(mean[r * kDim + i], g.seen[k] ? (s2 * m + v * g.x[k]) / (v + s2) : m, 1e-14);
      }
  }
}

TEST(NoisyLikelihood, RefusesBernoulliAndNegativeVariances) {
  const Inputs b = inputs(Likelihood::bernoulli), g = inputs(Likelihood::gaussian);
  EXPECT_THROW(run<double>(b, b.x, {nullptr, 0.1}), std::logic_error);
  EXPECT_THROW(run<float>(g, g.x, {nullptr, -0.1}), std::logic_error);
  EXPECT_NO_THROW(run<double>(b, b.x, {b.seen.data(), 0.0}));
}

}  // namespace
}  // namespace aevb
