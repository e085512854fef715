// Full VB over the decoder's parameters (App. F; src/prob/weight_posterior.*,
// the engine's drawn decoders, src/train/algorithm_full_vb.cpp): the layout
// of the scales, the gradient in the encoder's parameters, mu and log sigma
// against finite differences in double, and the evaluation's draws of theta.
#include "support/gradcheck.hpp"

#include "core/rng.hpp"
#include "model/engine.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace aevb {
namespace {

ModelConfig small_model(Likelihood likelihood, bool weight_posterior) {
  ModelConfig model;
  model.input_dim = 7;
  model.hidden = {5, 4};
  model.latent = 3;
  model.activation = Activation::tanh;
  model.likelihood = likelihood;
  model.weight_posterior = weight_posterior;
  return model;
}

// KL(N(mu, sigma^2) || N(0, 1)) summed, computed here from its definition.
double kl_to_standard_normal(const double* mu, const double* log_sigma, std::size_t n) {
  double kl = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double var = std::exp(2 * log_sigma[i]);
    kl += 0.5 * (var + mu[i] * mu[i] - 1 - std::log(var));
  }
  return kl;
}

TEST(FullVb, EachDecoderTensorGetsItsLogSigmaAndTheMeansStartAsWithout) {
  const Vae plain(small_model(Likelihood::gaussian, false), 3), vb(small_model(Likelihood::gaussian, true), 3);
  const auto& a = plain.parameter_table();
  const auto& b = vb.parameter_table();
  std::size_t decoder_tensors = 0;
  for (const ParameterInfo& p : a) decoder_tensors += p.name.rfind("decoder.", 0) == 0;
  ASSERT_EQ(b.size(), a.size() + decoder_tensors);
  for (std::size_t t = 0; t < a.size(); ++t) {
    EXPECT_EQ(b[t].name, a[t].name);
    EXPECT_EQ(b[t].offset, a[t].offset);
  }
  std::size_t next = a.size();
  for (const ParameterInfo& p : a) {
    if (p.name.rfind("decoder.", 0) != 0) continue;
    EXPECT_EQ(b[next].name, p.name + "_log_sigma");
    EXPECT_EQ(b[next].shape, p.shape);
    for (std::size_t i = 0; i < b[next].size(); ++i) EXPECT_EQ(vb.parameters()[b[next].offset + i], -5.0f);
    ++next;
  }
  const std::size_t means = a.back().offset + a.back().size();
  for (std::size_t i = 0; i < means; ++i)
    ASSERT_EQ(vb.parameters()[i], plain.parameters()[i]) << "the same init streams for the same tensors";
  std::size_t decoder_values = 0;
  for (const ParameterInfo& p : a)
    if (p.name.rfind("decoder.", 0) == 0) decoder_values += p.size();
  EXPECT_EQ(vb.engine().weight_count(), decoder_values);
}

class FullVbGradient : public ::testing::TestWithParam<Likelihood> {};

// The loss of one step: -(ELBO at theta = mu + sigma zeta) + w KL(q(theta) || p(theta)).
TEST_P(FullVbGradient, MatchesFiniteDifferencesInEveryParameter) {
  const ModelConfig model = small_model(GetParam(), true);
  Engine<double> engine(model);
  testing::randomize_parameters(engine, 5);
  const std::size_t n = engine.weight_count(), mean = engine.layout().find("decoder.0.weight").offset;
  const std::size_t scale = engine.layout().find("decoder.0.weight_log_sigma").offset;
  for (std::size_t i = 0; i < n; ++i) engine.params()[scale + i] = -1.0 + 0.3 * engine.params()[scale + i];
  const std::size_t rows = 4;
  std::vector<float> x_float(rows * model.input_dim);
  fill_uniform(x_float.data(), x_float.size(), 7, 0);
  const std::vector<double> x(x_float.begin(), x_float.end());
  std::vector<double> eps(rows * engine.noise_dim()), zeta(n);
  fill_normal(eps.data(), eps.size(), 8, 0);
  fill_normal(zeta.data(), zeta.size(), 9, 0);
  const ObjectiveConfig objective{Estimator::B, 1, 1.0f};
  const double w = 0.01;  // 1/N

  engine.draw_decoders(zeta.data(), 1);
  engine.forward_backward({x.data(), rows, model.input_dim}, eps.data(), objective, GradMode::overwrite);
  const double kl = engine.weight_posterior_grad(zeta.data(), w);
  engine.select_decoder(-1);
  EXPECT_NEAR(kl, kl_to_standard_normal(engine.params() + mean, engine.params() + scale, n), 1e-9 * kl);
  const std::vector<double> analytic(engine.grads(), engine.grads() + engine.param_count());
  auto loss = [&] {
    engine.draw_decoders(zeta.data(), 1);
    const Bound b = engine.forward({x.data(), rows, model.input_dim}, eps.data(), objective);
    engine.select_decoder(-1);
    return -b.bound + w * kl_to_standard_normal(engine.params() + mean, engine.params() + scale, n);
  };
  testing::expect_gradient(loss, engine.params(), engine.param_count(), analytic.data(),
                           "full VB (encoder, mu, log sigma)");
}

std::string likelihood_name(const ::testing::TestParamInfo<Likelihood>& info) {
  std::string name(to_string(info.param));
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Likelihoods, FullVbGradient,
                         ::testing::Values(Likelihood::bernoulli, Likelihood::gaussian, Likelihood::gaussian_fixed),
                         likelihood_name);

// The evaluation's theta draws: one decoder and one sample give log w under
// theta_0 = mu + sigma zeta_0 (zeta_0 from the eval_weights stream), which a
// model without a weight posterior holding theta_0 reproduces exactly; with
// sigma -> 0, any number of draws is the mean network.
TEST(FullVb, EvaluationDrawsThetaFromQ) {
  Vae vb(small_model(Likelihood::bernoulli, true), 3);
  Vae plain(small_model(Likelihood::bernoulli, false), 3);
  const std::size_t n = vb.engine().weight_count();
  const std::size_t mu = vb.engine().layout().find("decoder.0.weight").offset;
  const std::size_t scale = vb.engine().layout().find("decoder.0.weight_log_sigma").offset;
  for (std::size_t i = 0; i < n; ++i) vb.parameters()[scale + i] = -1.5f;
  const std::size_t rows = 6;
  std::vector<float> x(rows * 7);
  fill_uniform(x.data(), x.size(), 4, 0);
  const ConstMatrix data{x.data(), rows, 7};
  const std::uint64_t seed = 11;
  // plain holds theta_0 = mu + sigma zeta_0, zeta_0 the first draw of the eval_weights stream.
  std::vector<float> zeta(n);
  fill_normal(zeta.data(), n, seed, rng_stream(RngPurpose::eval_weights, 0));
  std::copy(vb.parameters().begin(), vb.parameters().begin() + scale, plain.parameters().begin());
  for (std::size_t i = 0; i < n; ++i)
    plain.parameters()[mu + i] = vb.parameters()[mu + i] + std::exp(vb.parameters()[scale + i]) * zeta[i];
  EXPECT_EQ(vb.log_likelihood(data, 1, seed, 1), plain.log_likelihood(data, 1, seed));
  EXPECT_EQ(vb.evaluate(data, {Estimator::B, 1, 1.0f}, seed, 1).bound,
            plain.evaluate(data, {Estimator::B, 1, 1.0f}, seed).bound);
  // Afterwards every other use reads the means again.
  std::copy(vb.parameters().begin(), vb.parameters().begin() + scale, plain.parameters().begin());
  std::vector<float> z(2 * 3, 0.5f), from_vb(2 * 7), from_plain(2 * 7);
  vb.decode({z.data(), 2, 3}, {from_vb.data(), 2, 7});
  plain.decode({z.data(), 2, 3}, {from_plain.data(), 2, 7});
  EXPECT_EQ(from_vb, from_plain);
  // sigma ~ 1e-13: five draws of theta are the mean network.
  for (std::size_t i = 0; i < n; ++i) vb.parameters()[scale + i] = -30.0f;
  const auto with_draws = vb.log_likelihood(data, 20, seed, 5), without = plain.log_likelihood(data, 20, seed);
  for (std::size_t r = 0; r < rows; ++r) EXPECT_NEAR(with_draws[r], without[r], 1e-4) << "row " << r;
  EXPECT_THROW(vb.log_likelihood(data, 3, seed, 5), InputError) << "3 samples over 5 decoders";
}

TEST(FullVb, OnlyFullVbTrainsAWeightPosteriorAndItNeedsN) {
  Vae vb(small_model(Likelihood::bernoulli, true), 1), plain(small_model(Likelihood::bernoulli, false), 1);
  TrainConfig train;
  train.datapoints = 100;
  EXPECT_THROW(Trainer(vb, train), InputError) << "aevb would leave the scales without a gradient";
  train.algorithm = "full-vb";
  EXPECT_THROW(Trainer(plain, train), InputError) << "no scales to train";
  train.datapoints = 0;
  EXPECT_THROW(Trainer(vb, train), InputError) << "KL / N without N";
  train.datapoints = 100;
  train.optimizer.weight_decay = 0.01f;
  EXPECT_THROW(Trainer(vb, train), InputError) << "a MAP prior beside the KL would count the prior twice";
  train.optimizer.weight_decay = 0;
  Trainer trainer(vb, train);
  std::vector<float> x(train.batch * 7);
  fill_uniform(x.data(), x.size(), 2, 0);
  const Bound b = trainer.step({x.data(), train.batch, 7});
  // The reported bound carries KL(q(theta) || p(theta)) / N in its KL term.
  EXPECT_NEAR(b.bound, b.reconstruction - b.kl, 1e-9);
  EXPECT_GT(b.kl, 0.0);
}

}  // namespace
}  // namespace aevb
