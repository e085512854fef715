// The latent regularity measures (eval/latent_regularity.hpp) against the
// same quantities computed here the slow way: nearest neighbours by brute
// force in double, the moment-matched KL with a 2x2 determinant written out.
#include "eval/latent_regularity.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace aevb {
namespace {

std::vector<float> uniform(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

double brute_nn(const float* q, const std::vector<float>& ref, std::size_t rows, std::size_t dim) {
  double best = std::numeric_limits<double>::infinity();
  for (std::size_t r = 0; r < rows; ++r) {
    double d = 0;
    for (std::size_t j = 0; j < dim; ++j) d += (double(q[j]) - ref[r * dim + j]) * (double(q[j]) - ref[r * dim + j]);
    best = std::min(best, d / double(dim));
  }
  return best;
}

double mean_brute_nn(const std::vector<float>& q, std::size_t rows, const std::vector<float>& ref,
                     std::size_t ref_rows, std::size_t dim) {
  double s = 0;
  for (std::size_t i = 0; i < rows; ++i) s += brute_nn(q.data() + i * dim, ref, ref_rows, dim);
  return s / double(rows);
}

TEST(LatentRegularity, NearestNeighboursMatchBruteForceAcrossReferenceBlocks) {
  const std::size_t dim = 5, q = 7, r = 2100;  // more reference rows than one block (2048)
  std::vector<float> queries = uniform(q * dim, 1), reference = uniform(r * dim, 2);
  // Query 3 is reference row 2090 exactly (in the second block): distance 0.
  std::copy_n(reference.data() + 2090 * dim, dim, queries.data() + 3 * dim);
  const std::vector<double> got = nearest_neighbour_mse({queries.data(), q, dim}, {reference.data(), r, dim});
  ASSERT_EQ(got.size(), q);
  for (std::size_t i = 0; i < q; ++i) {
    const double want = brute_nn(queries.data() + i * dim, reference, r, dim);
    EXPECT_NEAR(got[i], want, 1e-6 + 1e-5 * want) << "query " << i;
  }
  EXPECT_NEAR(got[3], 0.0, 1e-6);
  EXPECT_THROW(nearest_neighbour_mse({queries.data(), q, dim}, {reference.data(), 2, dim - 1}), InputError);
}

TEST(LatentRegularity, MeasuresMatchTheirDefinitions) {
  ModelConfig c;
  c.input_dim = 6;
  c.hidden = {8};
  c.latent = 2;
  c.init = Init::glorot;
  c.likelihood = Likelihood::gaussian_fixed;
  const Vae model(c, 5);
  const std::size_t n = 41, d = 2, dim = 6;
  const std::vector<float> x = uniform(n * dim, 3);
  const RegularityOptions options{9, 7};
  const LatentRegularity got = latent_regularity(model, {x.data(), n, dim}, options);
  EXPECT_EQ(got.reference_rows, 21u);
  EXPECT_EQ(got.held_out_rows, 9u);  // at most prior_samples of the 20 left
  EXPECT_EQ(got.prior_samples, 9u);

  // The aggregate posterior's moments: m = mean mu, S = Cov(mu) + diag(mean sigma^2) (+ the 1e-6 I jitter).
  std::vector<float> mu(n * d), logvar(n * d);
  model.encode({x.data(), n, dim}, {mu.data(), n, d}, {logvar.data(), n, d});
  double m[2] = {0, 0}, s[2][2] = {{0, 0}, {0, 0}};
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t a = 0; a < d; ++a) m[a] += mu[r * d + a] / double(n);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t a = 0; a < d; ++a) {
      for (std::size_t b = 0; b < d; ++b) s[a][b] += (mu[r * d + a] - m[a]) * (mu[r * d + b] - m[b]) / double(n);
      s[a][a] += std::exp(double(logvar[r * d + a])) / double(n);
    }
  s[0][0] += 1e-6, s[1][1] += 1e-6;
  const double det = s[0][0] * s[1][1] - s[0][1] * s[1][0];
  const double kl = 0.5 * (s[0][0] + s[1][1] + m[0] * m[0] + m[1] * m[1] - 2.0 - std::log(det));
  EXPECT_NEAR(got.code_kl_to_prior, kl, 1e-9 * (1 + kl));
  EXPECT_GT(got.code_kl_to_prior, 0.0);

  // The held-out rows (21..29) against their decoded posterior means.
  const std::vector<float> reference(x.begin(), x.begin() + 21 * dim);
  std::vector<float> recon(9 * dim);
  model.decode({mu.data() + 21 * d, 9, d}, {recon.data(), 9, dim});
  double se = 0;
  for (std::size_t i = 0; i < 9 * dim; ++i) se += (double(recon[i]) - x[21 * dim + i]) * (double(recon[i]) - x[21 * dim + i]);
  EXPECT_NEAR(got.reconstruction_mse, se / double(9 * dim), 1e-9);
  EXPECT_NEAR(got.reconstruction_nn_mse, mean_brute_nn(recon, 9, reference, 21, dim), 1e-6);

  std::vector<float> draws(9 * dim);
  model.decode_standard_normal(7, {draws.data(), 9, dim});
  EXPECT_NEAR(got.prior_sample_nn_mse, mean_brute_nn(draws, 9, reference, 21, dim), 1e-6);
  EXPECT_NEAR(got.nn_ratio(), got.prior_sample_nn_mse / got.reconstruction_nn_mse, 1e-12);
}

TEST(LatentRegularity, AnAutoencodersPointCodesCountOnlyTheirSpread) {
  // Point codes (variance 0): S is the codes' covariance alone. With the paper's small initial weights the
  // codes of uniform data spread far less than N(0, I), so the Gaussian fitted to them is far from it.
  ModelConfig c;
  c.family = "autoencoder";
  c.input_dim = 6;
  c.hidden = {8};
  c.latent = 2;
  c.init = Init::paper;  // N(0, 0.01^2) weights: codes within about 0.01 of each other
  c.likelihood = Likelihood::gaussian_fixed;
  const Vae model(c, 5);
  const std::vector<float> x = uniform(40 * 6, 3);
  const LatentRegularity r = latent_regularity(model, {x.data(), 40, 6}, {10, 1});
  // Each dimension's variance is at most about 1e-4 + the 1e-6 jitter: KL >= 0.5 * (-2 - 2 log(1.01e-4)) > 8.
  EXPECT_GT(r.code_kl_to_prior, 8.0);
  EXPECT_TRUE(std::isfinite(r.code_kl_to_prior));
}

TEST(LatentRegularity, RefusesWhatItCannotMeasure) {
  ModelConfig c;
  c.input_dim = 4;
  c.hidden = {3};
  c.latent = 2;
  const std::vector<float> x = uniform(10 * 4, 1);
  EXPECT_THROW(latent_regularity(Vae(c, 1), {x.data(), 1, 4}), InputError);
  EXPECT_THROW(latent_regularity(Vae(c, 1), {x.data(), 10, 4}, {0, 1}), InputError);
  c.decoder_only = true;
  EXPECT_THROW(latent_regularity(Vae(c, 1), {x.data(), 10, 4}), InputError);
}

}  // namespace
}  // namespace aevb
