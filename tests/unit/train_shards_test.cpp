// Minibatches cut into shards (TrainConfig::shards, docs/distributed.md):
// ranks simulated by threads that pass messages in memory give every rank
// the parameters of one process with the same shards, bit for bit, for 2 and
// 3 ranks and short last minibatches; the sharded gradient is the minibatch's
// gradient up to rounding; what cannot be sharded is refused by name.
#include <aevb/communicator.hpp>
#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include "support/scratch.hpp"
#include "support/small_training.hpp"
#include "support/thread_ranks.hpp"
#include "train/epoch_runner.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aevb {
namespace {

using test::adam_config;
using test::grey_data;
using test::small_model;
using test::Mailboxes;
using test::ThreadRank;
constexpr std::size_t kDim = test::kSmallDim;

TrainConfig sharded(std::size_t batch, std::size_t shards) {
  TrainConfig t = adam_config(batch);
  t.shards = shards;
  return t;
}

// Two epochs on `data` by `ranks` threads, each with its own model; returns
// every rank's parameters and the epochs' bounds as rank 0 saw them.
struct RanksRun {
  std::vector<std::vector<float>> params;
  std::vector<double> bounds;
};
RanksRun train_on_ranks(int ranks, const TrainConfig& config, const Dataset& data) {
  RanksRun run;
  run.params.resize(std::size_t(ranks));
  test::on_thread_ranks(ranks, [&](Communicator& rank) {
    Vae model(small_model(), 2);
    Trainer trainer(model, config, &rank);
    EpochRunner runner(trainer, data, Binarize::dynamic, config.seed);
    for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
      const double bound = runner.run(epoch).train.bound;
      if (rank.rank() == 0) run.bounds.push_back(bound);
    }
    run.params[std::size_t(rank.rank())].assign(model.parameters().begin(), model.parameters().end());
  });
  return run;
}

// 50 datapoints in minibatches of 8 (the last has 2 rows, fewer than the 6
// shards): any number of ranks gives one process's parameters and bounds.
TEST(Shards, AnyNumberOfRanksGivesOneProcesssParametersBitForBit) {
  const Dataset data = grey_data(50);
  const TrainConfig config = sharded(8, 6);
  const RanksRun one = train_on_ranks(1, config, data);
  for (int ranks : {2, 3, 6}) {
    const RanksRun many = train_on_ranks(ranks, config, data);
    for (int r = 0; r < ranks; ++r) EXPECT_EQ(many.params[std::size_t(r)], one.params[0]) << ranks << " ranks, rank " << r;
    EXPECT_EQ(many.bounds, one.bounds) << ranks << " ranks";
  }
}

// The shards' weighted mean gradient is the minibatch's mean gradient: one
// step with 4 shards moves the parameters as one step with none, up to float
// rounding (SGD, so the update is the gradient itself).
TEST(Shards, TheShardedGradientIsTheMinibatchGradient) {
  const Dataset data = grey_data(10);
  std::vector<float> x(10 * kDim);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(data.bytes[i]) / 255.0f;
  auto one_step = [&](std::size_t shards) {
    TrainConfig t = sharded(10, shards);
    t.optimizer.kind = OptimizerKind::sgd;
    t.optimizer.lr = 1.0f;
    Vae model(small_model(), 2);
    const std::vector<float> before(model.parameters().begin(), model.parameters().end());
    Trainer trainer(model, t);
    const Bound b = trainer.step({x.data(), 10, kDim});
    std::vector<float> step(before.size());
    for (std::size_t i = 0; i < step.size(); ++i) step[i] = model.parameters()[i] - before[i];
    return std::pair{step, b};
  };
  const auto [whole, whole_bound] = one_step(1);
  const auto [parts, parts_bound] = one_step(4);  // shards of 2, 3, 2, 3 rows
  ASSERT_EQ(whole.size(), parts.size());
  double largest = 0;
  for (double g : whole) largest = std::max(largest, std::abs(g));
  ASSERT_GT(largest, 0.0);
  for (std::size_t i = 0; i < whole.size(); ++i) EXPECT_NEAR(parts[i], whole[i], 1e-5 * largest) << "parameter " << i;
  EXPECT_NEAR(parts_bound.bound, whole_bound.bound, 1e-4 * std::abs(whole_bound.bound));
  EXPECT_NE(parts, whole) << "the shards were not computed apart";
}

TEST(Shards, WhatCannotBeShardedIsRefused) {
  Vae model(small_model(), 2);
  EXPECT_NE(test::error_of([&] { Trainer(model, sharded(8, 9)); }).find("shards 9: expected 1 to the batch size 8"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { Trainer(model, sharded(8, 0)); }).find("shards 0"), std::string::npos);
  TrainConfig ws = sharded(8, 2);
  ws.algorithm = "wake-sleep";
  EXPECT_NE(test::error_of([&] { Trainer(model, ws); }).find("wake-sleep does not split a minibatch"),
            std::string::npos);
  Mailboxes boxes(3);
  ThreadRank rank(boxes, 0);
  EXPECT_NE(test::error_of([&] { Trainer(model, sharded(8, 2), &rank); }).find("3 processes share 2 shards"),
            std::string::npos);
}

}  // namespace
}  // namespace aevb
