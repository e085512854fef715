// End-to-end: the training algorithms beside AEVB (--algorithm wake-sleep,
// rws, full-vb, mcem) on real MNIST: resumable like AEVB, and wake-sleep
// behind AEVB at the same budget, as the paper's Fig. 2 finds, by a paired
// per-image comparison.
#include "support/cli_run_fixture.hpp"

#include "io/model_file.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class CliAlgorithms : public test::CliRunTest {
 protected:
  // Each test image's log p(x), from `aevb eval --per-datapoint`.
  std::vector<double> per_image_log_px(const fs::path& run) {
    const fs::path csv = run / "log_px.csv";
    const auto r = this->run({"eval", "--model", (run / "model.safetensors").string(), "--data", "mnist", "--split",
                              "test", "--limit", "1000", "--iw", "100", "--per-datapoint", csv.string(), "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(csv);
    std::vector<double> values;
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) values.push_back(std::stod(line.substr(line.find(',') + 1)));
    return values;
  }
};

TEST_F(CliAlgorithms, WakeSleepRwsAndFullVbResumeExactly) {
  for (const char* algorithm : {"wake-sleep", "rws", "full-vb"}) {
    SCOPED_TRACE(algorithm);
    const fs::path whole = dir_ / (std::string(algorithm) + "_whole"), parts = dir_ / (std::string(algorithm) + "_parts");
    std::vector<std::string> extra = {"--algorithm", algorithm, "--samples", "2", "--no-report"};
    if (std::string(algorithm) == "full-vb") extra.push_back("--full-vb");
    auto with = [&](std::vector<std::string> args, const char* epochs) {
      args.insert(args.end(), extra.begin(), extra.end());
      args.insert(args.end(), {"--epochs", epochs});
      return args;
    };
    ASSERT_EQ(run(with(small_run(whole), "2")).exit_code, 0);
    ASSERT_EQ(run(with(small_run(parts), "1")).exit_code, 0);
    const auto r = run({"train", "--resume", parts.string(), "--epochs", "2", "--no-report", "--threads", "1"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
    const auto m = metrics(parts);
    ASSERT_EQ(m.size(), 2u);
    EXPECT_GT(m[1]["test_bound"].get<double>(), -784 * std::log(2.0)) << "the ordinary bound, per datapoint";
  }
}

// A full-VB model's file holds log sigma beside each decoder tensor, and
// `aevb eval` averages its estimates over --weight-samples decoders.
TEST_F(CliAlgorithms, FullVbModelsKeepTheirScalesAndEvaluateOverThetaDraws) {
  const fs::path out = dir_ / "full_vb";
  ASSERT_EQ(run(small_run(out, {"--full-vb", "--epochs", "1", "--no-report"})).exit_code, 0);
  const Vae model = load_model(out / "model.safetensors");
  ASSERT_TRUE(model.config().weight_posterior);
  std::size_t scales = 0;
  for (const ParameterInfo& p : model.parameter_table()) scales += p.name.ends_with("_log_sigma");
  EXPECT_EQ(scales, 4u) << "decoder.0 and decoder.logits, weight and bias each";
  auto eval = [&](const char* draws) {
    const auto r = run({"eval", "--model", (out / "model.safetensors").string(), "--data", "mnist", "--limit", "50",
                        "--iw", "20", "--weight-samples", draws, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  };
  const auto one = eval("1"), ten = eval("10");
  EXPECT_EQ(ten["weight_samples"], 10);
  EXPECT_NE(one["log_likelihood"].get<double>(), ten["log_likelihood"].get<double>()) << "theta is drawn";
  EXPECT_NEAR(one["log_likelihood"].get<double>(), ten["log_likelihood"].get<double>(),
              4 * ten["log_likelihood_stderr"].get<double>());
}

// Monte Carlo EM on 1000 MNIST images (Fig. 3's small set: 100 hidden units,
// Nz = 3, the paper's Adagrad and prior): its chains live in the checkpoint,
// so a resumed run is the uninterrupted one to the byte; it logs log p(x, z)
// at the chains, not a bound; and after 20 EM iterations the App. D estimate
// of log p(x) is far above the one after 1.
TEST_F(CliAlgorithms, McemResumesExactlyAndItsMarginalLikelihoodRises) {
  auto mcem = [&](const fs::path& out, const char* epochs) {
    return run({"train", "--preset", "paper-mnist", "--hidden", "100", "--latent", "3", "--data", "mnist", "--limit",
                "1000", "--validation", "0", "--test-eval", "0", "--algorithm", "mcem", "--epochs", epochs,
                "--no-report", "--threads", "2", "--out", out.string()});
  };
  const fs::path one = dir_ / "mcem_1", whole = dir_ / "mcem_whole", parts = dir_ / "mcem_parts";
  ASSERT_EQ(mcem(one, "1").exit_code, 0);
  ASSERT_EQ(mcem(whole, "20").exit_code, 0);
  ASSERT_EQ(mcem(parts, "10").exit_code, 0);
  const auto r = run({"train", "--resume", parts.string(), "--epochs", "20", "--no-report", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes(whole / "model.safetensors"), bytes(parts / "model.safetensors"));
  const Vae model = load_model(whole / "model.safetensors");
  EXPECT_TRUE(model.config().decoder_only);
  for (const ParameterInfo& p : model.parameter_table()) EXPECT_TRUE(p.name.starts_with("decoder.")) << p.name;

  const auto m = metrics(whole);
  ASSERT_EQ(m.size(), 20u);
  EXPECT_FALSE(m[0].contains("train_bound")) << "MCEM has no bound to report";
  EXPECT_EQ(m[19]["step"], 100) << "5 decoder updates per EM iteration";
  EXPECT_GT(m[19]["train_log_joint"].get<double>(), m[0]["train_log_joint"].get<double>() + 100);

  auto app_d = [&](const fs::path& run_dir) {
    const auto e = run({"eval", "--model", (run_dir / "model.safetensors").string(), "--data", "mnist", "--split",
                        "train", "--limit", "100", "--hmc", "--json", "--threads", "2"});
    EXPECT_EQ(e.exit_code, 0) << e.err;
    const auto j = nlohmann::json::parse(e.out);
    EXPECT_FALSE(j.contains("elbo")) << "a decoder-only model has no bound";
    return std::pair{j["log_likelihood_hmc"].get<double>(), j["log_likelihood_hmc_stderr"].get<double>()};
  };
  const auto [start, start_se] = app_d(one);
  const auto [trained, trained_se] = app_d(whole);
  EXPECT_GT(trained - start, 4 * std::hypot(start_se, trained_se))
      << "App. D after 1 EM iteration " << start << ", after 20 " << trained;
}

// The paper's MNIST setup (500 tanh units, Adagrad, N(0, 0.01) init) with
// Nz = 3, one epoch each: AEVB's test log p(x) above wake-sleep's on the same
// 1000 images, by more than 4 standard errors of the paired difference.
TEST_F(CliAlgorithms, AevbIsAheadOfWakeSleepAtTheSameBudget) {
  std::vector<std::vector<double>> log_px;
  for (const char* algorithm : {"aevb", "wake-sleep"}) {
    const fs::path out = dir_ / algorithm;
    const auto r = run({"train", "--preset", "paper-mnist", "--latent", "3", "--epochs", "1", "--algorithm", algorithm,
                        "--validation", "0", "--test-eval", "0", "--no-report", "--threads", "2", "--out",
                        out.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    log_px.push_back(per_image_log_px(out));
    ASSERT_EQ(log_px.back().size(), 1000u);
  }
  double mean = 0, sq = 0;
  const double n = double(log_px[0].size());
  for (std::size_t i = 0; i < log_px[0].size(); ++i) mean += (log_px[0][i] - log_px[1][i]) / n;
  for (std::size_t i = 0; i < log_px[0].size(); ++i) {
    const double d = log_px[0][i] - log_px[1][i] - mean;
    sq += d * d;
  }
  const double stderr_of_mean = std::sqrt(sq / (n - 1) / n);
  EXPECT_GT(mean, 4 * stderr_of_mean) << "AEVB - wake-sleep = " << mean << " +- " << stderr_of_mean << " nats";
}

}  // namespace
}  // namespace aevb
