// VaDE's start (src/train/mixture_start.hpp) on three noisy binary
// prototypes: the mixture is the fit to the model's own codes, q(z|x) starts
// as wide as a typical component, the copied networks reconstruct as a
// trained autoencoder does, the start is a function of the settings, and a
// family without a mixture prior refuses --pretrain-epochs.
#include "train/initial_model.hpp"

#include "core/rng.hpp"
#include "prob/gaussian_mixture.hpp"

#include <aevb/error.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kDim = 12, kRows = 240, kLatent = 2, kClusters = 3;

// Row i is prototype i % 3 (4 of the 12 pixels on, a different 4 each) with 5% of its pixels flipped.
Dataset prototypes() {
  Dataset d;
  d.count = kRows, d.dim = kDim, d.binary = true;
  std::vector<float> u(kRows * kDim);
  fill_uniform(u.data(), u.size(), 17, 0);
  for (std::size_t i = 0; i < kRows; ++i)
    for (std::size_t j = 0; j < kDim; ++j) {
      const bool on = j / 4 == i % 3;
      d.bytes.push_back((on != (u[i * kDim + j] < 0.05f)) ? 255 : 0);
    }
  return d;
}

RunSettings vade_settings(std::size_t pretrain_epochs) {
  RunSettings s;
  s.model.family = "vade";
  s.model.hidden = {16};
  s.model.latent = kLatent;
  s.model.clusters = kClusters;
  s.model.activation = Activation::relu;
  s.model.init = Init::he;
  s.train.batch = 20;
  s.train.optimizer.kind = OptimizerKind::adam;
  s.train.optimizer.lr = 3e-3f;
  s.pretrain_epochs = pretrain_epochs;
  s.validation = 0;
  return s;
}

Vae started(std::size_t pretrain_epochs, MixtureStart* start = nullptr) {
  const Dataset d = prototypes();
  RunSettings s = vade_settings(pretrain_epochs);
  complete_for_data(s, d);
  return initial_model(s, d, start);
}

std::vector<float> codes(const Vae& model) {
  const Dataset d = prototypes();
  std::vector<float> x(kRows * kDim), mu(kRows * kLatent), logvar(kRows * kLatent);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = d.bytes[i] / 255.0f;
  model.encode({x.data(), kRows, kDim}, {mu.data(), kRows, kLatent}, {logvar.data(), kRows, kLatent});
  return mu;
}

TEST(MixtureStart, TheMixtureIsTheFitToTheModelsOwnCodes) {
  MixtureStart start;
  const Vae model = started(20, &start);
  const std::vector<float> mu = codes(model);
  MixtureFitOptions options;
  options.components = kClusters;
  const DiagonalMixture fit = fit_diagonal_mixture(std::vector<double>(mu.begin(), mu.end()), kLatent, options);
  const float* p = model.parameters().data();
  double mean_log_variance = 0;
  for (std::size_t c = 0; c < kClusters; ++c) {
    EXPECT_FLOAT_EQ(p[parameter_named(model, "latent.mixture_logits").offset + c], float(std::log(fit.weights[c])));
    for (std::size_t j = 0; j < kLatent; ++j) {
      const std::size_t i = c * kLatent + j;
      EXPECT_FLOAT_EQ(p[parameter_named(model, "latent.means").offset + i], float(fit.means[i]));
      EXPECT_FLOAT_EQ(p[parameter_named(model, "latent.logvars").offset + i], float(std::log(fit.variances[i])));
      mean_log_variance += std::log(fit.variances[i]) / double(kClusters * kLatent);
    }
  }
  EXPECT_DOUBLE_EQ(start.mixture_log_likelihood, fit.log_likelihood);
  EXPECT_EQ(start.em_iterations, fit.iterations);
  // Three well-separated prototypes: each component takes about a third of the rows.
  for (double w : fit.weights) EXPECT_NEAR(w, 1.0 / 3, 0.1);
  // Every row's log-variance starts at the components' mean log-variance.
  const Dataset d = prototypes();
  std::vector<float> x(kDim), m(kLatent), lv(kLatent);
  for (std::size_t j = 0; j < kDim; ++j) x[j] = d.bytes[j] / 255.0f;
  model.encode({x.data(), 1, kDim}, {m.data(), 1, kLatent}, {lv.data(), 1, kLatent});
  for (float v : lv) EXPECT_FLOAT_EQ(v, float(mean_log_variance));
}

// Bernoulli log-likelihood of the data at z = E[z|x], summed over rows.
double reconstruction(const Vae& model) {
  const Dataset d = prototypes();
  const std::vector<float> mu = codes(model);
  std::vector<float> mean(kRows * kDim);
  model.decode({mu.data(), kRows, kLatent}, {mean.data(), kRows, kDim});
  double ll = 0;
  for (std::size_t i = 0; i < mean.size(); ++i) {
    const double p = std::clamp(double(mean[i]), 1e-12, 1 - 1e-12);
    ll += d.bytes[i] ? std::log(p) : std::log(1 - p);
  }
  return ll / double(kRows);
}

TEST(MixtureStart, TheCopiedNetworksReconstructAsTheTrainedAutoencoder) {
  MixtureStart start;
  const Vae model = started(20, &start);
  const double fresh = reconstruction(started(0));
  // The autoencoder's last epoch (a mean over minibatches that were still learning) and the copy at the end.
  EXPECT_GT(start.pretrain.reconstruction, fresh + 2) << "the autoencoder learned";
  EXPECT_GE(reconstruction(model), start.pretrain.reconstruction - 0.5) << "the model holds the autoencoder's networks";
  EXPECT_EQ(start.pretrain_epochs, 20u);
}

TEST(MixtureStart, TheStartIsAFunctionOfTheSettings) {
  const Vae a = started(3), b = started(3);
  EXPECT_TRUE(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  const Vae c = started(4);
  EXPECT_FALSE(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
}

TEST(MixtureStart, AFamilyWithoutAMixturePriorRefusesPretraining) {
  RunSettings s = vade_settings(2);
  s.model.family = "vae";
  s.model.clusters = 0;
  try {
    complete_for_data(s, prototypes());
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "--pretrain-epochs: the vae family has no mixture prior to start from an autoencoder's "
                           "codes (--family vade has one)");
  }
}

}  // namespace
}  // namespace aevb
