// Wake-sleep and reweighted wake-sleep (src/train/algorithm_wake_sleep.cpp,
// Engine::wake and Engine::sleep): each phase's gradient against finite
// differences in double, each phase writing its own network's slice only,
// the dreams distributed as the likelihood says, RWS with K = 1 and sleep
// updates equal to wake-sleep bit for bit, and the sleep phase finding the
// exact posterior of the linear-Gaussian model.
#include "support/gradcheck.hpp"
#include "support/linear_gaussian.hpp"

#include "core/rng.hpp"
#include "model/engine.hpp"
#include "optim/optimizer.hpp"
#include "prob/likelihood.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr std::size_t kRows = 4;
constexpr double kSentinel = 7.0;  // what a phase must leave in the other network's gradient

struct PhaseCase {
  Likelihood likelihood;
  std::size_t samples;
  const char* encoder = "";  // "": the MLP 7-5-4
};

void PrintTo(const PhaseCase& c, std::ostream* os) {
  *os << to_string(c.likelihood) << ", S = " << c.samples << (*c.encoder ? ", conv" : "");
}

std::string case_name(const ::testing::TestParamInfo<PhaseCase>& info) {
  std::string name = std::string(to_string(info.param.likelihood)) + "_S" + std::to_string(info.param.samples) +
                     (*info.param.encoder ? "_conv" : "");
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

ModelConfig model_of(const PhaseCase& c) {
  ModelConfig model;
  model.input_dim = 7;
  model.hidden = {5, 4};
  model.latent = 3;
  if (*c.encoder) {  // a 2 x 6 x 4 image
    model.image_channels = 2;
    model.image_height = 6;
    model.image_width = 4;
    model.input_dim = 48;
    model.encoder = parse_layers(c.encoder, "test");
  }
  model.activation = Activation::tanh;
  model.likelihood = c.likelihood;
  model.fixed_variance = 0.5f;
  return model;
}

// The engine's parameters are the encoder's, then the decoder's: the offset
// where the decoder's begin.
std::size_t decoder_offset(const Engine<double>& engine) {
  std::size_t first = engine.param_count();
  for (const ParameterInfo& p : engine.layout().table())
    if (p.name.rfind("decoder.", 0) == 0) first = std::min(first, p.offset);
  for (const ParameterInfo& p : engine.layout().table())
    if (p.name.rfind("encoder.", 0) == 0) {
      EXPECT_LT(p.offset, first) << p.name << " lies among the decoder's";
    }
  return first;
}

class Phases : public ::testing::TestWithParam<PhaseCase> {
 protected:
  void SetUp() override {
    model = model_of(GetParam());
    engine = std::make_unique<Engine<double>>(model);
    testing::randomize_parameters(*engine, 5);
    split = decoder_offset(*engine);
    std::vector<float> x_float(kRows * model.input_dim);
    fill_uniform(x_float.data(), x_float.size(), 7, 0);
    x.assign(x_float.begin(), x_float.end());
    eps.resize(kRows * GetParam().samples * engine->noise_dim());
    fill_normal(eps.data(), eps.size(), 8, 0);
  }
  MatrixView<const double> data() const { return {x.data(), kRows, model.input_dim}; }
  ObjectiveConfig objective(Estimator e) const { return {e, GetParam().samples, 1.0f}; }
  void fill_grads_with_sentinel() { std::fill_n(engine->grads(), engine->param_count(), kSentinel); }
  void expect_untouched(std::size_t first, std::size_t last, const char* what) {
    std::size_t changed = 0;
    for (std::size_t i = first; i < last; ++i) changed += engine->grads()[i] != kSentinel;
    EXPECT_EQ(changed, 0u) << what;
  }

  ModelConfig model;
  std::unique_ptr<Engine<double>> engine;
  std::size_t split = 0;
  std::vector<double> x, eps;
};

// Wake-sleep's wake phase: the decoder's gradient of the reconstruction term
// with z held (eps fixed, the encoder untouched, so z does not move).
TEST_P(Phases, UniformWakeIsTheReconstructionGradientOfTheDecoder) {
  fill_grads_with_sentinel();
  const Bound bound = engine->wake(data(), eps.data(), objective(Estimator::B), WakeWeighting::uniform, 0.0,
                                   GradMode::overwrite);
  expect_untouched(0, split, "the encoder's gradient after a wake phase without q-wake");
  const std::vector<double> analytic(engine->grads() + split, engine->grads() + engine->param_count());
  auto loss = [&] { return -engine->forward(data(), eps.data(), objective(Estimator::B)).reconstruction; };
  EXPECT_DOUBLE_EQ(engine->forward(data(), eps.data(), objective(Estimator::B)).bound, bound.bound)
      << "the reported bound is the ordinary bound of the wake draws";
  testing::expect_gradient(loss, engine->params() + split, analytic.size(), analytic.data(), "wake (decoder)");
}

// RWS's p-wake: the decoder's gradient of L_K = log 1/K sum_k p(x, z_k)/q(z_k|x)
// with z held; its q-wake: the encoder's gradient of sum_k w~_k log q(z_k|x)
// with z and the normalized weights w~ held, computed here from encode().
TEST_P(Phases, ImportanceWakeIsTheIwBoundForTheDecoderAndWeightedLogQForTheEncoder) {
  const std::size_t k = GetParam().samples, nz = model.latent, n = kRows * k;
  std::vector<double> log_w(n);
  engine->log_weights(data(), eps.data(), k, log_w.data());
  std::vector<double> shares(n);
  for (std::size_t m = 0; m < kRows; ++m) {
    const double top = *std::max_element(log_w.begin() + m * k, log_w.begin() + (m + 1) * k);
    double total = 0;
    for (std::size_t s = 0; s < k; ++s) total += shares[m * k + s] = std::exp(log_w[m * k + s] - top);
    for (std::size_t s = 0; s < k; ++s) shares[m * k + s] /= total;
  }
  engine->wake(data(), eps.data(), objective(Estimator::B), WakeWeighting::importance, 1.0, GradMode::overwrite);
  const std::vector<double> analytic(engine->grads(), engine->grads() + engine->param_count());
  const std::vector<double> z(engine->z().data, engine->z().data + n * nz);

  auto iw_loss = [&] { return -engine->forward(data(), eps.data(), objective(Estimator::iw)).bound; };
  testing::expect_gradient(iw_loss, engine->params() + split, engine->param_count() - split, analytic.data() + split,
                           "p-wake (decoder)");
  std::vector<double> mu(kRows * nz), logvar(kRows * nz);
  auto q_wake_loss = [&] {
    engine->encode(data(), {mu.data(), kRows, nz}, {logvar.data(), kRows, nz});
    double sum = 0;
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < nz; ++j) {
        const std::size_t m = r / k;
        const double d = z[r * nz + j] - mu[m * nz + j];
        sum += shares[r] * -0.5 * (std::log(2 * M_PI) + logvar[m * nz + j] + d * d * std::exp(-logvar[m * nz + j]));
      }
    return -sum / double(kRows);
  };
  testing::expect_gradient(q_wake_loss, engine->params(), split, analytic.data(), "q-wake (encoder)");
}

// The sleep phase: the encoder's gradient of -mean log q(z'|x') over dreams
// that depend on the decoder and the noise only.
TEST_P(Phases, SleepIsTheLogQGradientOfTheEncoderOnDreams) {
  const LikelihoodSpec spec = LikelihoodSpec::from(model);
  std::vector<double> z_noise(kRows * model.latent), x_noise(kRows * model.input_dim);
  fill_normal(z_noise.data(), z_noise.size(), 9, 0);
  if (spec.samples_from_uniform()) {
    std::vector<float> u(x_noise.size());
    fill_uniform(u.data(), u.size(), 10, 0);
    std::copy(u.begin(), u.end(), x_noise.begin());
  } else {
    fill_normal(x_noise.data(), x_noise.size(), 10, 0);
  }
  fill_grads_with_sentinel();
  const double mean_log_q = engine->sleep(z_noise.data(), x_noise.data(), kRows, 1.0, GradMode::overwrite);
  expect_untouched(split, engine->param_count(), "the decoder's gradient after a sleep phase");
  EXPECT_TRUE(std::isfinite(mean_log_q));
  if (model.likelihood == Likelihood::bernoulli) {
    for (std::size_t i = 0; i < kRows * model.input_dim; ++i)
      ASSERT_TRUE(engine->dreams().data[i] == 0.0 || engine->dreams().data[i] == 1.0) << "dreams are sampled, binary";
  }
  const std::vector<double> analytic(engine->grads(), engine->grads() + split);
  auto loss = [&] { return -engine->sleep(z_noise.data(), x_noise.data(), kRows, 1.0, GradMode::overwrite); };
  testing::expect_gradient(loss, engine->params(), split, analytic.data(), "sleep (encoder)");
}

INSTANTIATE_TEST_SUITE_P(WakeSleep, Phases,
                         ::testing::Values(PhaseCase{Likelihood::bernoulli, 1}, PhaseCase{Likelihood::bernoulli, 3},
                                           PhaseCase{Likelihood::gaussian, 2},
                                           PhaseCase{Likelihood::gaussian_fixed, 1},
                                           PhaseCase{Likelihood::bernoulli, 2, "conv:3:3:2:1,dense:6"}),
                         case_name);

// Dreams x' ~ p(x|z'): per value, the mean (and for the Gaussians the
// variance) over many rows within 4 standard errors of the likelihood's.
TEST(WakeSleep, DreamsAreDistributedAsTheLikelihood) {
  constexpr std::size_t rows = 20000, d = 3;
  const std::vector<float> pre{-1.0f, 0.0f, 2.0f}, logvar{-2.0f, 0.0f, 1.0f};
  for (Likelihood kind : {Likelihood::bernoulli, Likelihood::gaussian, Likelihood::gaussian_fixed}) {
    SCOPED_TRACE(std::string(to_string(kind)));
    LikelihoodSpec spec{kind, kind != Likelihood::gaussian_fixed, 0.25, d};
    const std::size_t width = spec.output_width();
    std::vector<float> out(rows * width), noise(rows * d), x(rows * d);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < d; ++i) {
        out[r * width + i] = pre[i];
        if (kind == Likelihood::gaussian) out[r * width + d + i] = logvar[i];
      }
    if (spec.samples_from_uniform())
      fill_uniform(noise.data(), noise.size(), 3, 0);
    else
      fill_normal(noise.data(), noise.size(), 3, 0);
    likelihood_sample<float>(spec, {out.data(), rows, width}, noise.data(), {x.data(), rows, d});
    for (std::size_t i = 0; i < d; ++i) {
      const double m = kind == Likelihood::gaussian_fixed ? pre[i] : 1 / (1 + std::exp(-double(pre[i])));
      const double var = kind == Likelihood::bernoulli ? m * (1 - m)
                         : kind == Likelihood::gaussian ? std::exp(double(logvar[i]))
                                                        : spec.fixed_variance;
      double sum = 0, sq = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        sum += x[r * d + i];
        sq += (x[r * d + i] - m) * (x[r * d + i] - m);
      }
      EXPECT_NEAR(sum / rows, m, 4 * std::sqrt(var / rows)) << "mean of value " << i;
      // The sample variance's standard error is about var * sqrt(2 / n) (a Gaussian's; wider bound for Bernoulli).
      EXPECT_NEAR(sq / rows, var, 4 * var * std::sqrt(2.0 / rows) + 4 * std::sqrt(var / rows) * 0.5)
          << "variance of value " << i;
    }
  }
}

std::vector<float> train_run(const std::string& algorithm, const std::string& rws_q, std::size_t samples) {
  ModelConfig model;
  model.input_dim = 20;
  model.hidden = {8};
  model.latent = 3;
  Vae vae(model, 4);
  TrainConfig train;
  train.algorithm = algorithm;
  train.rws_q = rws_q;
  train.batch = 16;
  train.objective = {Estimator::B, samples, 1.0f};
  train.optimizer.kind = OptimizerKind::adam;
  train.optimizer.lr = 1e-2f;
  Trainer trainer(vae, train);
  std::vector<float> x(train.batch * model.input_dim);
  for (std::uint64_t step = 0; step < 10; ++step) {
    fill_uniform(x.data(), x.size(), 77, step);
    for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
    trainer.step({x.data(), train.batch, model.input_dim});
  }
  return {vae.parameters().begin(), vae.parameters().end()};
}

// Bornschein & Bengio: with K = 1 the normalized weight is 1, and with
// q-sleep RWS is wake-sleep.
TEST(WakeSleep, RwsWithOneSampleAndSleepUpdatesIsWakeSleep) {
  const std::vector<float> ws = train_run("wake-sleep", "wake", 1);
  EXPECT_EQ(train_run("rws", "sleep", 1), ws);
  EXPECT_NE(train_run("rws", "wake", 1), ws) << "q-wake trains the encoder differently";
  EXPECT_NE(train_run("rws", "sleep", 3), ws) << "K = 3 weights the decoder's samples";
}

// Sleep-phase training alone, the decoder held at the linear-Gaussian model:
// the encoder's optimum, argmin E_p(x) KL(p(z|x) || q(z|x)), is the exact
// posterior, which the linear encoder can represent.
TEST(WakeSleep, SleepPhaseFindsTheExactPosteriorOfTheLinearGaussianModel) {
  using namespace test::linear_gaussian;
  Vae vae = linear_gaussian_vae(1.0);
  set(vae, "encoder.mu.weight", std::vector<double>(kNz * kD, 0.0));  // q(z|x) = N(0, I): the prior
  set(vae, "encoder.mu.bias", std::vector<double>(kNz, 0.0));
  set(vae, "encoder.logvar.bias", std::vector<double>(kNz, 0.0));
  Engine<float>& engine = vae.engine();
  const std::vector<float> x = data_from_the_model();
  // The mean over the data of KL(p(z|x) || q(z|x)), both diagonal Gaussians.
  auto mean_kl = [&] {
    std::vector<float> mu(kRows * kNz), logvar(kRows * kNz);
    engine.encode({x.data(), kRows, kD}, {mu.data(), kRows, kNz}, {logvar.data(), kRows, kNz});
    double kl = 0;
    for (std::size_t m = 0; m < kRows; ++m)
      for (std::size_t j = 0; j < kNz; ++j) {
        double exact_mu = 0;
        for (std::size_t i = 0; i < kD; ++i) exact_mu += posterior_var(j) * w(i, j) / kC * (x[m * kD + i] - kBias[i]);
        const double v = posterior_var(j), q = std::exp(double(logvar[m * kNz + j])), d = exact_mu - mu[m * kNz + j];
        kl += 0.5 * (std::log(q / v) + (v + d * d) / q - 1);
      }
    return kl / double(kRows);
  };
  const double before = mean_kl();
  EXPECT_GT(before, 0.5);
  constexpr std::size_t dreams = 100;
  std::vector<float> z(dreams * kNz), noise(dreams * kD);
  std::fill_n(engine.grads(), engine.param_count(), 0.0f);  // the decoder's stays 0: sleep never writes it
  std::uint64_t step = 0;
  for (float lr : {1e-2f, 1e-3f}) {
    OptimizerConfig adam;
    adam.kind = OptimizerKind::adam;
    adam.lr = lr;
    Optimizer<float> optimizer(adam, engine.param_count());
    for (std::uint64_t t = 1; t <= 1500; ++t, ++step) {
      fill_normal(z.data(), z.size(), 21, step);
      fill_normal(noise.data(), noise.size(), 22, step);
      engine.sleep(z.data(), noise.data(), dreams, 1.0f, GradMode::overwrite);
      optimizer.apply(engine.params(), engine.grads(), t);
    }
  }
  // A KL of 0.01 nats is a posterior standard deviation off by about 10%;
  // the parameter noise of Adam at lr 1e-3 leaves far less.
  EXPECT_LT(mean_kl(), 0.01) << "before training: " << before;
}

}  // namespace
}  // namespace aevb
