// Inpainting and denoising (src/eval/inpaint.hpp): on the linear-Gaussian
// VAE, where p(z | x_seen) is Gaussian in closed form, the masked chains'
// moments and the completion against it; on a briefly trained MNIST VAE,
// the completion of the bottom half against the unconditional mean image
// (the test); the hidden values never read, the thread count
// without effect, the scores against their definitions, and the refusals.
#include "eval/inpaint.hpp"
#include "model/engine.hpp"
#include "support/float_compare.hpp"
#include "support/linear_gaussian.hpp"
#include "support/mnist_model.hpp"
#include "support/statistics.hpp"
#include "support/scratch.hpp"
#include "train/epoch_runner.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

namespace aevb {
namespace {

using namespace test::linear_gaussian;

using test::Moments;
using test::moments;

// Values 0, 2 and 5 of the linear model's 6 hidden, in every datapoint: the
// seen rows of W are no longer orthogonal, so p(z | x_seen) is correlated,
// unlike p(z|x).
constexpr std::array<bool, kD> kSeen{false, true, false, true, true, false};
std::vector<std::uint8_t> linear_mask() {
  std::vector<std::uint8_t> seen(kRows * kD);
  for (std::size_t v = 0; v < seen.size(); ++v) seen[v] = kSeen[v % kD];
  return seen;
}
// The model's data with every hidden value 3, far out: a target that read
// them would be pulled there. (With the model's own values there, reading
// them goes unseen by these moments: averaged over data from the model,
// (E[z|x] - E[z|x_seen])^2 makes up exactly the variance that p(z|x) lacks.)
std::vector<float> linear_data() {
  std::vector<float> x = data_from_the_model();
  for (std::size_t v = 0; v < x.size(); ++v)
    if (!kSeen[v % kD]) x[v] = 3.0f;
  return x;
}

// p(z | x_seen) for the linear model with noise variance s2 on x:
// precision I + W_S^T W_S / c', mean Sigma W_S^T (x_S - b_S) / c', c' = c + s2.
struct Exact2 {
  std::array<double, 4> cov;  // row-major 2 x 2
  std::vector<double> mean;   // [kRows, 2]
};
Exact2 exact_posterior(const std::vector<float>& x, double s2) {
  const double c = kC + s2;
  double p00 = 1, p01 = 0, p11 = 1;
  for (std::size_t i = 0; i < kD; ++i)
    if (kSeen[i]) p00 += w(i, 0) * w(i, 0) / c, p01 += w(i, 0) * w(i, 1) / c, p11 += w(i, 1) * w(i, 1) / c;
  const double det = p00 * p11 - p01 * p01;
  Exact2 e{{p11 / det, -p01 / det, -p01 / det, p00 / det}, std::vector<double>(kRows * 2)};
  for (std::size_t r = 0; r < kRows; ++r) {
    double a0 = 0, a1 = 0;  // W_S^T (x_S - b_S) / c'
    for (std::size_t i = 0; i < kD; ++i)
      if (kSeen[i]) {
        const double y = (double(x[r * kD + i]) - kBias[i]) / c;
        a0 += w(i, 0) * y, a1 += w(i, 1) * y;
      }
    e.mean[r * 2] = e.cov[0] * a0 + e.cov[1] * a1;
    e.mean[r * 2 + 1] = e.cov[2] * a0 + e.cov[3] * a1;
  }
  return e;
}

class LinearGaussianInpainting : public ::testing::TestWithParam<double> {};

// The chains' states against N(mean_r, Sigma): per datapoint the error of
// the sample mean, and (z - mean_r)(z - mean_r)^T averaged over its states,
// whose expectation is Sigma exactly (the exact mean, not the sample one:
// no 1/n bias). Datapoints are independent, so each mean over the 200 of
// them has a standard error from their spread; every moment must lie within
// 4 of them (10 moments in all). With the mask ignored, the mean of z_0 is
// off by 2.0 (1.5 with noise), far outside.
TEST_P(LinearGaussianInpainting, ChainsSampleTheExactMaskedPosterior) {
  const double s2 = GetParam();
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = linear_data();
  const std::vector<std::uint8_t> seen = linear_mask();
  const Exact2 exact = exact_posterior(x, s2);
  Engine<float> engine(vae.config());
  std::copy(vae.parameters().begin(), vae.parameters().end(), engine.params());
  PosteriorChainOptions options;
  PosteriorChains chains(engine, options, kRows);
  chains.start({x.data(), kRows, kD}, 0, {seen.data(), s2});
  const std::size_t n = 200;
  std::vector<double> sum(kRows * 2, 0.0), outer(kRows * 3, 0.0);  // per datapoint: z sums; (00, 01, 11) products
  for (std::size_t s = 0; s < n; ++s) {
    chains.advance(s);
    for (std::size_t r = 0; r < kRows; ++r) {
      const double d0 = chains.z().row(r)[0] - exact.mean[r * 2], d1 = chains.z().row(r)[1] - exact.mean[r * 2 + 1];
      sum[r * 2] += d0 / double(n), sum[r * 2 + 1] += d1 / double(n);
      outer[r * 3] += d0 * d0 / double(n), outer[r * 3 + 1] += d0 * d1 / double(n), outer[r * 3 + 2] += d1 * d1 / double(n);
    }
  }
  const std::array<double, 3> sigma{exact.cov[0], exact.cov[1], exact.cov[3]};
  for (std::size_t j = 0; j < 2; ++j) {
    std::vector<double> error(kRows);
    for (std::size_t r = 0; r < kRows; ++r) error[r] = sum[r * 2 + j];
    const Moments m = moments(error);
    EXPECT_NEAR(m.mean, 0.0, 4 * m.stderr_) << "mean of z_" << j;
  }
  for (std::size_t k = 0; k < 3; ++k) {
    std::vector<double> products(kRows);
    for (std::size_t r = 0; r < kRows; ++r) products[r] = outer[r * 3 + k];
    const Moments m = moments(products);
    EXPECT_NEAR(m.mean, sigma[k], 4 * m.stderr_) << "covariance entry " << k << " (00, 01, 11)";
  }
  EXPECT_LT(std::abs(sigma[1]), 0.5 * std::sqrt(sigma[0] * sigma[2])) << "sanity: a moderate correlation";
  EXPECT_GT(std::abs(sigma[1]), 0.02) << "the masked posterior is correlated: the check can tell it from p(z|x)";
}

// The completion E[x | x_seen] = W E[z | x_seen] + b, at every value, seen
// or hidden; with noise of variance s2, E[x_clean | x] at a seen value is
// (s2 E[m] + c x) / (c + s2) instead. The mean error over datapoints within
// 4 standard errors of 0; and over datapoints the RMS error under half the
// value's posterior sd (times the model's weight s2 / (c + s2) where seen
// and noisy): 100 states of chains with autocorrelation times up to 25
// reach it. (Ignoring the mask errs by about one sd.) Single datapoints
// are not held to their Monte Carlo error: a chain frozen with a small step
// size mixes slowly (one here errs by 1.1 posterior sds in z after 200
// states at acceptance 0.93).
TEST_P(LinearGaussianInpainting, CompletionIsThePosteriorPredictiveMean) {
  const double s2 = GetParam();
  const Vae vae = linear_gaussian_vae(1.0);
  const std::vector<float> x = linear_data();
  const std::vector<std::uint8_t> seen = linear_mask();
  const Exact2 exact = exact_posterior(x, s2);
  InpaintOptions options;
  options.samples = 100;
  options.kept = 4;
  options.noise_variance = s2;
  const Inpainting got = inpaint(vae, {x.data(), kRows, kD}, seen.data(), options);
  ASSERT_EQ(got.mean.size(), kRows * kD);
  ASSERT_EQ(got.kept.size(), kRows * 4 * kD);
  EXPECT_GT(got.acceptance, 0.5);
  for (std::size_t i = 0; i < kD; ++i) {
    std::vector<double> error(kRows);
    double square = 0;
    for (std::size_t r = 0; r < kRows; ++r) {
      const double m = kBias[i] + w(i, 0) * exact.mean[r * 2] + w(i, 1) * exact.mean[r * 2 + 1];
      const double exact_value = kSeen[i] && s2 > 0 ? (s2 * m + kC * x[r * kD + i]) / (kC + s2) : m;
      error[r] = got.mean[r * kD + i] - exact_value;
      square += error[r] * error[r] / double(kRows);
    }
    const double sd = std::sqrt(w(i, 0) * w(i, 0) * exact.cov[0] + 2 * w(i, 0) * w(i, 1) * exact.cov[1] +
                                w(i, 1) * w(i, 1) * exact.cov[3]);
    const double pull = kSeen[i] && s2 > 0 ? s2 / (kC + s2) : 1.0;
    const Moments m = moments(error);
    const std::string which = "value " + std::to_string(i) + (kSeen[i] ? " (seen)" : " (hidden)");
    EXPECT_NEAR(m.mean, 0.0, 4 * m.stderr_) << which;
    EXPECT_LT(std::sqrt(square), 0.5 * pull * sd) << which;
  }
  // The kept images are single states' E[x|z]: they scatter about the mean by the posterior's spread.
  double spread = 0;
  for (std::size_t r = 0; r < kRows; ++r)
    for (std::size_t i = 0; i < kD; ++i) spread += std::abs(got.kept[(r * 4 + 3) * kD + i] - got.mean[r * kD + i]);
  EXPECT_GT(spread / double(kRows * kD), 0.1);
}

INSTANTIATE_TEST_SUITE_P(NoiseVariance, LinearGaussianInpainting, ::testing::Values(0.0, 0.3),
                         [](const ::testing::TestParamInfo<double>& p) { return p.param == 0 ? "masked" : "masked_noisy"; });

// What the hidden values hold is never read: NaN there gives the same
// completion to the bit. And the chunking and threads do not matter: 600
// datapoints (two chunks) on 1 and 2 threads, first_index shifting the
// chains' keys as a dataset offset would.
TEST(Inpainting, NeverReadsHiddenValuesAndIsTheSameOnAnyThreadCount) {
  ModelConfig c;
  c.input_dim = 64;
  c.hidden = {32};
  c.latent = 3;
  c.image_height = c.image_width = 8;
  const Vae vae(c, 3);
  const std::size_t rows = 600;
  std::vector<float> x(rows * 64);
  fill_uniform(x.data(), x.size(), 4, 0);
  for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
  std::vector<std::uint8_t> seen(rows * 64);
  const ImageMask mask = parse_image_mask("random:0.4", 8, 8);
  for (std::size_t r = 0; r < rows; ++r) mask.fill_seen(1, 1, r, &seen[r * 64]);
  std::vector<float> poisoned = x;
  for (std::size_t v = 0; v < x.size(); ++v)
    if (!seen[v]) poisoned[v] = std::nan("");
  InpaintOptions options;
  options.burn_in = 20;
  options.samples = 10;
  options.start_draws = 50;
  options.kept = 1;
  set_threads(1);
  const Inpainting one = inpaint(vae, {x.data(), rows, 64}, seen.data(), options);
  set_threads(2);
  const Inpainting two = inpaint(vae, {poisoned.data(), rows, 64}, seen.data(), options);
  const Inpainting tail = inpaint(vae, {x.data() + 550 * 64, 50, 64}, seen.data() + 550 * 64, options, 550);
  set_threads(0);
  EXPECT_EQ(one.mean, two.mean);
  EXPECT_EQ(one.kept, two.kept);
  // Another chain's mean differs by about 1e-2; rounding, by less than 1e-7.
  EXPECT_LT(test::largest_difference(std::vector<float>(one.mean.begin() + 550 * 64, one.mean.end()), tail.mean), 1e-5)
      << "datapoint 550's chain is keyed by its index, whatever its batch";
  options.seed = 2;
  EXPECT_NE(inpaint(vae, {x.data(), rows, 64}, seen.data(), options).mean, one.mean) << "the seed reaches the chains";
}

TEST(Inpainting, Refusals) {
  ModelConfig c;
  c.input_dim = 6;
  c.hidden = {4};
  c.latent = 2;
  const Vae bernoulli(c, 1);
  c.family = "autoencoder";
  const Vae autoencoder(c, 1);
  std::vector<float> x(2 * 6, 0.5f);
  InpaintOptions options;
  EXPECT_ERROR_CONTAINS(inpaint(autoencoder, {x.data(), 2, 6}, nullptr, options),
                        "needs a prior p(z); the autoencoder family has none");
  EXPECT_ERROR_CONTAINS(inpaint(bernoulli, {x.data(), 3, 4}, nullptr, options),
                        "the model takes datapoints of 6 values, found 4");
  options.noise_variance = 0.1;
  EXPECT_ERROR_CONTAINS(inpaint(bernoulli, {x.data(), 2, 6}, nullptr, options), "the model's likelihood is Bernoulli");
  options.noise_variance = -1;
  EXPECT_ERROR_CONTAINS(validate(options), "denoising needs a noise variance >= 0, found -1");
  options = {};
  options.kept = 51;
  EXPECT_ERROR_CONTAINS(validate(options), "at most as many single-sample images as it records samples (50), found 51");
  options = {};
  options.samples = 0;
  EXPECT_ERROR_CONTAINS(validate(options), "at least 1 recorded sample");
  options = {};
  options.start_draws = 0;
  EXPECT_ERROR_CONTAINS(validate(options), "inpainting needs at least 1 prior draw to start a chain");
}

// ---- The scores and helpers, against their definitions.

TEST(InpaintingScores, AverageOverTheHiddenValuesOnly) {
  const std::vector<float> truth = {1, 0, 1, 0, /**/ 0, 0, 1, 1};
  const std::vector<float> p = {0.9f, 0.2f, 0.5f, 0.0f, /**/ 0.1f, 0.3f, 0.6f, 1.0f};
  const std::vector<std::uint8_t> seen = {1, 0, 0, 1, /**/ 0, 1, 1, 1};
  const std::vector<double> ll = hidden_log_likelihood({truth.data(), 2, 4}, {p.data(), 2, 4}, seen.data());
  EXPECT_NEAR(ll[0], (std::log(1 - double(0.2f)) + std::log(0.5)) / 2, 1e-7);
  EXPECT_NEAR(ll[1], std::log(1 - double(0.1f)), 1e-7);
  const std::vector<double> se = hidden_squared_error({truth.data(), 2, 4}, {p.data(), 2, 4}, seen.data());
  EXPECT_NEAR(se[0], (0.04 + 0.25) / 2, 1e-7);
  EXPECT_NEAR(se[1], 0.01, 1e-7);
  // Every value without a mask; one prediction row for all; p = 0 and 1 clamped to 1e-6 away.
  const std::vector<double> all = hidden_log_likelihood({truth.data(), 2, 4}, {p.data() + 4, 1, 4}, nullptr);
  EXPECT_NEAR(all[0], (std::log(double(0.1f)) + std::log(0.7) + std::log(0.6) + std::log(1e-6)) / 4, 1e-6);
  EXPECT_NEAR(all[1], (std::log(1 - double(0.1f)) + std::log(0.7) + std::log(0.6) + std::log1p(-1e-6)) / 4, 1e-6);
  EXPECT_EQ(fill_hidden({truth.data(), 2, 4}, {p.data(), 2, 4}, seen.data()),
            (std::vector<float>{1, 0.2f, 0.5f, 0, /**/ 0.1f, 0, 1, 1}));
}

TEST(InpaintingScores, PriorMeanImageIsTheMeanOfPriorSamples) {
  ModelConfig c;
  c.input_dim = 5;
  c.hidden = {4};
  c.latent = 2;
  const Vae vae(c, 2);
  std::vector<float> samples(300 * 5);
  vae.sample(9, {samples.data(), 300, 5});
  const std::vector<float> mean = prior_mean_image(vae, 300, 9);
  for (std::size_t i = 0; i < 5; ++i) {
    double sum = 0;
    for (std::size_t r = 0; r < 300; ++r) sum += samples[r * 5 + i];
    EXPECT_NEAR(mean[i], sum / 300, 1e-6);
  }
}

TEST(InpaintingScores, NoiseIsSeededPerDatapoint) {
  std::vector<float> a(3 * 400, 0.5f), b(2 * 400, 0.5f);
  add_gaussian_noise({a.data(), 3, 400}, 0.2, 7, 0);
  add_gaussian_noise({b.data(), 2, 400}, 0.2, 7, 1);
  EXPECT_EQ(std::vector<float>(a.begin() + 400, a.end()), b) << "datapoints 1 and 2 the same in either batch";
  double sum = 0, square = 0;
  for (float v : a) sum += v - 0.5, square += (v - 0.5) * (v - 0.5);
  EXPECT_NEAR(sum / 1200, 0.0, 4 * 0.2 / std::sqrt(1200.0));
  EXPECT_NEAR(std::sqrt(square / 1200), 0.2, 0.2 * 4 / std::sqrt(2 * 1200.0));
}

// ---- The test: on a model trained on MNIST, completions of the
// hidden bottom half are closer to the truth than the unconditional mean
// image, by the per-pixel log-likelihood of the hidden pixels (exactly
// log p(x_i | x_seen) for the Bernoulli model: see hidden_log_likelihood),
// paired over 100 test images. Also by squared error.
TEST(Inpainting, CompletesTheBottomHalfOfMnistBetterThanTheMeanImage) {
  const std::vector<std::filesystem::path> extra = {std::filesystem::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data"};
  Dataset train, test;
  try {
    train = first_rows(resolve_dataset("mnist", Split::train, extra), 20000);
    test = first_rows(resolve_dataset("mnist", Split::test, extra), 100);
  } catch (const InputError& e) {
    GTEST_SKIP() << "no MNIST here: " << e.what();
  }
  set_threads(2);
  const Vae vae = test::train_small_mnist_vae(train, 200, 8);
  const std::vector<float> x = gather_all(test, Binarize::fixed, 1, 0);
  const ImageMask bottom = parse_image_mask("bottom", 28, 28);
  std::vector<std::uint8_t> seen(test.count * 784);
  for (std::size_t r = 0; r < test.count; ++r) bottom.fill_seen(1, 1, r, &seen[r * 784]);
  const Inpainting got = inpaint(vae, {x.data(), test.count, 784}, seen.data(), InpaintOptions{});
  const std::vector<float> mean_image = prior_mean_image(vae, 5000, 1);
  set_threads(0);
  const ConstMatrix truth{x.data(), test.count, 784}, completion{got.mean.data(), test.count, 784},
      mean{mean_image.data(), 1, 784};
  const std::vector<double> ll_c = hidden_log_likelihood(truth, completion, seen.data()),
                            ll_m = hidden_log_likelihood(truth, mean, seen.data());
  const std::vector<double> se_c = hidden_squared_error(truth, completion, seen.data()),
                            se_m = hidden_squared_error(truth, mean, seen.data());
  std::vector<double> gain(test.count), se_gain(test.count);
  for (std::size_t r = 0; r < test.count; ++r) gain[r] = ll_c[r] - ll_m[r], se_gain[r] = se_m[r] - se_c[r];
  const Moments g = moments(gain), s = moments(se_gain), lc = moments(ll_c), lm = moments(ll_m);
  std::printf("hidden bottom half, per pixel: log-likelihood completion %.4f +- %.4f, mean image %.4f +- %.4f, "
              "gain %.4f +- %.4f nats; squared error gain %.4f +- %.4f; acceptance %.2f\n",
              lc.mean, lc.stderr_, lm.mean, lm.stderr_, g.mean, g.stderr_, s.mean, s.stderr_, got.acceptance);
  EXPECT_GT(g.mean, 10 * g.stderr_);
  EXPECT_GT(g.mean, 0.05) << "nats per hidden pixel";
  EXPECT_GT(s.mean, 10 * s.stderr_);
}

}  // namespace
}  // namespace aevb
