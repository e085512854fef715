// Evaluation split across ranks (EvalOptions::ranks, docs/distributed.md):
// ranks simulated by threads that pass messages in memory each compute a
// share of the datapoints, and every rank ends with the numbers of one
// process, bit for bit: the bound (in chunks of rows, with and without a
// weight posterior), each row's L_k, the latent activity and App. D's HMC
// estimate, for 2, 3 and 4 ranks.
#include <aevb/communicator.hpp>
#include <aevb/vae.hpp>

#include "eval/evaluation.hpp"
#include "eval/hmc_likelihood.hpp"
#include "support/small_training.hpp"
#include "support/thread_ranks.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kDim = test::kSmallDim;

// 1100 rows in [0, 1]: the bound's chunks (81 rows at L = 100), L_k's slices
// (50) and HMC's chunks (500) all end with a short one.
std::vector<float> rows(std::size_t count) {
  std::vector<float> x(count * kDim);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 37 + 11) % 256) / 255.0f;
  return x;
}

struct RankResult {
  EvalResult eval;
  std::size_t progress_total = 0;  // the datapoints this rank's L_k progress counted
};

// Each rank its own model (a Vae's workspace is not shared between threads),
// all with the same parameters.
std::vector<RankResult> evaluate_on_ranks(int ranks, const ModelConfig& config, const std::vector<float>& x,
                                          const EvalOptions& options) {
  std::vector<RankResult> results(static_cast<std::size_t>(ranks));
  test::on_thread_ranks(ranks, [&](Communicator& rank) {
    const Vae model(config, 3);
    EvalOptions mine = options;
    mine.ranks = &rank;
    RankResult& r = results[std::size_t(rank.rank())];
    r.eval = evaluate_model(model, {x.data(), x.size() / kDim, kDim}, mine,
                            [&](std::size_t, std::size_t total) { r.progress_total = total; });
  });
  return results;
}

void expect_same(const EvalResult& got, const EvalResult& want, const std::string& who) {
  EXPECT_EQ(got.elbo.bound, want.elbo.bound) << who;
  EXPECT_EQ(got.elbo.reconstruction, want.elbo.reconstruction) << who;
  EXPECT_EQ(got.elbo.kl, want.elbo.kl) << who;
  EXPECT_EQ(got.log_likelihoods, want.log_likelihoods) << who;
  EXPECT_EQ(got.log_likelihood, want.log_likelihood) << who;
  EXPECT_EQ(got.log_likelihood_stderr, want.log_likelihood_stderr) << who;
  EXPECT_EQ(got.activity, want.activity) << who;
  EXPECT_EQ(got.active_units, want.active_units) << who;
}

void expect_ranks_give_one_process(const ModelConfig& config) {
  const std::vector<float> x = rows(1100);
  EvalOptions options;
  options.objective = {Estimator::B, 100, 1.0f};
  options.iw_samples = 30;
  options.weight_samples = 3;
  const EvalResult one = evaluate_on_ranks(1, config, x, options)[0].eval;
  ASSERT_EQ(one.log_likelihoods.size(), 1100u);
  EXPECT_LT(one.log_likelihood, 0.0);
  for (int ranks : {2, 3, 4}) {
    const std::vector<RankResult> many = evaluate_on_ranks(ranks, config, x, options);
    for (int r = 0; r < ranks; ++r) {
      const std::string who = std::to_string(ranks) + " ranks, rank " + std::to_string(r);
      expect_same(many[std::size_t(r)].eval, one, who);
      // 22 slices of L_k shared out: each rank computed its part only.
      EXPECT_LE(many[std::size_t(r)].progress_total, (22 / std::size_t(ranks) + 1) * 50) << who;
    }
  }
}

TEST(EvalOnRanks, AnyNumberOfRanksGivesOneProcesssNumbersBitForBit) {
  expect_ranks_give_one_process(test::small_model());
}

TEST(EvalOnRanks, AWeightPosteriorsDecodersAddUpAsInOneProcess) {
  ModelConfig config = test::small_model();
  config.weight_posterior = true;
  expect_ranks_give_one_process(config);
}

TEST(EvalOnRanks, HmcEstimateOfAnyNumberOfRanksIsOneProcesss) {
  const std::vector<float> x = rows(1100);
  HmcLikelihoodOptions options;
  options.samples = 4;
  options.burn_in = 5;
  options.start_draws = 20;
  auto on_ranks = [&](int ranks) {
    std::vector<HmcLikelihood> results(static_cast<std::size_t>(ranks));
    test::on_thread_ranks(ranks, [&](Communicator& rank) {
      const Vae model(test::small_model(), 3);
      results[std::size_t(rank.rank())] =
          hmc_log_likelihood(model, {x.data(), 1100, kDim}, options, {}, &rank);
    });
    return results;
  };
  const HmcLikelihood one = on_ranks(1)[0];
  ASSERT_EQ(one.log_likelihoods.size(), 1100u);
  EXPECT_GT(one.acceptance, 0.0);
  for (int ranks : {2, 3, 4}) {
    const std::vector<HmcLikelihood> many = on_ranks(ranks);
    for (int r = 0; r < ranks; ++r) {
      const std::string who = std::to_string(ranks) + " ranks, rank " + std::to_string(r);
      const HmcLikelihood& got = many[std::size_t(r)];
      EXPECT_EQ(got.log_likelihoods, one.log_likelihoods) << who;
      EXPECT_EQ(got.variances, one.variances) << who;
      EXPECT_EQ(got.mean, one.mean) << who;
      EXPECT_EQ(got.stderr_, one.stderr_) << who;
      EXPECT_EQ(got.acceptance, one.acceptance) << who;
    }
  }
}

}  // namespace
}  // namespace aevb
