// End-to-end: `aevb train`, `eval` and `report` on small real MNIST slices.
#include "support/cli_run_fixture.hpp"
#include "support/png_files.hpp"
#include "support/rewrite_safetensors.hpp"

#include "backend/cpu/gemm_bf16.hpp"
#include "io/checkpoint.hpp"
#include "io/model_file.hpp"
#include "optim/lr_schedule.hpp"
#include "viz/image_grid.hpp"
#include "viz/png.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <regex>
#include <fstream>
#include <sstream>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class CliTrain : public test::CliRunTest {};

TEST_F(CliTrain, WritesModelMetricsCheckpointAndReport) {
  const fs::path run_dir = dir_ / "run";
  const auto start = std::chrono::steady_clock::now();
  const auto r = run(small_run(run_dir, {"--epochs", "3"}));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"model.safetensors", "checkpoint.safetensors", "metrics.jsonl", "curve.svg", "curve.png", "samples.png",
                        "reconstructions.png", "manifold.png", "report.html"})
    EXPECT_TRUE(fs::exists(run_dir / f)) << f;
  const auto m = metrics(run_dir);
  ASSERT_EQ(m.size(), 3u);
  for (std::size_t e = 0; e < m.size(); ++e) {
    EXPECT_EQ(m[e]["epoch"], e + 1);
    EXPECT_EQ(m[e]["samples"], 500 * (e + 1));  // 600 minus 100 validation
    EXPECT_EQ(m[e]["step"], 10 * (e + 1));      // 500 / 50 per epoch
    for (const char* k : {"train_bound", "validation_bound", "test_bound", "train_kl", "seconds"})
      EXPECT_TRUE(m[e][k].is_number() && std::isfinite(m[e][k].get<double>())) << k;
    // Bounds per datapoint of binarized MNIST: between -784 log 2 (a coin flip per pixel) and 0.
    EXPECT_LT(m[e]["train_bound"].get<double>(), 0);
    EXPECT_GT(m[e]["validation_bound"].get<double>(), -784 * std::log(2.0));
    EXPECT_GT(m[e]["seconds"].get<double>(), 0);
    EXPECT_NEAR(m[e]["train_bound"].get<double>(),
                m[e]["train_reconstruction"].get<double>() - m[e]["train_kl"].get<double>(), 1e-9);
  }
  EXPECT_GT(m[2]["train_bound"].get<double>(), m[0]["train_bound"].get<double>()) << "training should improve";
  // seconds is each epoch's own time: the three fit in the command's wall
  // time (cumulative times would count the first epoch three times), and
  // samples_per_second is the epoch's 500 datapoints over it.
  double seconds = 0;
  for (const auto& e : m) {
    seconds += e["seconds"].get<double>();
    EXPECT_NEAR(e["samples_per_second"].get<double>() * e["seconds"].get<double>(), 500, 1e-6);
  }
  EXPECT_LT(seconds, wall);
  const Vae model = load_model(run_dir / "model.safetensors");
  EXPECT_EQ(model.config().input_dim, 784u);
  EXPECT_EQ(model.config().latent, 4u);
  EXPECT_NE(bytes(run_dir / "report.html").find("data:image/png;base64,"), std::string::npos);
}

TEST_F(CliTrain, ResumeEqualsAnUninterruptedRun) {
  const fs::path whole = dir_ / "whole", parts = dir_ / "parts";
  ASSERT_EQ(run(small_run(whole, {"--epochs", "3", "--no-report"})).exit_code, 0);
  ASSERT_EQ(run(small_run(parts, {"--epochs", "1", "--no-report"})).exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "3", "--no-report", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  const Checkpoint a = load_checkpoint(whole / "checkpoint.safetensors");
  const Checkpoint b = load_checkpoint(parts / "checkpoint.safetensors");
  EXPECT_EQ(a.optimizer_state, b.optimizer_state);
  EXPECT_EQ(a.step, b.step);
  const auto ma = metrics(whole), mb = metrics(parts);
  ASSERT_EQ(ma.size(), mb.size());
  for (std::size_t e = 0; e < ma.size(); ++e)
    for (const char* k : {"train_bound", "validation_bound", "test_bound", "samples", "step"})
      EXPECT_EQ(ma[e][k], mb[e][k]) << "epoch " << e + 1 << " " << k;
}

// A schedule is a setting of the run: metrics.jsonl shows the rate each epoch
// ended at, and a resumed run continues the schedule where it stopped (the
// factor is a function of the restored step count), byte for byte.
TEST_F(CliTrain, LearningRateScheduleIsLoggedAndResumedExactly) {
  const fs::path whole = dir_ / "whole", parts = dir_ / "parts";
  const std::vector<std::string> schedule = {"--lr-schedule", "step:1:0.5", "--lr-warmup", "15",
                                             "--adam-eps", "1e-4", "--adam-betas", "0.8,0.99", "--no-report"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.end(), schedule.begin(), schedule.end());
    return extra;
  };
  ASSERT_EQ(run(small_run(whole, with({"--epochs", "3"}))).exit_code, 0);
  ASSERT_EQ(run(small_run(parts, with({"--epochs", "1"}))).exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "3", "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  const auto m = metrics(parts);
  ASSERT_EQ(m.size(), 3u);
  // 10 steps an epoch; each epoch's last step is past the 15-step warm-up but the first.
  EXPECT_NEAR(m[0]["lr"].get<double>(), 0.003f * 10.0 / 15.0, 1e-12);
  EXPECT_NEAR(m[1]["lr"].get<double>(), 0.003f * 0.5, 1e-12);
  EXPECT_NEAR(m[2]["lr"].get<double>(), 0.003f * 0.25, 1e-12);
  const Checkpoint c = load_checkpoint(parts / "checkpoint.safetensors");
  EXPECT_EQ(to_spec(c.train.optimizer.schedule), "step:1:0.5");
  EXPECT_EQ(c.train.optimizer.lr_warmup_steps, 15u);
  EXPECT_EQ(c.train.optimizer.eps, 1e-4f);
  EXPECT_EQ(c.train.optimizer.beta1, 0.8f);
  EXPECT_EQ(c.train.optimizer.beta2, 0.99f);
}

// A declared conv network end to end: its layers are saved, it resumes
// exactly, training improves it, and the model file's encoder is the one the
// CLI's encode runs.
TEST_F(CliTrain, ConvNetworkTrainsResumesAndKeepsItsLayers) {
  const fs::path whole = dir_ / "whole", parts = dir_ / "parts";
  const std::vector<std::string> conv = {"--encoder", "conv:8:4:2:1,residual:4,conv:16:4:2:1,dense:32",
                                         "--activation", "relu", "--init", "he", "--no-report"};
  // small_run's settings with the declared encoder in place of --hidden 64.
  auto conv_run = [&](const fs::path& out, const char* epochs) {
    std::vector<std::string> a = small_run(out, conv);
    const auto hidden = std::find(a.begin(), a.end(), "--hidden");
    a.erase(hidden, hidden + 2);
    a.insert(a.end(), {"--epochs", epochs});
    return a;
  };
  ASSERT_EQ(run(conv_run(whole, "3")).exit_code, 0);
  ASSERT_EQ(run(conv_run(parts, "1")).exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "3", "--no-report", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  const auto m = metrics(whole);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_GT(m[2]["validation_bound"].get<double>(), m[0]["validation_bound"].get<double>() + 5.0);

  const Vae model = load_model(whole / "model.safetensors");
  EXPECT_EQ(to_string(model.config().encoder), "conv:8:4:2:1,residual:4,conv:16:4:2:1,dense:32");
  EXPECT_TRUE(model.config().decoder.empty());  // mirrored, as declared
  EXPECT_EQ(model.parameter_table().back().name, "decoder.logits.bias");
  EXPECT_EQ(model.parameter_table()[0].shape, (std::vector<std::size_t>{8, 1, 4, 4}));
  const fs::path samples = dir_ / "samples.png";
  const auto s = run({"sample", "--model", (whole / "model.safetensors").string(), "--out", samples.string()});
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_TRUE(fs::exists(samples));
}

// --matmul-precision bfloat16 trains, is kept in the checkpoint so that a
// resumed run goes on in bfloat16, and resuming is still exact.
TEST_F(CliTrain, BfloatProductsTrainAndResumeExactly) {
  if (!backend::bf16_products_available()) GTEST_SKIP() << "no bfloat16 kernel on this machine (neither AMX-BF16 nor AVX512-BF16)";
  const fs::path whole = dir_ / "whole", parts = dir_ / "parts";
  const std::vector<std::string> bf16 = {"--matmul-precision", "bfloat16", "--no-report"};
  auto with = [&](std::vector<std::string> a, const char* epochs) {
    a.insert(a.end(), {"--epochs", epochs});
    return a;
  };
  ASSERT_EQ(run(small_run(whole, with(bf16, "3"))).exit_code, 0);
  ASSERT_EQ(run(small_run(parts, with(bf16, "1"))).exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "3", "--no-report"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  EXPECT_EQ(load_checkpoint(parts / "checkpoint.safetensors").train.matmul_precision, MatmulPrecision::bfloat16);
  const auto m = metrics(whole);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_GT(m[2]["train_bound"].get<double>(), m[0]["train_bound"].get<double>()) << "training should improve";
  // The same run in float32 differs: the flag did change the products (how
  // much is tests/unit/gemm_bf16_test.cpp's business).
  const fs::path f32 = dir_ / "float32";
  ASSERT_EQ(run(small_run(f32, {"--epochs", "3", "--no-report"})).exit_code, 0);
  EXPECT_NE(bytes(f32 / "model.safetensors"), bytes(whole / "model.safetensors"));
}

TEST_F(CliTrain, DivergenceNamesTheStepAndKeepsTheLastCheckpoint) {
  // SGD at 0.5 with momentum 0.9 (from a TOML config file) diverges within a
  // few dozen steps. One step per epoch (50 training datapoints, minibatches
  // of 50), so the step the error names can be checked on its own: a run of
  // one step fewer finishes with finite numbers, and the diverged run, which
  // wrote its files at every epoch end (--checkpoint-every 0), kept exactly
  // that run's last checkpoint. By default such millisecond epochs write only
  // now and then (src/train/save_schedule.hpp): the diverged run then keeps
  // the last epoch it wrote, which a run of that many epochs reproduces.
  const fs::path cfg = dir_ / "sgd.toml";
  std::ofstream(cfg) << "[train.optimizer]\nkind = \"sgd\"\nlr = 0.5\nmomentum = 0.9\n";
  auto train = [&](const fs::path& out, std::size_t epochs, const char* checkpoint_every) {
    return run({"train", "--data", "mnist", "--limit", "150", "--hidden", "64", "--latent", "4", "--batch", "50",
                "--binarize", "dynamic", "--validation", "100", "--test-eval", "0", "--epochs", std::to_string(epochs),
                "--config", cfg.string(), "--no-report", "--threads", "2", "--checkpoint-every", checkpoint_every,
                "--out", out.string()});
  };
  const auto diverged_at = [](const test::CliResult& r) {
    EXPECT_EQ(r.exit_code, 2);
    std::smatch step_text;
    EXPECT_TRUE(std::regex_search(r.err, step_text, std::regex("training diverged at step ([0-9]+)"))) << r.err;
    return step_text.empty() ? std::size_t(0) : std::stoul(step_text[1]);
  };
  const fs::path diverged = dir_ / "diverge", before = dir_ / "before";
  const std::size_t step = diverged_at(train(diverged, 200, "0"));
  ASSERT_GE(step, 2u) << "the first step diverged: nothing to check a checkpoint against";
  const Checkpoint ck = load_checkpoint(diverged / "checkpoint.safetensors");  // checks every value is finite
  EXPECT_EQ(ck.step, step - 1);
  EXPECT_EQ(ck.loop.epoch, step - 1);
  EXPECT_EQ(ck.train.optimizer.kind, OptimizerKind::sgd);
  EXPECT_EQ(metrics(diverged).size(), step - 1);
  for (const auto& entry : fs::directory_iterator(diverged))
    EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << "left behind: " << entry.path();
  ASSERT_EQ(train(before, step - 1, "0").exit_code, 0);
  EXPECT_EQ(bytes(before / "model.safetensors"), bytes(diverged / "model.safetensors"));

  const fs::path by_default = dir_ / "diverge-default", kept = dir_ / "kept";
  EXPECT_EQ(diverged_at(train(by_default, 200, "600")), step);
  const Checkpoint last = load_checkpoint(by_default / "checkpoint.safetensors");
  ASSERT_GE(last.loop.epoch, 1u);
  EXPECT_LE(last.loop.epoch, step - 1);
  EXPECT_EQ(last.step, last.loop.epoch);
  EXPECT_EQ(metrics(by_default).size(), last.loop.epoch);
  ASSERT_EQ(train(kept, last.loop.epoch, "600").exit_code, 0);
  EXPECT_EQ(bytes(kept / "model.safetensors"), bytes(by_default / "model.safetensors"));
}

TEST_F(CliTrain, EvalReportsBoundAndLikelihoodAsJson) {
  const fs::path run_dir = dir_ / "eval";
  ASSERT_EQ(run(small_run(run_dir, {"--epochs", "1", "--no-report"})).exit_code, 0);
  const auto r = run({"eval", "--model", (run_dir / "model.safetensors").string(), "--data", "mnist", "--limit", "40",
                      "--iw", "200", "--json", "--out", (run_dir / "eval.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 40);
  EXPECT_EQ(j["binarize"], "fixed");  // the model was trained on binarized data
  const double elbo = j["elbo"], ll = j["log_likelihood"], se = j["log_likelihood_stderr"];
  EXPECT_TRUE(std::isfinite(elbo) && std::isfinite(ll));
  // L_k >= ELBO in expectation; the same noise draws make the gap large and positive.
  EXPECT_GT(ll, elbo);
  EXPECT_GT(se, 0);
  EXPECT_LE(j["active_units"].get<int>(), 4);
  EXPECT_EQ(nlohmann::json::parse(bytes(run_dir / "eval.json")), j);
  const auto rep = run({"report", "--run", run_dir.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_NE(bytes(run_dir / "report.html").find("importance sampled"), std::string::npos);
  if (!backend::bf16_products_available()) return;
  // bfloat16 products: the same estimate, to well within its standard error.
  const auto b = run({"eval", "--model", (run_dir / "model.safetensors").string(), "--data", "mnist", "--limit", "40",
                      "--iw", "200", "--json", "--matmul-precision", "bfloat16"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const auto jb = nlohmann::json::parse(b.out);
  EXPECT_EQ(jb["matmul_precision"], "bfloat16");
  EXPECT_NEAR(jb["log_likelihood"].get<double>(), ll, 0.1 * se);
}

// A folder of RGB images trains a model of 3-channel images, whose figures
// (the run's report, aevb sample) are RGB PNGs drawing the decoder's planes.
TEST_F(CliTrain, ColourPngFolderTrainsAndDrawsInColour) {
  const fs::path images = dir_ / "rgb_images", run_dir = dir_ / "colour";
  test::write_rgb_folder(images, 30, 8, 8);
  const auto r = run({"train", "--data", images.string(), "--hidden", "16", "--latent", "2", "--batch", "10",
                      "--epochs", "1", "--validation", "5", "--threads", "2", "--out", run_dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path model_path = run_dir / "model.safetensors";
  const ModelConfig recorded = inspect_model(model_path).config;  // as the file's config records it
  EXPECT_EQ(recorded.image_channels, 3u);
  EXPECT_EQ(recorded.image_height, 8u);
  EXPECT_EQ(recorded.image_width, 8u);
  EXPECT_EQ(recorded.input_dim, 192u);
  for (const char* figure : {"samples.png", "reconstructions.png", "manifold.png"})
    EXPECT_EQ(viz::decode_png(bytes(run_dir / figure)).channels, 3) << figure;

  const fs::path out = dir_ / "colour_samples.png";
  const auto s = run({"sample", "--model", model_path.string(), "--count", "4", "--seed", "3", "--out", out.string()});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const viz::Image8 got = viz::decode_png(bytes(out));
  ASSERT_EQ(got.channels, 3);
  ASSERT_EQ(got.width, 2 * 9 + 1);  // 4 samples: 2 x 2 tiles of 8 + 1 padding
  ASSERT_EQ(got.height, 2 * 9 + 1);
  // Tile 3 (row 1, column 1) starts at (10, 10); its pixel (x, y) in channel c is
  // value (c * 8 + y) * 8 + x of prior sample 3, as the library draws it.
  const Vae model = load_model(model_path);
  std::vector<float> x(4 * 192);
  model.sample(3, {x.data(), 4, 192});
  int worst = 0;
  for (int c = 0; c < 3; ++c)
    for (int py = 0; py < 8; ++py)
      for (int px = 0; px < 8; ++px) {
        const int want = viz::to_byte(x[static_cast<std::size_t>(3 * 192 + (c * 8 + py) * 8 + px)]);
        worst = std::max(worst, std::abs(int(got.at(10 + px, 10 + py, c)) - want));
      }
  EXPECT_LE(worst, 1) << "largest difference from the library's samples (1: a value rounding on the other side)";
}

// --grey is a setting of the run: the checkpoint keeps it, so that the report
// and --resume read the data as the model was trained on it; checkpoints
// from before colour support (no "color" setting) read it as grey too.
TEST_F(CliTrain, GreyOptionIsKeptForReportAndResume) {
  const fs::path images = dir_ / "rgb_images", run_dir = dir_ / "grey";
  test::write_rgb_folder(images, 20, 8, 8);
  const auto r = run({"train", "--data", images.string(), "--grey", "--hidden", "8", "--latent", "2", "--batch",
                      "10", "--epochs", "1", "--validation", "0", "--threads", "2", "--no-report", "--out",
                      run_dir.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ModelConfig c = inspect_model(run_dir / "model.safetensors").config;
  EXPECT_EQ(c.image_channels, 1u);
  EXPECT_EQ(c.input_dim, 64u);
  const Checkpoint ck = load_checkpoint(run_dir / "checkpoint.safetensors");
  EXPECT_EQ(ck.loop.extra["settings"]["run"]["color"], "grey");
  const auto rep = run({"report", "--run", run_dir.string()});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(viz::decode_png(bytes(run_dir / "reconstructions.png")).channels, 1);
  const auto resumed = run({"train", "--resume", run_dir.string(), "--epochs", "2", "--no-report"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(metrics(run_dir).size(), 2u);

  // The same checkpoint without the setting, as aevb wrote them before colour images.
  const fs::path checkpoint = run_dir / "checkpoint.safetensors", old = dir_ / "old.safetensors";
  test::rewrite_safetensors(checkpoint, old, [](safetensors::File& f) {
    nlohmann::json state = nlohmann::json::parse(f.metadata.at("aevb_state"));
    ASSERT_EQ(state["loop"]["settings"]["run"].erase("color"), 1u);
    f.metadata["aevb_state"] = state.dump();
  });
  fs::rename(old, checkpoint);
  const auto old_report = run({"report", "--run", run_dir.string()});
  EXPECT_EQ(old_report.exit_code, 0) << old_report.err;
}

TEST_F(CliTrain, BadInputIsOneLineAndExitCodeTwo) {
  const fs::path out = dir_ / "bad";
  const std::vector<std::vector<std::string>> cases = {
      {"train", "--data", "mnist", "--hidden", "abc", "--out", out.string()},
      {"train", "--data", "nonexistent-set", "--out", out.string()},
      {"train", "--data", "mnist", "--estimator", "C", "--out", out.string()},
      {"train", "--data", "mnist", "--matmul-precision", "fp8", "--out", out.string()},
      {"train", "--data", "mnist", "--estimator", "iw", "--beta", "0.5", "--out", out.string()},
      {"train", "--preset", "paper-cifar", "--out", out.string()},
      {"train", "--config", (dir_ / "missing.toml").string(), "--out", out.string()},
      {"train", "--data", "mnist", "--epochs", "0", "--limit", "100", "--out", out.string()},
      {"train", "--resume", (dir_ / "no-run").string()},
      {"eval", "--model", (dir_ / "missing.safetensors").string(), "--data", "mnist"},
  };
  for (const auto& args : cases) {
    const auto r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args[1] << " " << args[2] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("aevb: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
}

TEST_F(CliTrain, RefusesToOverwriteARunWithoutBeingAsked) {
  const fs::path run_dir = dir_ / "twice";
  ASSERT_EQ(run(small_run(run_dir, {"--epochs", "1", "--no-report"})).exit_code, 0);
  const auto again = run(small_run(run_dir, {"--epochs", "1", "--no-report"}));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("--resume"), std::string::npos);
  EXPECT_EQ(run(small_run(run_dir, {"--epochs", "1", "--no-report", "--overwrite"})).exit_code, 0);
}

}  // namespace
}  // namespace aevb
