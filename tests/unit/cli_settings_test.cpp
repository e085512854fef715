// Settings that must reach the math, end to end through `aevb train`: the
// presets' documented configurations, the prior's weight decay 1/N in the
// saved config and in one update, the KL warm-up's weights, beta and the
// warm-up across --resume, and evaluation at beta = 1 whatever the training beta.
#include "support/cli_run_fixture.hpp"

#include "io/checkpoint.hpp"
#include "io/model_file.hpp"
#include "optim/lr_schedule.hpp"
#include "train/run_settings.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using test::concat;

class CliSettings : public test::CliRunTest {};

// Section 5 of the paper, as README and docs/cli.md describe the presets:
// 300 images minus 50 held out leave N = 250 training datapoints.
TEST_F(CliSettings, PresetsSaveTheirDocumentedConfiguration) {
  struct Preset {
    const char* name;
    std::vector<std::size_t> hidden;
    std::size_t latent;
    Likelihood likelihood;
    float lr;
    const char* binarize;
  };
  for (const Preset& p : {Preset{"paper-mnist", {500}, 20, Likelihood::bernoulli, 0.02f, "dynamic"},
                          Preset{"paper-frey", {200}, 2, Likelihood::gaussian, 0.01f, "none"}}) {
    const fs::path out = dir_ / p.name;
    const auto r = run({"train", "--preset", p.name, "--limit", "300", "--validation", "50", "--epochs", "1",
                        "--test-eval", "0", "--no-report", "--threads", "2", "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << p.name << ": " << r.err;
    const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
    EXPECT_EQ(ck.model.hidden, p.hidden) << p.name;
    EXPECT_EQ(ck.model.latent, p.latent) << p.name;
    EXPECT_EQ(ck.model.activation, Activation::tanh) << p.name;
    EXPECT_EQ(ck.model.likelihood, p.likelihood) << p.name;
    EXPECT_TRUE(ck.model.sigmoid_mean) << p.name;
    EXPECT_EQ(ck.model.init, Init::paper) << p.name;
    EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::adagrad) << p.name;
    EXPECT_EQ(ck.train.optimizer.lr, p.lr) << p.name;
    EXPECT_EQ(ck.train.optimizer.weight_decay, static_cast<float>(1.0 / 250)) << p.name << ": not 1/N";
    EXPECT_EQ(ck.train.batch, 100u) << p.name;
    EXPECT_EQ(ck.train.objective.estimator, Estimator::B) << p.name;
    EXPECT_EQ(ck.train.objective.samples, 1u) << p.name;
    EXPECT_EQ(ck.train.objective.beta, 1.0f) << p.name;
    EXPECT_EQ(ck.step, 3u) << p.name << ": 250 datapoints in minibatches of 100";
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["binarize"], p.binarize) << p.name;
    EXPECT_EQ(inspect_model(out / "model.safetensors").metadata.at("binarize"), p.binarize) << p.name;
  }
}

// Burda et al. (2015), sec. 5, as docs/reproduction.md lists it; all the
// training images (no validation split): 200 images are 10 steps of 20. The
// two presets share the training and differ in the model.
TEST_F(CliSettings, IwaePresetsSaveBurdasConfiguration) {
  for (const std::string preset : {"iwae-mnist-1layer", "iwae-mnist-2layer"}) {
    SCOPED_TRACE(preset);
    const fs::path out = dir_ / preset;
    const auto r = run({"train", "--preset", preset, "--limit", "200", "--epochs", "1", "--test-eval", "0",
                        "--no-report", "--threads", "2", "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
    EXPECT_EQ(ck.model.hidden, (std::vector<std::size_t>{200, 200}));
    if (preset == "iwae-mnist-1layer") {
      EXPECT_EQ(ck.model.family, "vae");
      EXPECT_EQ(ck.model.latent, 50u);
      EXPECT_EQ(ck.model.top_latent, 0u);
    } else {  // x -> 200 -> 200 -> z1 (100) -> 100 -> 100 -> z2 (50)
      EXPECT_EQ(ck.model.family, "vae-2layer");
      EXPECT_EQ(ck.model.latent, 100u);
      EXPECT_EQ(ck.model.top_hidden, (std::vector<std::size_t>{100, 100}));
      EXPECT_EQ(ck.model.top_latent, 50u);
    }
    EXPECT_EQ(ck.model.activation, Activation::tanh);
    EXPECT_EQ(ck.model.likelihood, Likelihood::bernoulli);
    EXPECT_EQ(ck.model.init, Init::glorot);
    EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::adam);
    EXPECT_EQ(ck.train.optimizer.lr, 1e-3f);
    EXPECT_EQ(ck.train.optimizer.eps, 1e-4f);
    EXPECT_EQ(ck.train.optimizer.beta1, 0.9f);
    EXPECT_EQ(ck.train.optimizer.beta2, 0.999f);
    EXPECT_EQ(ck.train.optimizer.weight_decay, 0.0f);
    EXPECT_EQ(ck.train.optimizer.schedule.kind, LrScheduleKind::burda);
    EXPECT_EQ(ck.train.batch, 20u);
    EXPECT_EQ(ck.train.objective.estimator, Estimator::B);
    EXPECT_EQ(ck.step, 10u) << "200 training datapoints (none held out) in minibatches of 20";
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["binarize"], "dynamic");
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["output_bias"], "data-mean") << "as the authors' code starts";
    // The preset's own length is the schedule's, 3280 epochs (--epochs 1 replaced it here).
    EXPECT_EQ(preset_settings(preset).epochs, kBurdaEpochs);
  }
}

// The clustering presets: the cluster family with 10 clusters on the two 10-class image sets.
TEST_F(CliSettings, ClusterPresetsSaveTheirConfiguration) {
  for (const auto& [preset, data] : std::vector<std::pair<std::string, std::string>>{
           {"cluster-mnist", "mnist"}, {"cluster-fashion-mnist", "fashion-mnist"}}) {
    SCOPED_TRACE(preset);
    const fs::path out = dir_ / preset;
    const auto r = run({"train", "--preset", preset, "--limit", "300", "--epochs", "1", "--test-eval", "0",
                        "--no-report", "--threads", "2", "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(data + " train"), std::string::npos) << r.out;
    const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
    EXPECT_EQ(ck.model.family, "cluster");
    EXPECT_EQ(ck.model.clusters, 10u);
    EXPECT_EQ(ck.model.classifier_hidden, (std::vector<std::size_t>{256}));
    EXPECT_EQ(ck.model.hidden, (std::vector<std::size_t>{500, 500}));
    EXPECT_EQ(ck.model.latent, 10u);
    EXPECT_EQ(ck.model.activation, Activation::relu);
    EXPECT_EQ(ck.model.init, Init::he);
    EXPECT_EQ(ck.model.likelihood, Likelihood::bernoulli);
    EXPECT_EQ(ck.train.objective.estimator, Estimator::B);
    EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::adam);
    EXPECT_EQ(ck.train.optimizer.lr, 1e-3f);
    EXPECT_EQ(ck.train.batch, 100u);
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["binarize"], "dynamic");
    EXPECT_EQ(preset_settings(preset).epochs, 50u);
  }
}

// The VaDE presets: the same networks, the vade family, its mixture started
// from a pretrained autoencoder (the run reports the start and stores the flag).
TEST_F(CliSettings, VadePresetsSaveTheirConfiguration) {
  for (const auto& [preset, data] : std::vector<std::pair<std::string, std::string>>{
           {"vade-mnist", "mnist"}, {"vade-fashion-mnist", "fashion-mnist"}}) {
    SCOPED_TRACE(preset);
    const fs::path out = dir_ / preset;
    const auto r = run({"train", "--preset", preset, "--limit", "300", "--epochs", "1", "--pretrain-epochs", "1",
                        "--test-eval", "0", "--no-report", "--threads", "2", "--out", out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(data + " train"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("the mixture prior starts from an autoencoder trained for 1 epochs"), std::string::npos)
        << r.out;
    const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
    EXPECT_EQ(ck.model.family, "vade");
    EXPECT_EQ(ck.model.clusters, 10u);
    EXPECT_TRUE(ck.model.classifier_hidden.empty());
    EXPECT_EQ(ck.model.hidden, (std::vector<std::size_t>{500, 500}));
    EXPECT_EQ(ck.model.latent, 10u);
    EXPECT_EQ(ck.model.activation, Activation::relu);
    EXPECT_EQ(ck.model.likelihood, Likelihood::bernoulli);
    EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::adam);
    EXPECT_EQ(ck.train.optimizer.lr, 2e-3f);
    EXPECT_EQ(ck.train.optimizer.eps, 1e-4f);
    EXPECT_EQ(ck.train.batch, 100u);
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["binarize"], "dynamic");
    EXPECT_EQ(ck.loop.extra["settings"]["run"]["pretrain_epochs"], 1) << "the flag's, stored with the run";
    EXPECT_EQ(preset_settings(preset).pretrain_epochs, 10u);
    EXPECT_EQ(preset_settings(preset).epochs, 20u);
  }
}

TEST_F(CliSettings, TheConditionalPresetSavesItsConfiguration) {
  const fs::path out = dir_ / "cvae-mnist";
  const auto r = run({"train", "--preset", "cvae-mnist", "--limit", "300", "--epochs", "1", "--test-eval", "10",
                      "--no-report", "--threads", "2", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("mnist train"), std::string::npos) << r.out;
  const Checkpoint ck = load_checkpoint(out / "checkpoint.safetensors");
  EXPECT_EQ(ck.model.family, "cvae");
  EXPECT_EQ(ck.model.classes, 10u);
  EXPECT_EQ(ck.model.hidden, (std::vector<std::size_t>{500}));
  EXPECT_EQ(ck.model.latent, 20u);
  EXPECT_EQ(ck.model.activation, Activation::relu);
  EXPECT_EQ(ck.model.init, Init::he);
  EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::adam);
  EXPECT_EQ(ck.train.optimizer.lr, 1e-3f);
  EXPECT_EQ(ck.train.batch, 100u);
  EXPECT_EQ(ck.loop.extra["settings"]["run"]["binarize"], "dynamic");
  EXPECT_EQ(preset_settings("cvae-mnist").epochs, 20u);
  // The first encoder layer reads the image and the label; the decoder's, z and the label.
  const Vae model = load_model(out / "model.safetensors");
  std::vector<std::size_t> encoder_in, decoder_in;
  for (const ParameterInfo& p : model.parameter_table()) {
    if (p.name == "encoder.0.weight") encoder_in = p.shape;
    if (p.name == "decoder.0.weight") decoder_in = p.shape;
  }
  EXPECT_EQ(encoder_in, (std::vector<std::size_t>{500, 794}));
  EXPECT_EQ(decoder_in, (std::vector<std::size_t>{500, 30}));
}

// Papers write widths as 784-200-200-50 and users type commas: both spellings declare the same MLP.
TEST_F(CliSettings, MlpWidthsMayBeSpaceOrCommaSeparated) {
  for (const auto& widths : {std::vector<std::string>{"16", "8"}, std::vector<std::string>{"16,8"}}) {
    const fs::path out = dir_ / ("widths" + std::to_string(widths.size()));
    const auto r = run(concat({"train", "--data", "mnist", "--limit", "100", "--latent", "2", "--epochs", "1",
                               "--test-eval", "0", "--no-report", "--out", out.string(), "--hidden"},
                              widths));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(load_checkpoint(out / "checkpoint.safetensors").model.hidden, (std::vector<std::size_t>{16, 8}));
  }
}

TEST_F(CliSettings, PriorWeightDecayIsOneOverTheTrainingCountInAnUpdate) {
  // One plain SGD step at lr 1 on N = 80 training datapoints (130 minus 50
  // held out; N differs from the minibatch size 100 and from the 130 loaded):
  // theta_1 = theta_0 - (g + theta_0 / N), so the runs with and without the
  // prior differ by -theta_0 / N, theta_0 the seeded init.
  auto one_step = [&](const char* decay) {
    const fs::path out = dir_ / (std::string("decay-") + decay);
    const auto r = run({"train", "--preset", "paper-mnist", "--hidden", "16", "--latent", "2", "--limit", "130",
                        "--validation", "50", "--epochs", "1", "--optimizer", "sgd", "--momentum", "0", "--lr", "1",
                        "--weight-decay", decay, "--test-eval", "0", "--no-report", "--threads", "2", "--out",
                        out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return load_checkpoint(out / "checkpoint.safetensors");
  };
  const Checkpoint prior = one_step("prior"), none = one_step("0");
  ASSERT_EQ(prior.step, 1u);
  EXPECT_EQ(prior.train.optimizer.weight_decay, 1.0f / 80);
  const Vae init(prior.model, prior.train.seed);
  const auto theta0 = init.parameters();
  // The least-squares slope of the difference on theta_0, and what is left.
  double dot = 0, norm = 0;
  for (std::size_t i = 0; i < theta0.size(); ++i) {
    dot += (double(prior.parameters[i]) - double(none.parameters[i])) * double(theta0[i]);
    norm += double(theta0[i]) * double(theta0[i]);
  }
  EXPECT_NEAR(dot / norm, -1.0 / 80, 1e-5);
}

TEST_F(CliSettings, DefaultValidationHoldsOutATenthUpTo1000) {
  // docs/cli.md: without --validation, min(1000, N / 10) datapoints are held out.
  auto train = [&](const char* limit) {
    const fs::path out = dir_ / (std::string("default-validation-") + limit);
    const auto r = run({"train", "--data", "mnist", "--limit", limit, "--hidden", "8", "--latent", "2", "--epochs",
                        "1", "--test-eval", "0", "--no-report", "--threads", "2", "--out", out.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return std::make_pair(r.out, metrics(out));
  };
  const auto [small_out, small] = train("300");
  EXPECT_NE(small_out.find("270 training / 30 validation"), std::string::npos) << small_out;
  ASSERT_EQ(small.size(), 1u);
  EXPECT_EQ(small[0]["samples"], 270);
  EXPECT_EQ(small[0]["step"], 3);  // 270 in minibatches of 100
  const auto [large_out, large] = train("12000");
  EXPECT_NE(large_out.find("11000 training / 1000 validation"), std::string::npos) << large_out;
  ASSERT_EQ(large.size(), 1u);
  EXPECT_EQ(large[0]["samples"], 11000);
}

TEST_F(CliSettings, KlWarmupWeightsAreRecordedAndSurviveResumeWithBeta) {
  // 500 training datapoints in minibatches of 50: 10 steps per epoch, a
  // 2-epoch warm-up is 20 steps; after step s the next weight is beta (s + 1) / 20.
  const fs::path whole = dir_ / "whole", parts = dir_ / "parts";
  const std::vector<std::string> warm = {"--kl-warmup", "2", "--beta", "0.5", "--no-report"};
  ASSERT_EQ(run(small_run(whole, concat(warm, {"--epochs", "3"}))).exit_code, 0);
  const auto m = metrics(whole);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_FLOAT_EQ(m[0]["kl_weight"].get<float>(), 0.5f * 11 / 20);
  EXPECT_FLOAT_EQ(m[1]["kl_weight"].get<float>(), 0.5f);
  EXPECT_FLOAT_EQ(m[2]["kl_weight"].get<float>(), 0.5f);

  ASSERT_EQ(run(small_run(parts, concat(warm, {"--epochs", "1"}))).exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "3", "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Checkpoint ck = load_checkpoint(parts / "checkpoint.safetensors");
  EXPECT_EQ(ck.train.objective.beta, 0.5f);
  EXPECT_EQ(ck.train.kl_warmup_steps, 20u);
  EXPECT_EQ(ck.loop.extra["settings"]["run"]["kl_warmup_epochs"], 2.0);
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  const auto mp = metrics(parts);
  ASSERT_EQ(mp.size(), 3u);
  for (std::size_t e = 0; e < 3; ++e) EXPECT_EQ(mp[e]["kl_weight"], m[e]["kl_weight"]) << "epoch " << e + 1;
}

TEST_F(CliSettings, TestBoundDuringTrainingIsTheBoundAtBetaOneThatEvalReports) {
  // The test slice is the first 200 test images, binarized by the fixed
  // sample of seed 1; `aevb eval` with seed 1 evaluates exactly that.
  const fs::path out = dir_ / "beta";
  ASSERT_EQ(run(small_run(out, {"--beta", "0.25", "--epochs", "1", "--no-report"})).exit_code, 0);
  const auto m = metrics(out);
  ASSERT_EQ(m.size(), 1u);
  const auto r = run({"eval", "--model", (out / "model.safetensors").string(), "--data", "mnist", "--split", "test",
                      "--limit", "200", "--iw", "0", "--seed", "1", "--threads", "2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["elbo"], m[0]["test_bound"]);
  EXPECT_EQ(j["kl"], m[0]["test_kl"]);
  EXPECT_NEAR(m[0]["test_bound"].get<double>(),
              m[0]["test_reconstruction"].get<double>() - m[0]["test_kl"].get<double>(), 1e-9);
  EXPECT_NEAR(m[0]["validation_bound"].get<double>(),
              m[0]["validation_reconstruction"].get<double>() - m[0]["validation_kl"].get<double>(), 1e-9);
}

}  // namespace
}  // namespace aevb
