// VQ-VAE end to end through the CLI: the vq-mnist preset trained briefly on
// real MNIST, aevb train-prior on its codes, aevb eval's codebook measures
// (checked against each other and against a trivial decoder, the mean
// image), sampling from the code prior, and the bad inputs of the family
// and its commands, one error line each.
#include "support/cli_runner.hpp"

#include <aevb/data.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kTestImages = 2000, kPositions = 49, kCodes = 256;

// The models the tests read, trained once per suite into a fresh folder: a
// vq-mnist model, a second one of another seed, a code prior for the first
// and a plain VAE. The suite of the measured tests trains the first for 150
// steps (3 epochs of 6400 images) and its prior on 4000 grids; the
// bad-input suite needs only that the files exist, so it trains each for a
// step or two.
struct Budget {
  const char *vq_images, *vq_epochs, *prior_grids, *prior_epochs, *prior_channels;
};
constexpr Budget kMeasured{"6400", "3", "4000", "3", "32"}, kFilesOnly{"256", "1", "200", "1", "8"};

class CliVqFiles : public ::testing::Test {
 protected:
  static inline fs::path dir;

  static std::string path(const std::string& name) { return (dir / name).string(); }
  static test::CliResult run(const std::vector<std::string>& args) {
    return test::run_cli(test::cli_path(), args, dir, {{"AEVB_DATA_DIR", AEVB_SOURCE_DIR "/../shared/data"}});
  }
  static nlohmann::json eval_json(const std::string& model, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"eval", "--model", model, "--data", "mnist", "--limit",
                                     std::to_string(kTestImages), "--json", "--threads", "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    const test::CliResult r = run(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }

  static void train_models(const Budget& b) {
    if (test::cli_path().empty()) return;
    dir = fs::temp_directory_path() / ("aevb_cli_vq_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const auto must = [](const test::CliResult& r) { ASSERT_EQ(r.exit_code, 0) << r.err; };
    must(run({"train", "--preset", "vq-mnist", "--limit", b.vq_images, "--epochs", b.vq_epochs, "--validation", "0",
              "--test-eval", "1000", "--no-report", "--threads", "2", "--out", path("vq")}));
    must(run({"train", "--preset", "vq-mnist", "--limit", "500", "--epochs", "1", "--validation", "0", "--test-eval",
              "0", "--no-report", "--threads", "2", "--seed", "2", "--out", path("vq_other")}));
    must(run({"train-prior", "--model", path("vq/model.safetensors"), "--data", "mnist", "--limit", b.prior_grids,
              "--epochs", b.prior_epochs, "--channels", b.prior_channels, "--threads", "2"}));
    must(run({"train", "--data", "mnist", "--limit", "200", "--hidden", "16", "--latent", "2", "--epochs", "1",
              "--validation", "0", "--test-eval", "0", "--no-report", "--threads", "2", "--out", path("vae")}));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
  void SetUp() override {
    if (test::cli_path().empty()) GTEST_SKIP() << "this build has no aevb CLI";
  }
};

class CliVq : public CliVqFiles {
 protected:
  static void SetUpTestSuite() { train_models(kMeasured); }
};

class CliVqErrors : public CliVqFiles {
 protected:
  static void SetUpTestSuite() { train_models(kFilesOnly); }
};


// The mean image's squared error on the same test images: what a decoder that ignores z achieves.
double mean_image_mse() {
  const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
  const Dataset d = first_rows(resolve_dataset("mnist", Split::test, {&data_dir, 1}), kTestImages);
  std::vector<double> mean(d.dim, 0.0);
  for (std::size_t i = 0; i < d.count; ++i)
    for (std::size_t p = 0; p < d.dim; ++p) mean[p] += double(d.value(i, p)) / double(d.count);
  double sq = 0;
  for (std::size_t i = 0; i < d.count; ++i)
    for (std::size_t p = 0; p < d.dim; ++p) sq += std::pow(double(d.value(i, p)) - mean[p], 2);
  return sq / double(d.count * d.dim);
}

TEST_F(CliVq, PresetTrainsBrieflyToManyCodesAndAReconstructionFarBelowTheMeanImages) {
  const nlohmann::json j = eval_json(path("vq/model.safetensors"));
  const double trivial = mean_image_mse();
  EXPECT_LT(j["mse"].get<double>(), 0.3 * trivial) << "mean image's MSE " << trivial;
  EXPECT_GE(j["codes_used"].get<std::size_t>(), kCodes / 2);
  EXPECT_GT(j["perplexity"].get<double>(), 0.25 * double(kCodes));
  EXPECT_LE(j["perplexity"].get<double>(), j["codes_used"].get<double>() * (1 + 1e-12));

  // The measures agree with each other.
  const std::vector<std::uint64_t> usage = j["code_usage"];
  ASSERT_EQ(usage.size(), kCodes);
  EXPECT_EQ(std::accumulate(usage.begin(), usage.end(), std::uint64_t{0}), kTestImages * kPositions);
  EXPECT_EQ(std::size_t(std::count_if(usage.begin(), usage.end(), [](std::uint64_t u) { return u > 0; })),
            j["codes_used"].get<std::size_t>());
  const double p_log_k = double(kPositions) * std::log(double(kCodes));
  EXPECT_NEAR(j["kl"].get<double>(), p_log_k, 1e-4) << "P log K, in float";
  EXPECT_NEAR(j["bits_per_dim"].get<double>(),
              -(j["reconstruction"].get<double>() - p_log_k) / (784 * std::numbers::ln2), 1e-9);
  EXPECT_NEAR(j["mse_normalized"].get<double>(), j["mse"].get<double>() / j["data_variance"].get<double>(), 1e-12);
  EXPECT_NEAR(j["commitment_loss"].get<double>(), 0.25 * j["codebook_loss"].get<double>(), 1e-9);
  EXPECT_FALSE(j.contains("log_likelihood")) << "a point-mass q(z|x) has L_k = the bound: no importance sampling";
  EXPECT_FALSE(eval_json(path("vq_other/model.safetensors")).contains("bits_per_dim_prior"))
      << "a model without a prior beside it has only the uniform prior's bits per dimension";

  // The training log has the held-out codebook measures of every epoch.
  std::ifstream metrics(dir / "vq" / "metrics.jsonl");
  std::size_t epochs = 0;
  for (std::string line; std::getline(metrics, line); ++epochs) {
    const nlohmann::json m = nlohmann::json::parse(line);
    for (const char* key : {"test_mse", "test_perplexity", "test_codes_used", "test_codebook_loss"})
      EXPECT_TRUE(m.contains(key)) << key << " missing from " << line;
  }
  EXPECT_EQ(epochs, 3u);
}

TEST_F(CliVq, CodePriorBeatsTheUniformPriorAndSamplesDecodeItsCodes) {
  const nlohmann::json j = eval_json(path("vq/model.safetensors"));  // the prior beside the model
  ASSERT_TRUE(j.contains("prior_nats_per_position")) << j.dump();
  EXPECT_LT(j["prior_nats_per_position"].get<double>(), std::log(double(kCodes)) - 1.0);
  EXPECT_LT(j["bits_per_dim_prior"].get<double>(), j["bits_per_dim"].get<double>());
  const double from_prior = -(j["reconstruction"].get<double>() -
                              double(kPositions) * j["prior_nats_per_position"].get<double>()) /
                            (784 * std::numbers::ln2);
  EXPECT_NEAR(j["bits_per_dim_prior"].get<double>(), from_prior, 1e-9);

  const test::CliResult r = run({"sample", "--model", path("vq/model.safetensors"), "--count", "16", "--out",
                                 path("samples.png"), "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("from the code prior"), std::string::npos) << r.out;
  EXPECT_GT(fs::file_size(dir / "samples.png"), 100u);
  const test::CliResult again = run({"sample", "--model", path("vq/model.safetensors"), "--count", "16", "--out",
                                     path("samples_again.png"), "--threads", "1"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(test::read_text_file(dir / "samples.png"), test::read_text_file(dir / "samples_again.png"))
      << "the same seed gave other samples on another thread count";
}

TEST_F(CliVqErrors, BadInputGetsOneErrorLineAndExitCode2) {
  const std::vector<std::string> vq = {"train", "--preset", "vq-mnist", "--limit", "200", "--epochs", "1",
                                       "--no-report", "--out", path("never")};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = vq;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };
  struct Row {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Row> rows = {
      {with({"--codes", "0"}), "at least 1 code (--codes K), found 0"},
      {with({"--latent", "100"}), "codes of 16 values do not fit a latent grid of 100 values"},
      {with({"--latent", "160"}), "7x7 grid make a latent of 784 values, latent is 160"},
      {with({"--estimator", "iw"}), "use --estimator B"},
      {with({"--codebook", "kmeans"}), "expected one of ema, gradient, found 'kmeans'"},
      {with({"--codebook-decay", "1"}), "decay must be in (0, 1)"},
      {{"train", "--data", "mnist", "--limit", "200", "--codes", "16", "--epochs", "1", "--out", path("never")},
       "codebook describes a discrete latent; the vae family has none"},
      {{"train-prior", "--model", path("vae/model.safetensors"), "--data", "mnist", "--limit", "100"},
       "which has no codebook (train one with --family vq)"},
      {{"train-prior", "--model", path("vq/model.safetensors"), "--data", "mnist", "--limit", "100", "--validation",
        "100"},
       "--validation 100: expected fewer than the 100 datapoints"},
      {{"sample", "--model", path("vae/model.safetensors"), "--prior", path("vq/prior.safetensors"), "--out",
        path("never.png")},
       "--prior is a code prior"},
      {{"eval", "--model", path("vq_other/model.safetensors"), "--data", "mnist", "--limit", "10", "--prior",
        path("vq/prior.safetensors")},
       "the prior was trained on the codes of another model"},
      {{"sample", "--model", path("vq/model.safetensors"), "--prior", path("vq/model.safetensors"), "--out",
        path("never.png")},
       "vq/model.safetensors"},
  };
  for (const Row& row : rows) {
    const test::CliResult r = run(row.args);
    std::string line;
    for (const std::string& a : row.args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("aevb: error: ", 0), 0u) << line << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << line << "\n" << r.err;
    EXPECT_NE(r.err.find(row.expected), std::string::npos) << line << "\nexpected: " << row.expected << "\n" << r.err;
  }
  EXPECT_FALSE(fs::exists(dir / "never")) << "a refused training left a run behind";
  EXPECT_FALSE(fs::exists(dir / "never.png"));
}

}  // namespace
}  // namespace aevb
