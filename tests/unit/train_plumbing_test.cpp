// What surrounds the math in training: which datapoints each epoch sees and
// how (order, binarization), how the epoch's bound weights a short last
// minibatch, how the KL warm-up reaches the gradient, and that the bound a
// step reports is the true bound whatever beta. Each test replays what the
// documented contract says and compares bitwise.
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "support/scratch.hpp"
#include "support/small_training.hpp"
#include "train/epoch_runner.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace aevb {
namespace {

using test::adam_config;
using test::grey_data;
using test::small_model;
constexpr std::size_t kDim = test::kSmallDim;

// A fresh model and trainer, identical for every call: runs compare bitwise.
struct Fresh {
  Vae model{small_model(), 2};
  Trainer trainer;
  explicit Fresh(const TrainConfig& t) : trainer(model, t) {}
  std::vector<float> params() const { return {model.parameters().begin(), model.parameters().end()}; }
};

// Epoch `epoch` as docs say it is: the shuffle of that epoch, minibatches in
// that order, binarized for that epoch; the bound weighted by minibatch size.
Bound replay_epoch(Fresh& run, const Dataset& data, Binarize binarize, std::uint64_t seed, std::uint64_t epoch) {
  const std::size_t m = run.trainer.config().batch;
  const std::vector<std::uint32_t> order = shuffled_indices(data.count, seed, epoch);
  std::vector<float> batch(m * data.dim);
  Bound sum;
  for (std::size_t first = 0; first < data.count; first += m) {
    const std::size_t rows = std::min(m, data.count - first);
    gather_batch(data, std::span(order).subspan(first, rows), binarize, seed, epoch, batch.data());
    const Bound b = run.trainer.step({batch.data(), rows, data.dim});
    sum.bound += b.bound * double(rows);
    sum.reconstruction += b.reconstruction * double(rows);
    sum.kl += b.kl * double(rows);
  }
  const double n = double(data.count);
  return {sum.bound / n, sum.reconstruction / n, sum.kl / n};
}

TEST(EpochPlumbing, EachEpochIsItsOwnShuffleAndBinarizationAndTheShortBatchCountsByItsRows) {
  // 250 datapoints in minibatches of 100: the last has 50 rows.
  const Dataset data = grey_data(250);
  const TrainConfig t = adam_config(100);
  Fresh runner_run(t), replay(t);
  EpochRunner runner(runner_run.trainer, data, Binarize::dynamic, t.seed);
  EXPECT_EQ(runner.batches_per_epoch(), 3u);
  for (std::uint64_t epoch : {0, 1, 2}) {
    const EpochResult r = runner.run(epoch);
    const Bound expected = replay_epoch(replay, data, Binarize::dynamic, t.seed, epoch);
    EXPECT_EQ(r.position.samples, 250u);
    EXPECT_EQ(r.train.bound, expected.bound) << "epoch " << epoch;
    EXPECT_EQ(r.train.reconstruction, expected.reconstruction);
    EXPECT_EQ(r.train.kl, expected.kl);
    EXPECT_EQ(runner_run.params(), replay.params()) << "epoch " << epoch;
  }
  EXPECT_EQ(runner_run.trainer.steps(), 9u);
}

// What a mid-epoch checkpoint relies on: an epoch stopped by its callback and
// continued from the position it reported (by another runner, as a resumed
// process would) is bitwise the uninterrupted epoch, its bound included.
TEST(EpochPlumbing, AnEpochStoppedByItsCallbackContinuesFromItsPositionExactly) {
  const Dataset data = grey_data(250);  // 3 minibatches of 100, the last of 50
  const TrainConfig t = adam_config(100);
  Fresh whole(t), parts(t);
  EpochRunner(whole.trainer, data, Binarize::dynamic, t.seed).run(0);
  const EpochResult expected = EpochRunner(whole.trainer, data, Binarize::dynamic, t.seed).run(1);
  EpochRunner(parts.trainer, data, Binarize::dynamic, t.seed).run(0);
  std::vector<std::size_t> seen;
  const EpochResult first = EpochRunner(parts.trainer, data, Binarize::dynamic, t.seed)
                                .run(1, [&](const EpochPosition& at, std::size_t total) {
                                  seen.push_back(at.batches);
                                  EXPECT_EQ(total, 3u);
                                  return at.batches < 1;  // stop after the first minibatch
                                });
  EXPECT_EQ(seen, (std::vector<std::size_t>{1}));
  ASSERT_TRUE(first.stopped);
  EXPECT_EQ(first.position.batches, 1u);
  EXPECT_EQ(first.position.samples, 100u);
  EXPECT_EQ(parts.trainer.steps(), 4u);
  const EpochResult rest = EpochRunner(parts.trainer, data, Binarize::dynamic, t.seed).run(1, {}, SIZE_MAX,
                                                                                            first.position);
  EXPECT_FALSE(rest.stopped);
  EXPECT_EQ(rest.position.batches, 3u);
  EXPECT_EQ(rest.position.samples, 250u);
  EXPECT_EQ(rest.train.bound, expected.train.bound);
  EXPECT_EQ(rest.train.reconstruction, expected.train.reconstruction);
  EXPECT_EQ(rest.train.kl, expected.train.kl);
  EXPECT_EQ(parts.params(), whole.params());
  EXPECT_EQ(parts.trainer.steps(), whole.trainer.steps());
  // A callback that says stop at the epoch's last minibatch has nothing left to stop.
  Fresh last(t);
  EXPECT_FALSE(EpochRunner(last.trainer, data, Binarize::dynamic, t.seed)
                   .run(0, [](const EpochPosition&, std::size_t) { return false; }, SIZE_MAX, {2, 200, {}, 0})
                   .stopped);
}

TEST(EpochPlumbing, APositionOutsideTheEpochIsRefused) {
  const Dataset data = grey_data(250);
  const TrainConfig t = adam_config(100);
  Fresh run(t);
  EpochRunner runner(run.trainer, data, Binarize::dynamic, t.seed);
  EXPECT_ERROR_CONTAINS(runner.run(0, {}, SIZE_MAX, {3, 250, {}, 0}),
                        "epoch position: 3 minibatches and 250 datapoints done is not a point inside an epoch of 3 "
                        "minibatches of 100 (250 datapoints)");
  EXPECT_ERROR_CONTAINS(runner.run(0, {}, SIZE_MAX, {1, 99, {}, 0}), "1 minibatches and 99 datapoints done");
  EXPECT_EQ(run.trainer.steps(), 0u) << "refused before any step";
}

TEST(EpochPlumbing, TwoEpochsSeeDifferentOrders) {
  // Binary data (no binarization randomness): only the order can differ.
  Dataset data = grey_data(250);
  binarize_fixed(data, 9);
  const TrainConfig t = adam_config(100);
  Fresh first(t), second(t), first_again(t);
  EpochRunner(first.trainer, data, Binarize::none, t.seed).run(0);
  EpochRunner(second.trainer, data, Binarize::none, t.seed).run(1);
  EpochRunner(first_again.trainer, data, Binarize::none, t.seed).run(0);
  EXPECT_NE(first.params(), second.params()) << "epoch 1 saw epoch 0's order";
  EXPECT_EQ(first.params(), first_again.params()) << "an epoch is reproducible from seed and epoch";
}

TEST(EpochPlumbing, DynamicBinarizationIsNewEachEpochAndFixedStaysFixed) {
  // One datapoint in minibatches of one: the order cannot matter, only the values.
  const Dataset data = grey_data(1);
  const TrainConfig t = adam_config(1);
  auto after_epoch = [&](Binarize b, std::uint64_t epoch) {
    Fresh run(t);
    EpochRunner(run.trainer, data, b, t.seed).run(epoch);
    return run.params();
  };
  EXPECT_NE(after_epoch(Binarize::dynamic, 0), after_epoch(Binarize::dynamic, 1));
  EXPECT_EQ(after_epoch(Binarize::dynamic, 1), after_epoch(Binarize::dynamic, 1));
  EXPECT_EQ(after_epoch(Binarize::fixed, 0), after_epoch(Binarize::fixed, 1));
  EXPECT_NE(after_epoch(Binarize::fixed, 0), after_epoch(Binarize::dynamic, 0));
  // The CLI binarizes fixed data once and trains on that sample: the same updates.
  Dataset stored = data;
  binarize_fixed(stored, t.seed);
  Fresh run(t);
  EpochRunner(run.trainer, stored, Binarize::fixed, t.seed).run(3);
  EXPECT_EQ(run.params(), after_epoch(Binarize::fixed, 0));
}

TEST(KlWarmup, WeightRampsLinearlyToBetaAtTheDocumentedSteps) {
  TrainConfig t = adam_config(10);
  t.objective.beta = 0.5f;
  t.kl_warmup_steps = 4;
  Fresh run(t);
  const std::vector<float> x = gather_all(grey_data(10), Binarize::none, 1, 0);
  // Step s (0-based) weights the KL by beta * (s + 1) / warmup, then beta.
  for (float expected : {0.125f, 0.25f, 0.375f, 0.5f, 0.5f, 0.5f}) {
    EXPECT_FLOAT_EQ(run.trainer.kl_weight(), expected) << "before step " << run.trainer.steps() + 1;
    run.trainer.step({x.data(), 10, kDim});
  }
}

TEST(KlWarmup, EachStepFollowsTheGradientOfItsOwnKlWeight) {
  // Replayed step by step with trainers of a constant beta that carry the
  // optimizer state over: the warm-up must give the same parameters.
  TrainConfig warm = adam_config(10);
  warm.kl_warmup_steps = 3;
  Fresh ramped(warm);
  Vae replayed(small_model(), 2);
  std::vector<float> optimizer_state;
  const std::vector<float> x = gather_all(grey_data(10), Binarize::none, 1, 0);
  for (std::uint64_t s = 0; s < 5; ++s) {
    ramped.trainer.step({x.data(), 10, kDim});
    TrainConfig constant = adam_config(10);
    constant.objective.beta = s < 3 ? float(double(s + 1) / 3.0) : 1.0f;
    Trainer one_step(replayed, constant);
    if (s > 0) one_step.restore(s, optimizer_state);
    one_step.step({x.data(), 10, kDim});
    const auto st = one_step.optimizer_state();
    optimizer_state.assign(st.begin(), st.end());
    ASSERT_EQ(ramped.params(), std::vector<float>(replayed.parameters().begin(), replayed.parameters().end()))
        << "step " << s + 1;
  }
}

TEST(TrueBound, AStepReportsTheBoundAtBetaOneWhateverItsKlWeight) {
  // The step's bound is that of the parameters before the update, with the
  // step's noise, evaluated at beta = 1.
  TrainConfig t = adam_config(10);
  t.objective.beta = 0.3f;
  Fresh run(t);
  const std::vector<float> x = gather_all(grey_data(10), Binarize::none, 1, 0);
  Vae before(small_model(), 2);
  std::vector<float> eps(10 * small_model().latent);
  fill_normal(eps.data(), eps.size(), t.seed, rng_stream(RngPurpose::eps, 0));
  const Bound at_beta_one = before.engine().forward({x.data(), 10, kDim}, eps.data(), {Estimator::B, 1, 1.0f});
  const Bound reported = run.trainer.step({x.data(), 10, kDim});
  EXPECT_EQ(reported.bound, at_beta_one.bound);
  EXPECT_EQ(reported.kl, at_beta_one.kl);
  EXPECT_EQ(reported.reconstruction, at_beta_one.reconstruction);
  EXPECT_NEAR(reported.bound, reported.reconstruction - reported.kl, 1e-9);
}

TEST(TrueBound, WeightDecayEntersOneStepAsTheGradientOfTheGaussianPrior) {
  // Plain SGD: theta_1 = theta_0 - lr (g + wd theta_0), g the same with or
  // without decay, so the two runs differ by exactly -lr wd theta_0.
  TrainConfig t = adam_config(10);
  t.optimizer.kind = OptimizerKind::sgd;
  t.optimizer.momentum = 0;
  t.optimizer.lr = 0.5f;
  TrainConfig decayed = t;
  decayed.optimizer.weight_decay = 0.25f;
  Fresh plain(t), with_decay(decayed);
  const std::vector<float> theta0 = plain.params();
  const std::vector<float> x = gather_all(grey_data(10), Binarize::none, 1, 0);
  plain.trainer.step({x.data(), 10, kDim});
  with_decay.trainer.step({x.data(), 10, kDim});
  const std::vector<float> a = plain.params(), b = with_decay.params();
  for (std::size_t i = 0; i < theta0.size(); ++i) {
    // Float rounding of the two updates: a few ulps of the values involved.
    const double tol = 4 * 1.2e-7 * (std::abs(a[i]) + std::abs(b[i]) + std::abs(theta0[i])) + 1e-12;
    ASSERT_NEAR(double(b[i]) - double(a[i]), -0.5 * 0.25 * double(theta0[i]), tol) << "parameter " << i;
  }
}

}  // namespace
}  // namespace aevb
