// Finite-difference checks of the whole network and objective in double:
// estimators A, B and the importance-weighted bound, beta != 1, L > 1, every
// likelihood, every family, MLP and convolutional networks, eps held fixed.
#include "support/gradcheck.hpp"

#include "core/rng.hpp"
#include "model/engine.hpp"

#include <cmath>
#include <vector>

namespace aevb {
namespace {

struct ObjectiveCase {
  Likelihood likelihood;
  Activation activation;
  Estimator estimator;
  std::size_t samples;
  float beta;
  const char* family = "vae";
  const char* encoder = "";  // "": the MLP 7-5-4
  const char* decoder = "";  // "": the mirror
  std::size_t top_latent = 0;  // vae-2layer: z2's width, through one hidden layer of 3
  std::size_t clusters = 0;    // cluster: K
  std::vector<std::size_t> classifier_hidden = {};  // cluster: q(y|z)'s hidden widths
  std::size_t classes = 0;  // cvae: K, the one-hot label after x's values
};

std::string case_name(const ::testing::TestParamInfo<ObjectiveCase>& info) {
  const auto& c = info.param;
  std::string name = std::string(to_string(c.likelihood)) + "_" + std::string(to_string(c.activation)) + "_" +
                     std::string(to_string(c.estimator)) + "_S" + std::to_string(c.samples) + "_beta" +
                     std::to_string(int(c.beta * 10)) + "_" + c.family + (*c.encoder ? "_conv" : "") +
                     (*c.decoder ? "_declared" : "");
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

class ObjectiveGradient : public ::testing::TestWithParam<ObjectiveCase> {};

TEST_P(ObjectiveGradient, MatchesFiniteDifferences) {
  const ObjectiveCase& c = GetParam();
  ModelConfig model;
  model.family = c.family;
  model.input_dim = 7;
  model.hidden = {5, 4};
  model.latent = 3;
  if (c.top_latent > 0) {
    model.top_latent = c.top_latent;
    model.top_hidden = {3};
  }
  model.clusters = c.clusters;
  model.classifier_hidden = c.classifier_hidden;
  model.classes = c.classes;
  if (*c.encoder) {  // a 2 x 6 x 4 image: two channels, sizes that need output padding to mirror
    model.image_channels = 2;
    model.image_height = 6;
    model.image_width = 4;
    model.input_dim = 48;
    model.encoder = parse_layers(c.encoder, "test");
    if (*c.decoder) model.decoder = parse_layers(c.decoder, "test");
  }
  model.activation = c.activation;
  model.likelihood = c.likelihood;
  model.fixed_variance = 0.5f;
  Engine<double> engine(model);
  testing::randomize_parameters(engine, 5);
  const std::size_t rows = 4;
  const ObjectiveConfig objective{c.estimator, c.samples, c.beta};

  const std::size_t width = model_row_width(model);
  std::vector<float> x_float(rows * width), eps_float(rows * c.samples * engine.noise_dim());
  fill_uniform(x_float.data(), x_float.size(), 7, 0);
  std::vector<double> x(x_float.begin(), x_float.end()), eps(eps_float.size());
  for (std::size_t m = 0; m < rows && c.classes > 0; ++m)  // datapoint m has label m mod K
    for (std::size_t y = 0; y < c.classes; ++y) x[m * width + model.input_dim + y] = y == m % c.classes ? 1 : 0;
  fill_normal(eps.data(), eps.size(), 8, 0);

  engine.zero_grad();
  const Bound bound = engine.forward_backward({x.data(), rows, width}, eps.data(), objective);
  const std::vector<double> analytic(engine.grads(), engine.grads() + engine.param_count());
  auto loss = [&] {
    const Bound b = engine.forward({x.data(), rows, width}, eps.data(), objective);
    // The objective the gradient follows: the bound with the KL weighted by beta.
    return -(c.estimator == Estimator::iw ? b.bound : b.reconstruction - double(c.beta) * b.kl);
  };
  EXPECT_DOUBLE_EQ(loss(), -(c.estimator == Estimator::iw ? bound.bound : bound.reconstruction - c.beta * bound.kl));
  // The rounding error of a difference grows as 1e-16 |loss| / h: for the
  // learned-variance conv case (a loss near 1300 nats) h = 1e-5 keeps it near
  // 1e-8, as small as the truncation error h^2 |d3L| is; else the default 1e-6.
  const double h = std::abs(bound.bound) > 100 ? 1e-5 : 1e-6;
  testing::expect_gradient(loss, engine.params(), engine.param_count(), analytic.data(), "dL/dtheta", h);
}

INSTANTIATE_TEST_SUITE_P(
    Estimators, ObjectiveGradient,
    ::testing::Values(ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 1, 1.0f},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::A, 1, 1.0f},
                      ObjectiveCase{Likelihood::bernoulli, Activation::softplus, Estimator::A, 3, 0.5f},
                      ObjectiveCase{Likelihood::bernoulli, Activation::sigmoid, Estimator::B, 3, 2.0f},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::iw, 5, 1.0f},
                      ObjectiveCase{Likelihood::gaussian, Activation::tanh, Estimator::B, 2, 1.0f},
                      ObjectiveCase{Likelihood::gaussian, Activation::leaky_relu, Estimator::A, 2, 0.5f},
                      ObjectiveCase{Likelihood::gaussian, Activation::softplus, Estimator::iw, 4, 1.0f},
                      ObjectiveCase{Likelihood::gaussian_fixed, Activation::relu, Estimator::B, 2, 0.5f},
                      ObjectiveCase{Likelihood::gaussian_fixed, Activation::tanh, Estimator::iw, 3, 1.0f},
                      // The autoencoder: a point z, the reconstruction only (with S > 1 the draws coincide).
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 1, 1.0f, "autoencoder"},
                      ObjectiveCase{Likelihood::gaussian, Activation::softplus, Estimator::A, 2, 1.0f, "autoencoder"},
                      // Convolutional networks through the whole objective: the mirror (deconv with output
                      // padding), a residual block, and a declared decoder whose Gaussian output is a pair
                      // of transposed convolutions.
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 2, 1.0f, "vae",
                                    "conv:3:3:2:1,residual:2,dense:4"},
                      ObjectiveCase{Likelihood::gaussian, Activation::softplus, Estimator::iw, 3, 1.0f, "vae",
                                    "conv:3:3:1:0,dense:4", "dense:24,unflatten:3:4:2,deconv:2:3:1:0"},
                      ObjectiveCase{Likelihood::gaussian_fixed, Activation::leaky_relu, Estimator::A, 1, 0.5f,
                                    "autoencoder", "conv:4:2:1:0", "dense:60,unflatten:4:5:3,deconv:2:2:1:0"},
                      // Two stochastic layers: q(z2|z1) and p(z1|z2) through the Monte Carlo KL (B, beta
                      // weighting it), the plain bound (A) and the importance-weighted bound.
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 1, 1.0f, "vae-2layer", "",
                                    "", 2},
                      ObjectiveCase{Likelihood::bernoulli, Activation::softplus, Estimator::B, 3, 0.5f, "vae-2layer",
                                    "", "", 2},
                      ObjectiveCase{Likelihood::gaussian, Activation::tanh, Estimator::A, 2, 1.0f, "vae-2layer", "",
                                    "", 4},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::iw, 5, 1.0f, "vae-2layer",
                                    "", "", 2},
                      // The clustering VAE: the exact sums over y through the classifier and the means (B,
                      // beta weighting them, a linear classifier too); A and iw reach the means through the
                      // mixture prior p(z).
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 1, 1.0f, "cluster", "",
                                    "", 0, 3, {4}},
                      ObjectiveCase{Likelihood::gaussian, Activation::softplus, Estimator::B, 3, 0.5f, "cluster", "",
                                    "", 0, 4, {4, 3}},
                      ObjectiveCase{Likelihood::gaussian_fixed, Activation::tanh, Estimator::B, 2, 1.0f, "cluster",
                                    "", "", 0, 2, {}},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::A, 2, 1.0f, "cluster", "",
                                    "", 0, 3, {4}},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::iw, 4, 1.0f, "cluster", "",
                                    "", 0, 3, {4}},
                      // VaDE: the mixture's weights, means and variances through gamma = p(c|z) and the
                      // analytic terms (B, beta, several draws); A and iw through the mixture density.
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::B, 1, 1.0f, "vade", "", "",
                                    0, 3},
                      ObjectiveCase{Likelihood::gaussian, Activation::softplus, Estimator::B, 3, 0.5f, "vade", "",
                                    "", 0, 4},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::A, 2, 1.0f, "vade", "", "",
                                    0, 3},
                      ObjectiveCase{Likelihood::bernoulli, Activation::tanh, Estimator::iw, 4, 1.0f, "vade", "", "",
                                    0, 2},
                      // The conditional VAE: the label's weights in both networks' first layers.
                      ObjectiveCase{Likelihood::gaussian, Activation::tanh, Estimator::B, 2, 0.5f, "cvae", "", "",
                                    0, 0, {}, 3},
                      ObjectiveCase{Likelihood::bernoulli, Activation::softplus, Estimator::iw, 3, 1.0f, "cvae", "",
                                    "", 0, 0, {}, 2}),
    case_name);

}  // namespace
}  // namespace aevb
