// Checkpoints: a run resumed from a checkpoint continues bit for bit like the
// uninterrupted run, and broken or mismatched checkpoints are refused.
#include "io/checkpoint.hpp"

#include "io/config_json.hpp"
#include "io/model_file.hpp"
#include "io/safetensors.hpp"

#include <aevb/error.hpp>
#include <aevb/vae.hpp>

#include "support/rewrite_safetensors.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
namespace st = safetensors;
using json = nlohmann::json;

using test::rewrite_safetensors;
using test::TempDir;

using test::error_of;

ModelConfig small_model() {
  ModelConfig c;
  c.input_dim = 10;
  c.hidden = {7};
  c.latent = 2;
  return c;
}

TrainConfig small_train(OptimizerKind kind) {
  TrainConfig t;
  t.optimizer.kind = kind;
  t.optimizer.lr = kind == OptimizerKind::adam ? 0.01f : 0.05f;
  t.optimizer.momentum = kind == OptimizerKind::sgd ? 0.0f : 0.9f;  // plain SGD: an empty state
  t.optimizer.weight_decay = 0.001f;
  t.batch = 4;
  t.seed = 99;
  return t;
}

/// Deterministic data in [0, 1]: batch b of 4 rows.
std::vector<float> batch_data(std::size_t b, std::size_t dim) {
  std::vector<float> x(4 * dim);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7 + b * 13) % 11) / 10.0f;
  return x;
}

void run_steps(Trainer& trainer, std::size_t from, std::size_t to, std::size_t dim) {
  for (std::size_t b = from; b < to; ++b) {
    const std::vector<float> x = batch_data(b, dim);
    trainer.step({x.data(), 4, dim});
  }
}

TEST(IoCheckpoint, ResumeEqualsUninterruptedRun) {
  TempDir dir;
  for (OptimizerKind kind : {OptimizerKind::adagrad, OptimizerKind::adam, OptimizerKind::sgd}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    const ModelConfig mc = small_model();
    const TrainConfig tc = small_train(kind);

    Vae straight(mc, 5);
    Trainer straight_trainer(straight, tc);
    run_steps(straight_trainer, 0, 10, mc.input_dim);

    const fs::path path = dir.path / "checkpoint.safetensors";
    {
      Vae first(mc, 5);
      Trainer first_trainer(first, tc);
      run_steps(first_trainer, 0, 6, mc.input_dim);
      LoopState loop;
      loop.epoch = 1;
      loop.batch_in_epoch = 2;
      loop.extra = {{"metrics", json::array({{{"epoch", 1}, {"bound", -123.5}}})}, {"binarize", "dynamic"}};
      save_checkpoint(path, first, first_trainer, loop);
    }

    const Checkpoint ck = load_checkpoint(path);
    EXPECT_EQ(ck.step, 6u);
    EXPECT_EQ(ck.loop.epoch, 1u);
    EXPECT_EQ(ck.loop.batch_in_epoch, 2u);
    EXPECT_EQ(ck.loop.extra.at("binarize"), "dynamic");
    EXPECT_EQ(ck.loop.extra.at("metrics")[0].at("bound"), -123.5);
    EXPECT_EQ(to_json(ck.model), to_json(mc));
    EXPECT_EQ(to_json(ck.train), to_json(tc));

    Vae resumed(ck.model, 12345);  // a different init: restore must overwrite it
    Trainer resumed_trainer(resumed, ck.train);
    restore_checkpoint(ck, resumed, resumed_trainer);
    EXPECT_EQ(resumed_trainer.steps(), 6u);
    run_steps(resumed_trainer, 6, 10, mc.input_dim);

    EXPECT_EQ(resumed_trainer.steps(), straight_trainer.steps());
    ASSERT_EQ(resumed.parameters().size(), straight.parameters().size());
    EXPECT_EQ(std::memcmp(resumed.parameters().data(), straight.parameters().data(), straight.parameters().size() * 4), 0)
        << "the resumed run differs from the uninterrupted one";
    ASSERT_EQ(resumed_trainer.optimizer_state().size(), straight_trainer.optimizer_state().size());
    if (kind == OptimizerKind::sgd) {
      EXPECT_TRUE(ck.optimizer_state.empty());
    }
    const auto a = resumed_trainer.optimizer_state(), b = straight_trainer.optimizer_state();
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin(), b.end())) << "the optimizer states differ";
  }
}

TEST(IoCheckpoint, CheckpointLoadsAsAModel) {
  TempDir dir;
  Vae model(small_model(), 5);
  Trainer trainer(model, small_train(OptimizerKind::adam));
  run_steps(trainer, 0, 3, 10);
  save_checkpoint(dir.path / "ck.safetensors", model, trainer, {});
  const Vae loaded = load_model(dir.path / "ck.safetensors");
  EXPECT_EQ(std::memcmp(loaded.parameters().data(), model.parameters().data(), model.parameters().size() * 4), 0);
  EXPECT_EQ(inspect_model(dir.path / "ck.safetensors").format, "aevb-checkpoint");
  const st::File f = st::read_file(dir.path / "ck.safetensors");
  ASSERT_NE(f.find("optimizer.state"), nullptr);
  EXPECT_EQ(f.find("optimizer.state")->shape, (std::vector<std::size_t>{2 * model.parameters().size()}));
}

TEST(IoCheckpoint, ModelFileIsNotACheckpoint) {
  TempDir dir;
  save_model(dir.path / "m.safetensors", Vae(small_model(), 1));
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir.path / "m.safetensors"),
                        "format is 'aevb-vae', expected 'aevb-checkpoint'");
  EXPECT_ERROR_CONTAINS(load_checkpoint(dir.path / "missing.safetensors"), "cannot read");
}

TEST(IoCheckpoint, BrokenCheckpoints) {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors", bad = dir.path / "bad.safetensors";
  {
    Vae model(small_model(), 5);
    Trainer trainer(model, small_train(OptimizerKind::adagrad));
    run_steps(trainer, 0, 2, 10);
    save_checkpoint(good, model, trainer, {});
  }
  ASSERT_NO_THROW(load_checkpoint(good));

  rewrite_safetensors(good, bad, [](st::File& f) { std::erase_if(f.tensors, [](auto& t) { return t.name == "optimizer.state"; }); });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "tensor 'optimizer.state' is missing");
  rewrite_safetensors(good, bad, [](st::File& f) {
    for (auto& t : f.tensors)
      if (t.name == "optimizer.state") t.data[0] = INFINITY;
  });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "'optimizer.state' holds a non-finite value at index 0");
  rewrite_safetensors(good, bad, [](st::File& f) { std::erase_if(f.tensors, [](auto& t) { return t.name == "encoder.0.bias"; }); });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "tensor 'encoder.0.bias' is missing");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata.erase("aevb_state"); });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "no \"aevb_state\"");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata["aevb_state"] = R"({"step": -1, "epoch": 0, "batch_in_epoch": 0})"; });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "aevb_state.step: expected a non-negative integer");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata["aevb_state"] = R"({"step": 1, "epoch": 0})"; });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "aevb_state has no \"batch_in_epoch\"");
  rewrite_safetensors(good, bad, [](st::File& f) {
    json t = json::parse(f.metadata["aevb_train_config"]);
    t["optimizer"]["lr"] = -1;
    f.metadata["aevb_train_config"] = t.dump();
  });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "lr must be positive");
  rewrite_safetensors(good, bad, [](st::File& f) {
    json t = json::parse(f.metadata["aevb_train_config"]);
    t["optimiser"] = t["optimizer"];
    f.metadata["aevb_train_config"] = t.dump();
  });
  EXPECT_ERROR_CONTAINS(load_checkpoint(bad), "unknown key 'aevb_train_config.optimiser'");
}

TEST(IoCheckpoint, RestoreRefusesMismatches) {
  TempDir dir;
  const fs::path path = dir.path / "ck.safetensors";
  {
    Vae model(small_model(), 5);
    Trainer trainer(model, small_train(OptimizerKind::adagrad));
    run_steps(trainer, 0, 2, 10);
    save_checkpoint(path, model, trainer, {});
  }
  const Checkpoint ck = load_checkpoint(path);
  {
    ModelConfig other = small_model();
    other.hidden = {6};
    Vae model(other, 1);
    Trainer trainer(model, ck.train);
    EXPECT_ERROR_CONTAINS(restore_checkpoint(ck, model, trainer), "model config");
  }
  {
    Vae model(ck.model, 1);
    TrainConfig adam = ck.train;
    adam.optimizer.kind = OptimizerKind::adam;
    Trainer trainer(model, adam);
    EXPECT_ERROR_CONTAINS(restore_checkpoint(ck, model, trainer), "train config");
  }
  {
    Checkpoint truncated = ck;
    truncated.optimizer_state.pop_back();
    Vae model(ck.model, 1);
    Trainer trainer(model, ck.train);
    EXPECT_ERROR_CONTAINS(restore_checkpoint(truncated, model, trainer), "optimizer state has");
  }
}

}  // namespace
}  // namespace aevb
