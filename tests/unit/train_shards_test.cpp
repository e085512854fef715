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
#include "train/epoch_runner.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace aevb {
namespace {

using test::adam_config;
using test::grey_data;
using test::small_model;
constexpr std::size_t kDim = test::kSmallDim;


// Ranks as threads of one process, with a queue of messages for each pair
// (receiver, sender): as MPI matches messages by their source, a fast rank's
// next message can never be taken for another rank's.
class Mailboxes {
 public:
  explicit Mailboxes(int ranks) : ranks_(ranks), boxes_(std::size_t(ranks * ranks)) {}
  void post(int to, int from, const void* data, std::size_t bytes) {
    const auto* p = static_cast<const char*>(data);
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      box(to, from).emplace_back(p, p + bytes);
    }
    arrived_.notify_all();
  }
  void take(int at, int from, void* data, std::size_t bytes) {
    std::unique_lock<std::mutex> lock(mutex_);
    auto& queue = box(at, from);
    arrived_.wait(lock, [&] { return !queue.empty(); });
    ASSERT_EQ(queue.front().size(), bytes) << "rank " << at << " got a message of another size from " << from;
    std::memcpy(data, queue.front().data(), bytes);
    queue.pop_front();
  }
  int ranks() const { return ranks_; }

 private:
  std::deque<std::vector<char>>& box(int to, int from) { return boxes_[std::size_t(to * ranks_ + from)]; }
  int ranks_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<std::deque<std::vector<char>>> boxes_;
};

class ThreadRank final : public Communicator {
 public:
  ThreadRank(Mailboxes& boxes, int rank) : boxes_(boxes), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return boxes_.ranks(); }
  void receive_from_previous(void* data, std::size_t bytes) override { boxes_.take(rank_, rank_ - 1, data, bytes); }
  void send_to_next(const void* data, std::size_t bytes) override { boxes_.post(rank_ + 1, rank_, data, bytes); }
  void broadcast(void* data, std::size_t bytes, int root) override {
    if (rank_ == root) {
      for (int r = 0; r < size(); ++r)
        if (r != root) boxes_.post(r, root, data, bytes);
    } else {
      boxes_.take(rank_, root, data, bytes);
    }
  }

 private:
  Mailboxes& boxes_;
  int rank_;
};

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
  Mailboxes boxes(ranks);
  RanksRun run;
  run.params.resize(std::size_t(ranks));
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&, r] {
      ThreadRank rank(boxes, r);
      Vae model(small_model(), 2);
      Trainer trainer(model, config, &rank);
      EpochRunner runner(trainer, data, Binarize::dynamic, config.seed);
      for (std::uint64_t epoch = 0; epoch < 2; ++epoch) {
        const double bound = runner.run(epoch).train.bound;
        if (r == 0) run.bounds.push_back(bound);
      }
      run.params[std::size_t(r)].assign(model.parameters().begin(), model.parameters().end());
    });
  }
  for (std::thread& t : threads) t.join();
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
