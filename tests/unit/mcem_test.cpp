// Monte Carlo EM (App. E; src/train/algorithm_mcem.cpp) and the decoder-only
// model it trains: the M step's gradient against finite differences in
// double, the model without encoder tensors and its refusals, the E step's
// chains against a transition made by hand, and the fit of a linear-Gaussian
// model, whose exact log p(x) MCEM must bring to the true model's.
#include "support/gradcheck.hpp"
#include "support/kernel_inputs.hpp"
#include "support/linear_gaussian.hpp"
#include "support/scratch.hpp"

#include "core/rng.hpp"
#include "model/engine.hpp"
#include "model/posterior_target.hpp"
#include "prob/hmc.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

namespace aevb {
namespace {

ModelConfig small_model(Likelihood likelihood, bool decoder_only) {
  ModelConfig model;
  model.input_dim = 7;
  model.hidden = {5, 4};
  model.latent = 3;
  model.activation = Activation::softplus;
  model.likelihood = likelihood;
  model.fixed_variance = 0.5f;
  model.decoder_only = decoder_only;
  return model;
}

class DecoderGradient : public ::testing::TestWithParam<Likelihood> {};

// loss = -(1/M) sum_m log p(x_m|z_m) at given z, in the decoder's parameters;
// with an encoder present, its slice is left as it was.
TEST_P(DecoderGradient, MatchesFiniteDifferencesAndLeavesTheEncoderAlone) {
  for (bool decoder_only : {true, false}) {
    SCOPED_TRACE(decoder_only ? "decoder-only" : "with an encoder");
    const ModelConfig model = small_model(GetParam(), decoder_only);
    Engine<double> engine(model);
    testing::randomize_parameters(engine, 5);
    const std::size_t rows = 4;
    std::vector<float> x_float(rows * model.input_dim);
    fill_uniform(x_float.data(), x_float.size(), 7, 0);
    const std::vector<double> x(x_float.begin(), x_float.end()), z = test::normals(rows * model.latent, 8, 1.0);
    for (std::size_t i = 0; i < engine.param_count(); ++i) engine.grads()[i] = 1000.0 + double(i);
    const auto loss = [&] {
      return -double(engine.decoder_gradient({x.data(), rows, model.input_dim}, {z.data(), rows, model.latent},
                                             GradMode::none));
    };
    engine.decoder_gradient({x.data(), rows, model.input_dim}, {z.data(), rows, model.latent}, GradMode::overwrite);
    const std::vector<double> analytic(engine.grads(), engine.grads() + engine.param_count());
    std::size_t decoder_start = engine.param_count();
    for (const ParameterInfo& p : engine.layout().table())
      if (p.name.starts_with("decoder.")) decoder_start = std::min(decoder_start, p.offset);
    EXPECT_EQ(decoder_start == 0, decoder_only) << "a decoder-only model's parameters are all the decoder's";
    for (std::size_t i = 0; i < decoder_start; ++i) ASSERT_EQ(analytic[i], 1000.0 + double(i)) << "encoder " << i;
    testing::expect_gradient(loss, engine.params() + decoder_start, engine.param_count() - decoder_start,
                             analytic.data() + decoder_start, "d loss / d theta");
  }
}

INSTANTIATE_TEST_SUITE_P(Likelihoods, DecoderGradient,
                         ::testing::Values(Likelihood::bernoulli, Likelihood::gaussian, Likelihood::gaussian_fixed));

// The decoder-only model is the full model's decoder: the same tensors, names
// and log p(x, z), and no encoder tensor; what needs q(z|x) says so.
TEST(DecoderOnlyModel, IsTheFullModelsDecoderAndRefusesWhatNeedsAnEncoder) {
  const Vae full(small_model(Likelihood::bernoulli, false), 3);
  Vae decoder(small_model(Likelihood::bernoulli, true), 3);
  std::size_t decoder_tensors = 0;
  for (const ParameterInfo& p : full.parameter_table()) decoder_tensors += p.name.starts_with("decoder.");
  ASSERT_EQ(decoder.parameter_table().size(), decoder_tensors);
  for (const ParameterInfo& p : decoder.parameter_table()) {
    const auto same = std::find_if(full.parameter_table().begin(), full.parameter_table().end(),
                                   [&](const ParameterInfo& q) { return q.name == p.name; });
    ASSERT_NE(same, full.parameter_table().end()) << p.name;
    EXPECT_EQ(same->shape, p.shape) << p.name;
    std::copy_n(full.parameters().data() + same->offset, p.size(), decoder.parameters().data() + p.offset);
  }
  std::vector<float> x(2 * 7), z = {0.5f, -1, 2, 0.25f, 0, 1}, a(2), b(2), da(6), db(6);
  fill_uniform(x.data(), x.size(), 4, 0);
  const_cast<Vae&>(full).engine().log_joint_grad({x.data(), 2, 7}, {z.data(), 2, 3}, 1, a.data(), {da.data(), 2, 3});
  decoder.engine().log_joint_grad({x.data(), 2, 7}, {z.data(), 2, 3}, 1, b.data(), {db.data(), 2, 3});
  EXPECT_EQ(a, b);
  EXPECT_EQ(da, db);
  std::vector<float> mu(6), logvar(6);
  EXPECT_ERROR_CONTAINS(decoder.encode({x.data(), 2, 7}, {mu.data(), 2, 3}, {logvar.data(), 2, 3}),
                        "encoding needs the encoder q(z|x), and the model is decoder-only");
  EXPECT_ERROR_CONTAINS(decoder.evaluate({x.data(), 2, 7}, {}, 1), "the bound needs the encoder q(z|x)");
  EXPECT_ERROR_CONTAINS(decoder.log_likelihood({x.data(), 2, 7}, 10, 1), "needs the encoder q(z|x)");
  ModelConfig no_prior = small_model(Likelihood::bernoulli, true);
  no_prior.family = "autoencoder";
  EXPECT_ERROR_CONTAINS(validate(no_prior), "a decoder-only model needs a prior p(z)");
}

TEST(DecoderOnlyModel, IsTrainedByMcemAlone) {
  Vae decoder(small_model(Likelihood::bernoulli, true), 3);
  TrainConfig aevb;
  EXPECT_ERROR_CONTAINS(Trainer(decoder, aevb), "the model is decoder-only, which only mcem trains");
  Vae full(small_model(Likelihood::bernoulli, false), 3);
  TrainConfig mcem;
  mcem.algorithm = "mcem";
  mcem.datapoints = 100;
  EXPECT_ERROR_CONTAINS(Trainer(full, mcem), "mcem trains a decoder-only model; this one has an encoder");
}

TEST(Mcem, RefusesLargeTrainingSetsAndSettingsItHasNoUseFor) {
  Vae model(small_model(Likelihood::bernoulli, true), 3);
  TrainConfig c;
  c.algorithm = "mcem";
  c.datapoints = 10001;
  EXPECT_ERROR_CONTAINS(Trainer(model, c), "Monte Carlo EM is a batch method");
  c.datapoints = 0;
  EXPECT_ERROR_CONTAINS(Trainer(model, c), "the training set's size N is not known");
  c.datapoints = 100;
  c.objective.samples = 2;
  EXPECT_ERROR_CONTAINS(Trainer(model, c), "one chain per datapoint");
  c.objective.samples = 1;
  c.kl_warmup_steps = 10;
  EXPECT_ERROR_CONTAINS(Trainer(model, c), "has no KL term");
  c.kl_warmup_steps = 0;
  Trainer trainer(model, c);
  std::vector<float> x(3 * 7, 0.5f);
  EXPECT_ERROR_CONTAINS(trainer.step({x.data(), 3, 7}), "each row's index in the training set is needed");
  const std::vector<std::uint32_t> outside = {0, 1, 100};
  EXPECT_ERROR_CONTAINS(trainer.step({x.data(), 3, 7}, outside), "datapoint index 100 outside the 100 chains");
}

// One step on rows {4, 1} of 6 datapoints: those two chains take the HMC
// transition that a hand-made Hmc (App. E's settings, MCEM's streams) gives
// from their starting draws under the initial decoder; the others stay at
// their starts; then 5 decoder updates, and the step size adapted.
TEST(Mcem, AStepMovesTheBatchsChainsByOneTransitionAndUpdatesTheDecoderFiveTimes) {
  const ModelConfig config = small_model(Likelihood::bernoulli, true);
  Vae model(config, 3);
  const std::vector<float> initial(model.parameters().begin(), model.parameters().end());
  TrainConfig c;
  c.algorithm = "mcem";
  c.datapoints = 6;
  c.batch = 2;
  c.seed = 11;
  Trainer trainer(model, c);
  const std::size_t nz = config.latent;
  ASSERT_EQ(trainer.algorithm_state().size(), 6 * nz + 1) << "the chains, then the step size";
  const std::vector<float> before(trainer.algorithm_state().begin(), trainer.algorithm_state().end());
  for (std::uint64_t i = 0; i < 6; ++i) {
    std::vector<float> start(nz);
    fill_normal(start.data(), nz, c.seed, hmc_stream(i, HmcDraw::start, RngPurpose::mcem));
    EXPECT_EQ(std::memcmp(start.data(), &before[i * nz], nz * sizeof(float)), 0) << "chain " << i << " starts at p(z)";
  }
  EXPECT_EQ(before.back(), 0.01f);

  std::vector<float> x(2 * 7);
  fill_uniform(x.data(), x.size(), 5, 0);
  for (float& v : x) v = v < 0.5f ? 0.0f : 1.0f;
  const std::vector<std::uint32_t> rows = {4, 1};

  // The transition by hand, on a model holding the initial parameters.
  Vae reference(config, 3);
  std::vector<float> z(2 * nz), grad(2 * nz), log_density(2);
  std::copy_n(&before[4 * nz], nz, z.data());
  std::copy_n(&before[1 * nz], nz, z.data() + nz);
  std::vector<double> step_size(2, 0.01f);
  const std::vector<std::uint64_t> id = {4, 1};
  PosteriorTarget<float> target(reference.engine(), {x.data(), 2, 7});
  target.log_density_grad({z.data(), 2, nz}, log_density.data(), {grad.data(), 2, nz});
  HmcOptions options;
  options.leapfrog_steps = 10;
  options.target_acceptance = 0.9;
  options.rule = StepSizeRule::shared;
  options.streams = RngPurpose::mcem;
  Hmc<float> hmc(nz, options);
  hmc.transition(target, {{z.data(), 2, nz}, log_density.data(), {grad.data(), 2, nz}, step_size.data(), id.data()},
                 c.seed, 0, true);

  const Bound bound = trainer.step({x.data(), 2, 7}, rows);
  EXPECT_EQ(trainer.steps(), 5u);
  const std::span<const float> after = trainer.algorithm_state();
  EXPECT_EQ(std::memcmp(&after[4 * nz], z.data(), nz * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(&after[1 * nz], z.data() + nz, nz * sizeof(float)), 0);
  for (std::size_t i : {0, 2, 3, 5})
    EXPECT_EQ(std::memcmp(&after[i * nz], &before[i * nz], nz * sizeof(float)), 0) << "chain " << i << " moved";
  EXPECT_EQ(after.back(), static_cast<float>(step_size[0]));
  EXPECT_NE(after.back(), 0.01f) << "the step size adapts toward 90% acceptance";
  // The bound is log p(x, z) at the new chains under the decoder before the updates.
  const double expected = (double(log_density[0]) + log_density[1]) / 2;
  EXPECT_NEAR(bound.bound, expected, 1e-4 * (1 + std::abs(expected)));
  std::size_t changed = 0;
  for (std::size_t i = 0; i < initial.size(); ++i) changed += model.parameters()[i] != initial[i];
  EXPECT_EQ(changed, initial.size()) << "every decoder parameter is updated";
}

// Data from the linear-Gaussian model p(x) = N(b, W W^T + c I); MCEM fits a
// linear decoder from the paper's N(0, 0.01^2) start on the whole set. Its
// exact mean log p(x) on that data must come within 0.1 nats of the true
// model's (the maximum-likelihood fit lies above the truth by about
// (parameters)/(2N) = 0.045 nats; EM on sampled posteriors stays near it),
// from about 2 nats below.
TEST(Mcem, FitsALinearGaussianModelToItsMaximumLikelihood) {
  namespace lg = test::linear_gaussian;
  const std::vector<float> x = lg::data_from_the_model();
  ModelConfig config;
  config.input_dim = lg::kD;
  config.hidden = {};
  config.latent = lg::kNz;
  config.likelihood = Likelihood::gaussian_fixed;
  config.sigmoid_mean = false;
  config.fixed_variance = float(lg::kC);
  config.decoder_only = true;
  Vae model(config, 1);
  TrainConfig c;
  c.algorithm = "mcem";
  c.datapoints = lg::kRows;
  c.batch = lg::kRows;
  c.optimizer.kind = OptimizerKind::adam;
  c.optimizer.lr = 0.01f;
  Trainer trainer(model, c);
  const auto mean_log_px = [&] {
    lg::Weights w{};
    lg::Bias b{};
    for (const ParameterInfo& p : model.parameter_table()) {
      if (p.name == "decoder.mean.weight") std::copy_n(model.parameters().data() + p.offset, w.size(), w.begin());
      if (p.name == "decoder.mean.bias") std::copy_n(model.parameters().data() + p.offset, b.size(), b.begin());
    }
    double mean = 0;
    for (std::size_t r = 0; r < lg::kRows; ++r) mean += lg::log_px(x.data() + r * lg::kD, w, b) / double(lg::kRows);
    return mean;
  };
  const double truth = lg::exact_log_likelihoods(x).mean, start = mean_log_px();
  std::vector<std::uint32_t> rows(lg::kRows);
  std::iota(rows.begin(), rows.end(), 0u);
  for (int iteration = 0; iteration < 600; ++iteration) trainer.step({x.data(), lg::kRows, lg::kD}, rows);
  const double fitted = mean_log_px();
  EXPECT_LT(start, truth - 1.5) << "the start is far from the truth";
  EXPECT_NEAR(fitted, truth, 0.1) << "start " << start;
  std::printf("linear-Gaussian MCEM fit: exact mean log p(x) %.4f, the truth's %.4f, the start's %.4f\n", fitted,
              truth, start);
}

}  // namespace
}  // namespace aevb
