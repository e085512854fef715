// Training and sampling the code prior (src/prior/code_prior.hpp) on grids
// from a known distribution: a Markov chain over K = 4 codes along the
// raster order of a 4 x 4 grid (x_0 uniform, x_p ~ T[x_{p-1}], the row
// above's last code leading each row), whose entropy per position is exact.
//
// - Learning: the test cross-entropy comes within a few standard errors
//   (from the test set's size) of the entropy rate, and no closer than that
//   from below, which a model peeking at the code it predicts would be.
// - Sampling: 2,000 grids' transition counts match the trained model's own
//   conditional probabilities at the sampled prefixes (each draw has exactly
//   that distribution, so the counts have known means and variances); grid g
//   is a function of the seed and g alone; 1 and 2 threads train and sample
//   bit for bit alike.
#include "core/rng.hpp"
#include "core/thread_pool.hpp"
#include "prior/code_prior.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t K = 4, kSide = 4, P = kSide * kSide;
// Rows of different entropy (0.94, 0.59, 1.39, 1.04 nats), none deterministic.
constexpr std::array<std::array<double, K>, K> kT{{{0.70, 0.10, 0.10, 0.10},
                                                    {0.05, 0.05, 0.85, 0.05},
                                                    {0.25, 0.25, 0.25, 0.25},
                                                    {0.58, 0.02, 0.20, 0.20}}};

std::uint32_t draw(const std::array<double, K>& p, float u) {
  double cumulative = 0;
  for (std::uint32_t k = 0; k + 1 < K; ++k)
    if (double(u) < (cumulative += p[k])) return k;
  return K - 1;
}

// n grids of the chain from stream `stream`.
std::vector<std::uint32_t> markov_grids(std::size_t n, std::uint64_t stream) {
  std::vector<float> u(n * P);
  fill_uniform(u.data(), u.size(), 41, stream);
  std::vector<std::uint32_t> codes(n * P);
  constexpr std::array<double, K> uniform{0.25, 0.25, 0.25, 0.25};
  for (std::size_t g = 0; g < n; ++g)
    for (std::size_t p = 0; p < P; ++p)
      codes[g * P + p] = draw(p == 0 ? uniform : kT[codes[g * P + p - 1]], u[g * P + p]);
  return codes;
}

// -log p(grid) under the chain itself.
double true_nll(const std::uint32_t* grid) {
  double nll = std::log(double(K));
  for (std::size_t p = 1; p < P; ++p) nll -= std::log(kT[grid[p - 1]][grid[p]]);
  return nll;
}

// The entropy per position, exactly: H(x_0) + sum_p E[H(T[x_{p-1}])], the
// marginal of x_{p-1} carried along the chain.
double entropy_rate() {
  std::array<double, K> marginal{0.25, 0.25, 0.25, 0.25};
  double total = std::log(double(K));
  for (std::size_t p = 1; p < P; ++p) {
    std::array<double, K> next{};
    for (std::size_t a = 0; a < K; ++a) {
      for (std::size_t b = 0; b < K; ++b) {
        total -= marginal[a] * kT[a][b] * std::log(kT[a][b]);
        next[b] += marginal[a] * kT[a][b];
      }
    }
    marginal = next;
  }
  return total / double(P);
}

// Mean and standard error of the mean of v.
std::pair<double, double> mean_and_error(const std::vector<double>& v) {
  double mean = 0, ss = 0;
  for (const double x : v) mean += x / double(v.size());
  for (const double x : v) ss += (x - mean) * (x - mean);
  return {mean, std::sqrt(ss / double(v.size() - 1) / double(v.size()))};
}

// 3 layers: (i, 0) must see (i - 1, 3), the chain's previous code, which
// takes max(H, W) - 1 = 3 (the receptive field of code_prior.hpp).
constexpr CodePriorConfig kConfig{.codes = K, .height = kSide, .width = kSide, .channels = 8, .layers = 3};
constexpr std::size_t kTrain = 16000, kTest = 1000;

struct Trained {
  CodePrior prior{kConfig};
  std::vector<std::uint32_t> test = markov_grids(kTest, 2);
  std::vector<CodePriorEpoch> epochs;
};

// Trained once for the tests below that read it.
Trained& trained() {
  static Trained t = [] {
    Trained r;
    const std::vector<std::uint32_t> train = markov_grids(kTrain, 1);
    const CodePriorTraining training{.epochs = 10, .batch = 64, .lr = 2e-3f, .seed = 1};
    train_code_prior(r.prior, train, kTrain, r.test, kTest, training,
                     [&r](const CodePriorEpoch& e) { r.epochs.push_back(e); });
    return r;
  }();
  return t;
}

TEST(CodePriorTraining, TestCrossEntropyReachesTheEntropyRate) {
  Trained& t = trained();
  ASSERT_EQ(t.epochs.size(), 10u);
  const double H = entropy_rate();
  // The chain's own cross-entropy on the test grids, and its standard error
  // from the grids' spread (grids are independent; positions are not).
  std::vector<double> truth(kTest), model(kTest), excess(kTest);
  std::vector<double> log_p(kTest);
  t.prior.log_probabilities(t.test, kTest, log_p.data());
  for (std::size_t g = 0; g < kTest; ++g) {
    truth[g] = true_nll(t.test.data() + g * P) / double(P);
    model[g] = -log_p[g] / double(P);
    excess[g] = model[g] - truth[g];
  }
  const auto [truth_mean, truth_se] = mean_and_error(truth);
  const auto [excess_mean, excess_se] = mean_and_error(excess);
  const double test_nats = t.epochs.back().test_nats;
  EXPECT_NEAR(test_nats, mean_and_error(model).first, 1e-12);  // the same sum, in another order
  EXPECT_NEAR(truth_mean, H, 4 * truth_se) << "the test grids do not follow the chain";
  // The model against the truth on the same grids: at least the chain's own
  // loss less 4 standard errors of the paired difference (no peeking), at
  // most 0.01 nats per position more (10 epochs leave 0.002; a model blind
  // to the row above's last code, which leads each row, would lose 0.07).
  EXPECT_GT(excess_mean, -4 * excess_se) << "the model beats the true distribution: does it see the code it predicts?";
  EXPECT_LT(excess_mean, 0.01);
  EXPECT_NEAR(test_nats, H, 4 * truth_se + 0.01) << "entropy rate " << H << " nats per position";
  EXPECT_LT(test_nats, std::log(double(K)) - 0.3) << "log K = " << std::log(double(K));
  // Training ran: both curves fell from the first epoch.
  EXPECT_LT(t.epochs.back().train_nats, t.epochs.front().train_nats);
  EXPECT_LT(t.epochs.back().test_nats, t.epochs.front().test_nats);
  for (std::size_t e = 0; e < t.epochs.size(); ++e) {
    EXPECT_EQ(t.epochs[e].epoch, e + 1);
    EXPECT_TRUE(std::isfinite(t.epochs[e].train_nats));
    EXPECT_GE(t.epochs[e].seconds, 0.0);
  }
}

TEST(CodePriorSampling, TransitionCountsMatchTheModelsConditionals) {
  Trained& t = trained();
  constexpr std::size_t n = 2000;
  std::vector<std::uint32_t> samples(n * P);
  t.prior.sample(n, 5, samples);
  std::vector<float> q(n * P * K);
  t.prior.conditional_probabilities(samples, n, q);
  // Cell (a, b): transitions a -> b; row K: the first position's code b.
  // Each draw is Bernoulli with the model's q, so the count has mean sum q
  // and variance sum q (1 - q).
  std::array<std::array<double, K>, K + 1> count{}, mean{}, variance{};
  for (std::size_t g = 0; g < n; ++g)
    for (std::size_t p = 0; p < P; ++p) {
      const std::size_t a = p == 0 ? K : samples[g * P + p - 1];
      for (std::size_t b = 0; b < K; ++b) {
        const double qb = q[(g * P + p) * K + b];
        count[a][b] += samples[g * P + p] == b ? 1 : 0;
        mean[a][b] += qb;
        variance[a][b] += qb * (1 - qb);
      }
    }
  // 20 cells at 4.5 standard errors: a chance failure about once in 7,000 seeds.
  for (std::size_t a = 0; a <= K; ++a)
    for (std::size_t b = 0; b < K; ++b)
      EXPECT_LE(std::abs(count[a][b] - mean[a][b]), 4.5 * std::sqrt(variance[a][b]))
          << (a == K ? "first code " : "transition " + std::to_string(a) + " -> ") << b << ": " << count[a][b]
          << " drawn, " << mean[a][b] << " +- " << std::sqrt(variance[a][b]) << " expected";
  // And the model learned the chain: the sampled transition frequencies are
  // near T (0.03 for the model's own error, 0.01 to 0.02 after 10 epochs,
  // beside 4.5 standard errors of the frequency).
  for (std::size_t a = 0; a < K; ++a) {
    double from_a = 0;
    for (std::size_t b = 0; b < K; ++b) from_a += count[a][b];
    for (std::size_t b = 0; b < K; ++b) {
      const double se = std::sqrt(kT[a][b] * (1 - kT[a][b]) / from_a);
      EXPECT_NEAR(count[a][b] / from_a, kT[a][b], 0.03 + 4.5 * se) << "transition " << a << " -> " << b;
    }
  }
}

TEST(CodePriorSampling, GridGIsAFunctionOfTheSeedAndG) {
  const CodePriorConfig config{.codes = 9, .height = 3, .width = 5, .channels = 8, .layers = 3};
  CodePrior prior(config);
  prior.initialize(4);
  const std::size_t Q = 15, chunk = prior.chunk_grids(), n = chunk + 5;
  std::vector<std::uint32_t> all(n * Q), again(n * Q), other(n * Q);
  prior.sample(n, 7, all);
  prior.sample(n, 7, again);
  prior.sample(n, 8, other);
  EXPECT_EQ(all, again);
  EXPECT_NE(all, other);
  for (const std::size_t m : {std::size_t{1}, std::size_t{3}, chunk + 1}) {
    std::vector<std::uint32_t> prefix(m * Q);
    prior.sample(m, 7, prefix);
    EXPECT_TRUE(std::equal(prefix.begin(), prefix.end(), all.begin())) << m << " grids";
  }
  for (const std::uint32_t c : all) EXPECT_LT(c, 9u);
  // Each grid draws from its own stream: no two of them coincide (15 codes of 9).
  std::set<std::vector<std::uint32_t>> distinct;
  for (std::size_t g = 0; g < n; ++g)
    distinct.insert(std::vector<std::uint32_t>(all.begin() + static_cast<std::ptrdiff_t>(g * Q),
                                               all.begin() + static_cast<std::ptrdiff_t>((g + 1) * Q)));
  EXPECT_EQ(distinct.size(), n);
}

class CodePriorThreads : public ::testing::Test {
 protected:
  void TearDown() override { pool::set_threads(0); }
};

// 64 grids of 7 x 7 at 32 channels: every kernel and product is above its
// parallel threshold, so 2 threads split them.
TEST_F(CodePriorThreads, TrainingAndSamplingAreBitwiseTheSameOnOneAndTwoThreads) {
  const CodePriorConfig config{.codes = 16, .height = 7, .width = 7, .channels = 32, .layers = 2};
  std::vector<std::uint32_t> codes(200 * 49);
  CounterRng rng(43, 0);
  for (auto& c : codes) c = static_cast<std::uint32_t>(rng.below(16));
  const std::span<const std::uint32_t> train = std::span(codes).first(192 * 49), test = std::span(codes).last(8 * 49);
  const auto run = [&](int threads) {
    pool::set_threads(threads);
    CodePrior prior(config);
    std::vector<double> nats;
    train_code_prior(prior, train, 192, test, 8, {.epochs = 2, .batch = 64, .lr = 1e-3f, .seed = 3},
                     [&](const CodePriorEpoch& e) {
                       nats.push_back(e.train_nats);
                       nats.push_back(e.test_nats);
                     });
    std::vector<float> params(prior.parameters().begin(), prior.parameters().end());
    std::vector<std::uint32_t> samples(2 * 49);
    prior.sample(2, 11, samples);
    return std::make_tuple(params, nats, samples);
  };
  const auto [params1, nats1, samples1] = run(1);
  const auto [params2, nats2, samples2] = run(2);
  ASSERT_EQ(params1.size(), params2.size());
  EXPECT_EQ(std::memcmp(params1.data(), params2.data(), params1.size() * sizeof(float)), 0);
  EXPECT_EQ(nats1, nats2);
  EXPECT_EQ(samples1, samples2);
}

}  // namespace
}  // namespace aevb
