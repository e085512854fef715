// The App. D estimator (src/eval/hmc_likelihood.hpp): against log p(x) in
// closed form on the linear-Gaussian VAE (support/linear_gaussian.hpp),
// against importance sampling on a small MNIST VAE, its proposal densities
// against their definitions, its determinism across thread counts, and its
// refusals.
#include "eval/hmc_likelihood.hpp"
#include "io/model_file.hpp"
#include "prob/fitted_density.hpp"
#include "support/cli_runner.hpp"
#include "support/linear_gaussian.hpp"
#include "support/mnist_model.hpp"
#include "support/statistics.hpp"
#include "support/scratch.hpp"
#include "train/epoch_runner.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <filesystem>
#include <vector>

namespace aevb {
namespace {

using namespace test::linear_gaussian;

using test::Moments;
using test::moments;

// The estimate of the mean log p(x) over 200 datapoints, at the paper's
// settings. Two tolerances: the estimator's own standard error (over
// datapoints), and, sharper, the standard error of the errors themselves,
// known here because every datapoint's log p(x) is: the mean error must be
// within 3 of those of zero (no bias above ~0.15 nats).
TEST(HmcLikelihood, MatchesTheExactLogLikelihood) {
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  const HmcLikelihood r = hmc_log_likelihood(vae, {x.data(), kRows, kD}, HmcLikelihoodOptions{});
  ASSERT_EQ(r.log_likelihoods.size(), kRows);
  EXPECT_NEAR(r.mean, exact.mean, 2 * r.stderr_);
  EXPECT_NEAR(r.stderr_, exact.stderr_, 0.2 * exact.stderr_) << "the spread over datapoints, plus a little noise";
  std::vector<double> error(kRows);
  for (std::size_t i = 0; i < kRows; ++i) error[i] = r.log_likelihoods[i] - exact.log_px[i];
  const Moments e = moments(error);
  EXPECT_NEAR(e.mean, 0.0, 3 * e.stderr_) << "mean error " << e.mean << " +- " << e.stderr_;
  // Step sizes adapted toward 0.65 and frozen: the recorded acceptance is near it.
  EXPECT_GT(r.acceptance, 0.5);
  EXPECT_LT(r.acceptance, 0.95);
}

// The same chains whatever the thread count: 600 datapoints (two chunks of
// chains) of a random MLP VAE, whose GEMMs the pool splits into tiles.
TEST(HmcLikelihood, IsTheSameOnOneAndTwoThreads) {
  ModelConfig c;
  c.input_dim = 784;
  c.hidden = {100};
  c.latent = 3;
  const Vae vae(c, 3);
  std::vector<float> x(600 * 784);
  fill_uniform(x.data(), x.size(), 4, 0);
  for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
  HmcLikelihoodOptions options;
  options.burn_in = 20;
  options.samples = 10;
  options.start_draws = 50;
  set_threads(1);
  const HmcLikelihood one = hmc_log_likelihood(vae, {x.data(), 600, 784}, options);
  set_threads(2);
  const HmcLikelihood two = hmc_log_likelihood(vae, {x.data(), 600, 784}, options);
  set_threads(0);
  EXPECT_EQ(one.log_likelihoods, two.log_likelihoods);
  EXPECT_EQ(one.variances, two.variances);
  options.seed = 2;
  EXPECT_NE(hmc_log_likelihood(vae, {x.data(), 600, 784}, options).log_likelihoods, one.log_likelihoods)
      << "the seed reaches the chains";
}

// A briefly trained Nz = 3 MNIST VAE (the paper's Fig. 3 size: 100 hidden
// units; 5 epochs on 20000 images, which keeps the test within ctest's
// timeout under the sanitizers): the App. D estimate and importance sampling (k = 5000) agree
// within twice the standard error of their difference (each over 300 test
// images, unpaired, as two reported numbers are compared). Paired on the
// same images the difference is far more precise (about 0.07 nats), and not
// zero: against 3-D quadrature on 100 test images of such a model, App. D
// was +0.30 +- 0.08 nats high and IS -0.38 +- 0.16 low (docs/paper.md). So
// the paired difference must stay within 1.5 nats of 0, which these known
// biases and its noise fill by about half; a missing log n_e (3.2 nats)
// does not. (Chains left in minor modes by a start at one prior draw did not
// occur on this model; on the one in docs/paper.md they cost 5 nats.)
TEST(HmcLikelihood, AgreesWithImportanceSamplingOnMnist) {
  const std::vector<std::filesystem::path> extra = {std::filesystem::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data"};
  Dataset train, test;
  try {
    train = first_rows(resolve_dataset("mnist", Split::train, extra), 20000);
    test = first_rows(resolve_dataset("mnist", Split::test, extra), 300);
  } catch (const InputError& e) {
    GTEST_SKIP() << "no MNIST here: " << e.what();
  }
  set_threads(2);
  const Vae vae = test::train_small_mnist_vae(train, 100, 3);
  const std::vector<float> x = gather_all(test, Binarize::fixed, 1, 0);
  const HmcLikelihood hmc = hmc_log_likelihood(vae, {x.data(), test.count, 784}, HmcLikelihoodOptions{});
  const std::vector<double> is = vae.log_likelihood({x.data(), test.count, 784}, 5000, 1);
  const Moments m = moments(is);
  set_threads(0);
  EXPECT_NEAR(hmc.mean, m.mean, 2 * std::hypot(hmc.stderr_, m.stderr_));
  std::vector<double> difference(test.count);
  for (std::size_t i = 0; i < test.count; ++i) difference[i] = hmc.log_likelihoods[i] - is[i];
  const Moments d = moments(difference);
  std::printf("App. D %.3f +- %.3f, IS %.3f +- %.3f, paired difference %.3f +- %.3f nats\n", hmc.mean, hmc.stderr_,
              m.mean, m.stderr_, d.mean, d.stderr_);
  EXPECT_LT(std::abs(d.mean), 1.5);
}

// ---- The proposal q(z) of step 2.

// The KDE against its definition written out for d = 2 with the explicit
// inverse and determinant of the 2 x 2 kernel covariance f^2 C.
TEST(FittedDensity, KdeIsTheMeanOfGaussiansWithTheScaledSampleCovariance) {
  const std::vector<double> z = {0.1, 0.3, -0.4, 0.2, 0.7, -0.1, 0.2, 0.9, -0.3, -0.6};  // 5 samples
  const double f = 0.7;
  GaussianKde kde;
  ASSERT_TRUE(kde.fit(z.data(), 5, 2, f));
  double m0 = 0, m1 = 0;
  for (int i = 0; i < 5; ++i) m0 += z[2 * i] / 5, m1 += z[2 * i + 1] / 5;
  double c00 = 0, c01 = 0, c11 = 0;
  for (int i = 0; i < 5; ++i) {
    c00 += (z[2 * i] - m0) * (z[2 * i] - m0) / 4 * f * f;
    c01 += (z[2 * i] - m0) * (z[2 * i + 1] - m1) / 4 * f * f;
    c11 += (z[2 * i + 1] - m1) * (z[2 * i + 1] - m1) / 4 * f * f;
  }
  const double det = c00 * c11 - c01 * c01;
  const std::vector<double> y = {0.0, 0.0, 1.5, -2.0, 0.7, -0.1};
  std::vector<double> got(3);
  kde.log_density(y.data(), 3, got.data());
  for (int k = 0; k < 3; ++k) {
    double sum = 0;
    for (int i = 0; i < 5; ++i) {
      const double a = y[2 * k] - z[2 * i], b = y[2 * k + 1] - z[2 * i + 1];
      sum += std::exp(-0.5 * (c11 * a * a - 2 * c01 * a * b + c00 * b * b) / det) / (2 * M_PI * std::sqrt(det)) / 5;
    }
    EXPECT_NEAR(got[k], std::log(sum), 1e-12) << "point " << k;
  }
  const std::vector<double> on_a_line = {0, 0, 1, 1, 2, 2};
  EXPECT_FALSE(kde.fit(on_a_line.data(), 3, 2, f)) << "a singular covariance is refused";
}

TEST(FittedDensity, DiagonalGaussianReplacesAZeroSpreadByTheSmallestOther) {
  // Coordinate 1 never moved: its sd becomes coordinate 0's (0.5, denominator n).
  const std::vector<double> z = {1.0, 2.0, 0.0, 2.0};
  DiagonalGaussian q;
  q.fit(z.data(), 2, 2);
  const std::vector<double> y = {0.5, 2.5};
  double got = 0;
  q.log_density(y.data(), 1, &got);
  EXPECT_NEAR(got, 2 * (-0.5 * std::log(2 * M_PI) - std::log(0.5)) - 0.5 * (0.0 + 1.0), 1e-12);
}

// Step 3 on hand-made samples, d = 1 (the diagonal Gaussian of the first
// half): log p^ = -logmeanexp(log q - log p(x, z)) over the second half and
// the log-normal variance s^2/n_e + s^4/(n_e - 1), computed here by hand.
TEST(AppDEstimate, IsTheHarmonicMeanOverTheSecondHalf) {
  const std::vector<double> z = {0.2, -0.1, 0.4, 0.0, 0.3, 0.1, -0.2, 0.25};  // n = 8: halves of 4
  const std::vector<double> log_joint = {-9, -9, -9, -9, -10.0, -10.5, -9.5, -10.2};
  const PointEstimate e = app_d_estimate(z.data(), log_joint.data(), 8, 1);
  double mean = 0, sd = 0;
  for (int i = 0; i < 4; ++i) mean += z[i] / 4;
  for (int i = 0; i < 4; ++i) sd += (z[i] - mean) * (z[i] - mean) / 4;
  sd = std::sqrt(sd);
  std::vector<double> log_pi(4);
  double ratio_sum = 0, m = 0, s2 = 0;
  for (int l = 0; l < 4; ++l) {
    const double u = (z[4 + l] - mean) / sd;
    log_pi[l] = -0.5 * std::log(2 * M_PI) - std::log(sd) - 0.5 * u * u - log_joint[4 + l];
    ratio_sum += std::exp(log_pi[l]);
    m += log_pi[l] / 4;
  }
  for (double v : log_pi) s2 += (v - m) * (v - m) / 4;
  EXPECT_NEAR(e.log_likelihood, -std::log(ratio_sum / 4), 1e-12);
  EXPECT_NEAR(e.variance, s2 / 4 + s2 * s2 / 3, 1e-12);
}

// aevb eval --hmc on the linear-Gaussian model: the App. D keys beside the
// importance-sampling ones (which keep their values: with the exact
// posterior as q, L_k is log p(x)), and the estimate within two of its
// standard errors of the exact mean.
TEST(HmcLikelihood, AevbEvalHmcReportsBesideImportanceSampling) {
  const std::string cli = test::cli_path();
  if (cli.empty()) GTEST_SKIP() << "no CLI in this build";
  const test::TempDir dir;
  save_model(dir.path / "linear.safetensors", linear_gaussian_vae(1.0));
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  const std::array<std::size_t, 2> shape{kRows, kD};
  dir.write("x.npy", npy_bytes(x, shape));
  const auto r = test::run_cli(cli,
                               {"eval", "--model", (dir.path / "linear.safetensors").string(), "--data",
                                (dir.path / "x.npy").string(), "--scaling", "none", "--iw", "100", "--hmc",
                                "--hmc-samples", "40", "--hmc-burn-in", "60", "--json"},
                               dir.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "") << "no warning at 2 latent dimensions";
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"elbo", "log_likelihood", "log_likelihood_stderr", "active_units", "seconds"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_NEAR(j["log_likelihood"].get<double>(), exact.mean, 2e-4);
  const double hmc = j["log_likelihood_hmc"].get<double>(), stderr_ = j["log_likelihood_hmc_stderr"].get<double>();
  EXPECT_NEAR(hmc, exact.mean, 2 * stderr_);
  EXPECT_NEAR(stderr_, j["log_likelihood_stderr"].get<double>(), 0.2 * stderr_) << "both over the same datapoints";
  EXPECT_EQ(j["hmc_samples"], 40);
  EXPECT_EQ(j["hmc_leapfrog_steps"], 4);
  EXPECT_EQ(j["hmc_burn_in"], 60);
  EXPECT_GT(j["hmc_acceptance"].get<double>(), 0.5);
}

// Above 5 latent dimensions the paper found the estimator unreliable (sec.
// 5): aevb eval --hmc still runs, and says so on stderr.
TEST(HmcLikelihood, AevbEvalHmcWarnsAboveFiveLatentDimensions) {
  const std::string cli = test::cli_path();
  if (cli.empty()) GTEST_SKIP() << "no CLI in this build";
  const test::TempDir dir;
  ModelConfig c;
  c.input_dim = 6;
  c.hidden = {8};
  c.latent = 6;
  c.likelihood = Likelihood::gaussian_fixed;
  save_model(dir.path / "six.safetensors", Vae(c, 2));
  const std::vector<float> x(20 * 6, 0.25f);
  const std::array<std::size_t, 2> shape{20, 6};
  dir.write("x.npy", npy_bytes(x, shape));
  const auto r = test::run_cli(cli,
                               {"eval", "--model", (dir.path / "six.safetensors").string(), "--data",
                                (dir.path / "x.npy").string(), "--scaling", "none", "--iw", "0", "--hmc", "--json"},
                               dir.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "aevb: warning: --hmc with 6 latent dimensions: the paper found the estimator unreliable above 5 "
                   "latent dimensions\n");
  EXPECT_TRUE(std::isfinite(nlohmann::json::parse(r.out)["log_likelihood_hmc"].get<double>()));
}

TEST(HmcLikelihood, RefusesWhatItCannotServe) {
  ModelConfig c;
  c.family = "autoencoder";
  c.input_dim = 6;
  c.hidden = {4};
  c.latent = 2;
  const Vae autoencoder(c, 1);
  std::vector<float> x(6, 0.5f);
  EXPECT_ERROR_CONTAINS(hmc_log_likelihood(autoencoder, {x.data(), 1, 6}, {}),
                        "the App. D estimator needs a prior p(z); the autoencoder family has none");
  const Vae vae = linear_gaussian_vae(1.0);
  HmcLikelihoodOptions few;
  few.samples = 3;
  EXPECT_ERROR_CONTAINS(hmc_log_likelihood(vae, {x.data(), 1, 6}, few), "at least 4 samples per datapoint, found 3");
  EXPECT_ERROR_CONTAINS(hmc_log_likelihood(vae, {x.data(), 2, 3}, {}), "data has 3 values per datapoint, the model expects 6");
}

}  // namespace
}  // namespace aevb
