// --lr auto (src/train/step_size_search.hpp): each candidate's score is the
// mean minibatch bound of its trial's second half, replayed here step for
// step; the best wins, ties and divergence as documented; and the CLI keeps
// the choice across --resume without searching again.
#include "train/step_size_search.hpp"

#include "io/checkpoint.hpp"
#include "support/cli_run_fixture.hpp"
#include "core/rng.hpp"
#include "train/epoch_runner.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <vector>

namespace aevb {
namespace {

// 300 random binary images of 64 pixels, a small Bernoulli VAE, Adagrad.
struct TrialSetup {
  Dataset data;
  RunSettings settings;
  TrialSetup() {
    data.count = 300, data.dim = 64, data.binary = true;
    data.bytes.resize(data.count * data.dim);
    std::vector<float> u(data.bytes.size());
    fill_uniform(u.data(), u.size(), 5, 0);
    for (std::size_t k = 0; k < u.size(); ++k) data.bytes[k] = (k % 8 < 4) == (u[k] < 0.8f) ? 255 : 0;
    settings.model.input_dim = 64;
    settings.model.hidden = {16};
    settings.model.latent = 2;
    settings.train.batch = 50;  // 6 batches per epoch: a 20-step trial spans epochs
    complete_for_data(settings, data);
  }
};

double replayed_score(const TrialSetup& s, float lr) {
  TrainConfig config = s.settings.train;
  config.optimizer.lr = lr;
  Vae model(s.settings.model, config.seed);
  Trainer trainer(model, config);
  EpochRunner runner(trainer, s.data, s.settings.binarize, config.seed);
  // Phase 1: 10 steps over epochs 0 (6) and 1 (4); phase 2: epochs 2 (6) and 3 (4).
  runner.run(0, {}, 6);
  runner.run(1, {}, 4);
  const EpochResult a = runner.run(2, {}, 6), b = runner.run(3, {}, 4);
  return (a.position.sums.bound + b.position.sums.bound) / double(a.position.samples + b.position.samples);
}

TEST(StepSizeSearch, ScoresEachCandidateOnItsTrialsSecondHalfAndTakesTheBest) {
  const TrialSetup s;
  const StepSizeChoice choice = choose_step_size(s.settings, s.data, 20);
  ASSERT_EQ(choice.trials.size(), 3u);
  const std::vector<float> candidates = step_size_candidates(OptimizerKind::adagrad);
  EXPECT_EQ(candidates, (std::vector<float>{0.01f, 0.02f, 0.1f})) << "the paper's";
  double best = -std::numeric_limits<double>::infinity();
  float best_lr = 0;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(choice.trials[i].lr, candidates[i]);
    EXPECT_DOUBLE_EQ(choice.trials[i].bound, replayed_score(s, candidates[i])) << candidates[i];
    if (choice.trials[i].bound > best) best = choice.trials[i].bound, best_lr = candidates[i];
  }
  EXPECT_EQ(choice.lr, best_lr);
}

TEST(StepSizeSearch, ADivergingCandidateLoses) {
  // SGD with a weight decay of 300: each step multiplies the parameters by
  // about (1 - lr * 300), which blows up for lr 0.1 (x -29 a step) within
  // the trial, and shrinks them for lr 1e-3 (x 0.7 a step).
  TrialSetup s;
  s.settings.train.optimizer.kind = OptimizerKind::sgd;
  s.settings.train.optimizer.momentum = 0;
  s.settings.train.optimizer.weight_decay = 300.0f;
  const StepSizeChoice choice = choose_step_size(s.settings, s.data, 20);
  ASSERT_EQ(choice.trials.size(), 3u);
  EXPECT_FALSE(std::isfinite(choice.trials[2].bound)) << "lr 0.1 diverges";
  EXPECT_TRUE(std::isfinite(choice.trials[0].bound)) << "lr 1e-3 does not";
  EXPECT_NE(choice.lr, 0.1f);
}

class CliStepSize : public test::CliRunTest {};

TEST_F(CliStepSize, AutoIsChosenOnceAndKeptAcrossResume) {
  const std::filesystem::path out = dir_ / "run";
  const std::vector<std::string> train = {"train", "--data", "mnist", "--limit", "600", "--hidden", "32",
                                          "--latent", "4", "--batch", "50", "--lr", "auto", "--validation", "0",
                                          "--test-eval", "0", "--no-report", "--epochs", "1", "--out", out.string()};
  const auto first = run(train);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto record = nlohmann::json::parse(bytes(out / "step_size.json"));
  ASSERT_EQ(record["trials"].size(), 3u);
  const double chosen = record["chosen"];
  double best = -1e300, best_lr = 0;
  for (const auto& t : record["trials"])
    if (!t["bound"].is_null() && t["bound"].get<double>() > best) best = t["bound"], best_lr = t["lr"];
  EXPECT_EQ(chosen, best_lr) << "the trial with the highest bound";
  EXPECT_TRUE(chosen == 0.01 || chosen == 0.02 || chosen == 0.1) << chosen;
  EXPECT_NE(first.out.find("--lr auto:"), std::string::npos);
  const auto resumed = run({"train", "--resume", out.string(), "--epochs", "2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.out.find("--lr auto:"), std::string::npos) << "searched again on resume";
  const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
  EXPECT_NEAR(ck.loop.extra["settings"]["train"]["optimizer"]["lr"].get<double>(), chosen, 1e-7);
}

}  // namespace
}  // namespace aevb
