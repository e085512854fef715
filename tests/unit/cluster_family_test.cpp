// The cluster family against the seed's expression written out here, term by
// term, from the model's own tensors: the bound (estimator B), the mixture
// prior's log weights, the cluster probabilities, and prior draws spread
// evenly over the clusters.
#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "support/gradcheck.hpp"
#include "support/written_out_dense.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kInput = 6, kLatent = 3, kClusters = 4, kRows = 5;

ModelConfig small_cluster_model() {
  ModelConfig c;
  c.family = "cluster";
  c.input_dim = kInput;
  c.hidden = {5};
  c.latent = kLatent;
  c.clusters = kClusters;
  c.classifier_hidden = {4};
  c.activation = Activation::tanh;
  c.likelihood = Likelihood::bernoulli;
  return c;
}

std::vector<double> dense(const Engine<double>& e, const std::string& name, const std::vector<double>& x) {
  return testing::written_out_dense(e.layout(), e.params(), name, x);
}

// q(y|z): the classifier written out, tanh hidden layer, softmax.
std::vector<double> classifier(const Engine<double>& e, const std::vector<double>& z) {
  std::vector<double> h = dense(e, "latent.classifier.0", z);
  for (double& v : h) v = std::tanh(v);
  std::vector<double> a = dense(e, "latent.classifier.logits", h);
  double top = a[0], sum = 0;
  for (double v : a) top = std::max(top, v);
  for (double& v : a) sum += (v = std::exp(v - top));
  for (double& v : a) v /= sum;
  return a;
}

// log N(z; m_y, I).
double log_component(const Engine<double>& e, std::size_t y, const std::vector<double>& z) {
  const ParameterInfo& m = e.layout().find("latent.means");
  double sq = 0;
  for (std::size_t j = 0; j < kLatent; ++j) sq += std::pow(z[j] - e.params()[m.offset + y * kLatent + j], 2);
  return -0.5 * sq - 0.5 * double(kLatent) * std::log(2 * std::numbers::pi);
}

struct Fixture {
  Engine<double> engine{small_cluster_model()};
  std::vector<double> x, eps, mu, logvar;
  Fixture() {
    testing::randomize_parameters(engine, 11, 0.8);
    std::vector<float> u(kRows * kInput);
    fill_uniform(u.data(), u.size(), 3, 0);
    for (float v : u) x.push_back(v < 0.5f ? 0.0 : 1.0);
    eps.resize(kRows * kLatent);
    fill_normal(eps.data(), eps.size(), 4, 0);
    mu.resize(kRows * kLatent);
    logvar.resize(kRows * kLatent);
    engine.encode({x.data(), kRows, kInput}, {mu.data(), kRows, kLatent}, {logvar.data(), kRows, kLatent});
  }
  std::vector<double> z_of(std::size_t r) const {
    std::vector<double> z(kLatent);
    for (std::size_t j = 0; j < kLatent; ++j)
      z[j] = mu[r * kLatent + j] + std::exp(0.5 * logvar[r * kLatent + j]) * eps[r * kLatent + j];
    return z;
  }
  double log_q(std::size_t r) const {
    double v = 0;
    for (std::size_t j = 0; j < kLatent; ++j)
      v -= 0.5 * (std::log(2 * std::numbers::pi) + logvar[r * kLatent + j] + std::pow(eps[r * kLatent + j], 2));
    return v;
  }
  double log_likelihood(std::size_t r, std::vector<double> z) {
    std::vector<double> mean(kInput);
    engine.decode_mean({z.data(), 1, kLatent}, {mean.data(), 1, kInput});
    double v = 0;
    for (std::size_t i = 0; i < kInput; ++i)
      v += x[r * kInput + i] * std::log(mean[i]) + (1 - x[r * kInput + i]) * std::log(1 - mean[i]);
    return v;
  }
};

// The seed's loss per datapoint: E[-log p(x|z)] + sum_y q(y|z) log(q(z|x) / p(z|y)) + KL(q(y|z) || 1/K),
// one reparameterized z, the sum over y exact.
TEST(ClusterFamily, TheBoundIsTheSeedsExpressionAtTheSameDraw) {
  Fixture f;
  double recon = 0, kl = 0;
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::vector<double> z = f.z_of(r);
    const std::vector<double> pi = classifier(f.engine, z);
    double term = 0, kl_y = 0;
    for (std::size_t y = 0; y < kClusters; ++y) {
      term += pi[y] * (f.log_q(r) - log_component(f.engine, y, z));
      kl_y += pi[y] * std::log(pi[y] * double(kClusters));
    }
    recon += f.log_likelihood(r, z);
    kl += term + kl_y;
  }
  const Bound b = f.engine.forward({f.x.data(), kRows, kInput}, f.eps.data(), {Estimator::B, 1, 1.0f});
  EXPECT_NEAR(b.reconstruction, recon / kRows, 1e-12);
  EXPECT_NEAR(b.kl, kl / kRows, 1e-12);
  EXPECT_NEAR(b.bound, (recon - kl) / kRows, 1e-12);
}

// The importance weights use the marginal p(z) = (1/K) sum_y N(z; m_y, I).
TEST(ClusterFamily, LogWeightsUseTheMixturePrior) {
  Fixture f;
  std::vector<double> log_w(kRows);
  f.engine.log_weights({f.x.data(), kRows, kInput}, f.eps.data(), 1, log_w.data());
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::vector<double> z = f.z_of(r);
    double mixture = 0;
    for (std::size_t y = 0; y < kClusters; ++y) mixture += std::exp(log_component(f.engine, y, z)) / kClusters;
    EXPECT_NEAR(log_w[r], f.log_likelihood(r, z) + std::log(mixture) - f.log_q(r), 1e-12) << "row " << r;
  }
}

TEST(ClusterFamily, ClusterProbabilitiesAreTheClassifierAtThePosteriorMean) {
  Fixture f;
  std::vector<double> p(kRows * kClusters);
  f.engine.category_probabilities({f.x.data(), kRows, kInput}, {p.data(), kRows, kClusters});
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::vector<double> expected =
        classifier(f.engine, std::vector<double>(f.mu.begin() + r * kLatent, f.mu.begin() + (r + 1) * kLatent));
    for (std::size_t y = 0; y < kClusters; ++y) EXPECT_NEAR(p[r * kClusters + y], expected[y], 1e-14);
  }
}

// y ~ 1/K, z ~ N(m_y, I): with the means 20 apart every draw lies by its own
// mean; each cluster's count is binomial(N, 1/K), sd sqrt(N (1/K)(1 - 1/K)).
TEST(ClusterFamily, PriorDrawsCoverTheClustersEvenly) {
  Fixture f;
  const ParameterInfo& m = f.engine.layout().find("latent.means");
  for (std::size_t y = 0; y < kClusters; ++y)  // 20 e_0, 20 e_1, 20 e_2, 40 e_0
    for (std::size_t j = 0; j < kLatent; ++j)
      f.engine.params()[m.offset + y * kLatent + j] = j == y % kLatent ? 20.0 * double(1 + y / kLatent) : 0.0;
  const std::size_t n = 4000;
  std::vector<double> noise(n * f.engine.prior_noise_dim()), z(n * kLatent);
  fill_normal(noise.data(), noise.size(), 9, 0);
  f.engine.sample_prior({noise.data(), n, f.engine.prior_noise_dim()}, {z.data(), n, kLatent});
  std::vector<double> count(kClusters, 0);
  for (std::size_t r = 0; r < n; ++r) {
    const std::vector<double> zr(z.begin() + r * kLatent, z.begin() + (r + 1) * kLatent);
    std::size_t best = 0;
    for (std::size_t y = 1; y < kClusters; ++y)
      if (log_component(f.engine, y, zr) > log_component(f.engine, best, zr)) best = y;
    ++count[best];
  }
  const double expected = double(n) / kClusters, sd = std::sqrt(n * (1.0 / kClusters) * (1 - 1.0 / kClusters));
  for (std::size_t y = 0; y < kClusters; ++y) EXPECT_NEAR(count[y], expected, 5 * sd) << "cluster " << y;
}

}  // namespace
}  // namespace aevb
