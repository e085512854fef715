// log p(x) and the ELBO that users read, against values computed here in
// closed form, not against other aevb numbers. The model is linear-Gaussian
// (support/linear_gaussian.hpp): its encoder can be the exact posterior, and
// then every importance weight equals p(x) and L_k is log p(x) for every k.
// With q wider than the posterior, L_k converges to log p(x) at a rate known
// in closed form.
#include "eval/evaluation.hpp"
#include "io/model_file.hpp"
#include "support/cli_runner.hpp"
#include "support/linear_gaussian.hpp"
#include "support/scratch.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace aevb {
namespace {

using namespace test::linear_gaussian;

// The ELBO of estimator B in closed form for this model (App. B for the KL):
//   E_q log p(x|z) = -D/2 log(2 pi c) - (|x - b - W mu|^2 + sum_j sigma_j^2 |W_j|^2) / (2c),
// and the variance of its one-sample estimate, for a tolerance in standard errors.
struct ElboMoments {
  double mean = 0, variance_of_one_sample = 0;
};
ElboMoments exact_elbo(const Vae& vae, const float* x) {
  std::vector<float> mu(kNz), logvar(kNz);
  vae.encode({x, 1, kD}, {mu.data(), 1, kNz}, {logvar.data(), 1, kNz});
  std::array<double, kD> r0{};
  for (std::size_t i = 0; i < kD; ++i) r0[i] = double(x[i]) - kBias[i] - w(i, 0) * mu[0] - w(i, 1) * mu[1];
  double sq = 0, spread = 0, kl = 0, btr = 0, tr_btb2 = 0;
  for (double v : r0) sq += v * v;
  for (std::size_t j = 0; j < kNz; ++j) {
    const double var = std::exp(double(logvar[j]));
    spread += var * kScale[j] * kScale[j];
    kl += 0.5 * (var + double(mu[j]) * mu[j] - 1 - double(logvar[j]));
    // log p(x|z) = const - |r0 - B eps|^2 / (2c), B = W diag(sigma), B^T B diagonal:
    // Var = (4 |B^T r0|^2 + 2 tr((B^T B)^2)) / (2c)^2.
    double bj = 0;
    for (std::size_t i = 0; i < kD; ++i) bj += w(i, j) * std::sqrt(var) * r0[i];
    btr += bj * bj;
    tr_btb2 += (var * kScale[j] * kScale[j]) * (var * kScale[j] * kScale[j]);
  }
  const double recon = -0.5 * double(kD) * (kLog2Pi + std::log(kC)) - (sq + spread) / (2 * kC);
  return {recon - kl, (4 * btr + 2 * tr_btb2) / (4 * kC * kC)};
}

// The mean ELBO over the rows of x and the standard error of its estimate
// with `samples` draws per datapoint.
struct MeanElbo {
  double mean = 0, stderr_ = 0;
};
MeanElbo exact_mean_elbo(const Vae& vae, const std::vector<float>& x, std::size_t samples) {
  double mean = 0, var = 0;
  for (std::size_t m = 0; m < kRows; ++m) {
    const ElboMoments e = exact_elbo(vae, x.data() + m * kD);
    mean += e.mean / double(kRows);
    var += e.variance_of_one_sample / double(samples) / double(kRows * kRows);
  }
  return {mean, std::sqrt(var)};
}

TEST(ExactLikelihood, EveryKGivesLogPxWhenQIsThePosterior) {
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  for (std::size_t k : {1, 7, 5000}) {
    const std::vector<double> ll = vae.log_likelihood({x.data(), kRows, kD}, k, 3);
    ASSERT_EQ(ll.size(), kRows);
    // The weights are equal, so only float rounding of six squared terms remains.
    for (std::size_t r = 0; r < kRows; ++r) ASSERT_NEAR(ll[r], exact.log_px[r], 2e-4) << "k = " << k << ", row " << r;
  }
}

TEST(ExactLikelihood, EvaluateModelReportsTheMeanItsStandardErrorAndTheElbo) {
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  EvalOptions options;
  // L = 100: Vae::evaluate works in chunks of 8192 / 100 = 81 datapoints, the last one short.
  options.objective = {Estimator::B, 100, 1.0f};
  options.iw_samples = 300;
  const EvalResult r = evaluate_model(vae, {x.data(), kRows, kD}, options);
  EXPECT_EQ(r.count, kRows);
  EXPECT_NEAR(r.log_likelihood, exact.mean, 2e-4);
  EXPECT_NEAR(r.log_likelihood_stderr, exact.stderr_, 1e-4);
  // The ELBO: with q the posterior it equals log p(x) in expectation; its
  // estimate with L = 100 samples lies within 4 standard errors of that.
  const MeanElbo elbo = exact_mean_elbo(vae, x, 100);
  EXPECT_NEAR(elbo.mean, exact.mean, 1e-4) << "the closed-form ELBO of the exact posterior is log p(x)";
  EXPECT_NEAR(r.elbo.bound, elbo.mean, 4 * elbo.stderr_);
  EXPECT_NEAR(r.elbo.bound, r.elbo.reconstruction - r.elbo.kl, 1e-9);
  // Active units (Burda et al.): the variance over datapoints of the
  // posterior mean mu_j = sigma_j^2 s_j u_j . (x - b) / c, per dimension.
  ASSERT_EQ(r.activity.size(), kNz);
  std::size_t active = 0;
  for (std::size_t j = 0; j < kNz; ++j) {
    double sum = 0, sq = 0;
    for (std::size_t m = 0; m < kRows; ++m) {
      double mu = 0;
      for (std::size_t i = 0; i < kD; ++i) mu += posterior_var(j) * w(i, j) / kC * (double(x[m * kD + i]) - kBias[i]);
      sum += mu;
      sq += mu * mu;
    }
    const double variance = sq / double(kRows) - (sum / double(kRows)) * (sum / double(kRows));
    EXPECT_NEAR(r.activity[j], variance, 1e-5 * variance) << "dimension " << j;
    active += variance > options.active_threshold;
  }
  EXPECT_EQ(r.active_units, active);
}

TEST(ExactLikelihood, ElboOfAWrongPosteriorMatchesItsClosedForm) {
  // q 1.5 times wider than the posterior: the ELBO is below log p(x) by
  // KL(q || p(z|x)) = sum_j (r - 1 - ln r) / 2 with r = 1.5.
  const Vae vae = linear_gaussian_vae(1.5);
  const std::vector<float> x = data_from_the_model();
  const MeanElbo elbo = exact_mean_elbo(vae, x, 1);
  EXPECT_NEAR(elbo.mean, exact_log_likelihoods(x).mean - double(kNz) * 0.5 * (0.5 - std::log(1.5)), 1e-4);
  const Bound b = vae.evaluate({x.data(), kRows, kD}, {Estimator::B, 1, 1.0f}, 5);
  EXPECT_NEAR(b.bound, elbo.mean, 4 * elbo.stderr_);
}

TEST(ExactLikelihood, ImportanceSamplingConvergesToLogPxAtTheKnownRate) {
  // With q = N(mu, r Sigma_post), w / p(x) = p(z|x) / q(z) has mean 1 and
  // variance v = (r / sqrt(2r - 1))^Nz - 1 (a Gaussian integral). L_k is the
  // log of a mean of k such ratios: bias about -v / (2k), spread sqrt(v / k).
  const double r = 1.5, v = std::pow(r / std::sqrt(2 * r - 1), double(kNz)) - 1;
  const Vae vae = linear_gaussian_vae(r);
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  // k = 20000 is computed in chunks of 8192 samples per datapoint.
  for (std::size_t k : {10, 5000, 20000}) {
    const std::vector<double> ll = vae.log_likelihood({x.data(), kRows, kD}, k, 11);
    double mean = 0;
    for (double l : ll) mean += l / double(kRows);
    const double bias = -v / (2 * double(k)), stderr_of_mean = std::sqrt(v / double(k) / double(kRows));
    EXPECT_NEAR(mean - exact.mean, bias, 4 * stderr_of_mean + 1e-4) << "k = " << k;
  }
}

TEST(ExactLikelihood, AevbEvalPrintsTheExactValues) {
  const std::string cli = test::cli_path();
  if (cli.empty()) GTEST_SKIP() << "no CLI in this build";
  const test::TempDir dir;
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = data_from_the_model();
  const Exact exact = exact_log_likelihoods(x);
  save_model(dir.path / "linear.safetensors", vae);
  const std::array<std::size_t, 2> shape{kRows, kD};
  dir.write("x.npy", npy_bytes(x, shape));
  const auto r = test::run_cli(cli,
                               {"eval", "--model", (dir.path / "linear.safetensors").string(), "--data",
                                (dir.path / "x.npy").string(), "--scaling", "none", "--iw", "5000", "--json",
                                "--per-datapoint", (dir.path / "ll.csv").string()},
                               dir.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], kRows);
  EXPECT_NEAR(j["log_likelihood"].get<double>(), exact.mean, 2e-4);
  EXPECT_NEAR(j["log_likelihood_stderr"].get<double>(), exact.stderr_, 1e-4);
  // --per-datapoint: each datapoint's own estimate, in order; with the exact
  // posterior every importance weight is p(x), so each line is log p(x).
  std::ifstream csv(dir.path / "ll.csv");
  std::string line;
  ASSERT_TRUE(std::getline(csv, line));
  EXPECT_EQ(line, "index,log_likelihood");
  std::size_t rows = 0;
  while (std::getline(csv, line)) {
    const std::size_t comma = line.find(',');
    ASSERT_NE(comma, std::string::npos) << line;
    EXPECT_EQ(std::stoul(line.substr(0, comma)), rows);
    ASSERT_LT(rows, kRows);
    EXPECT_NEAR(std::stod(line.substr(comma + 1)), exact.log_px[rows], 2e-4) << "datapoint " << rows;
    ++rows;
  }
  EXPECT_EQ(rows, kRows);
  const MeanElbo elbo = exact_mean_elbo(vae, x, 1);
  EXPECT_NEAR(j["elbo"].get<double>(), elbo.mean, 4 * elbo.stderr_);
}

}  // namespace
}  // namespace aevb
