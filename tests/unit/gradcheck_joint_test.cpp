// The HMC target's gradient (Engine::log_joint_grad: d/dz of log p(x|z) +
// log p(z), App. E) against finite differences in double, for every
// likelihood, MLP and convolutional decoders, several draws per datapoint,
// and as an Observation sees x (inpainting's hidden values, denoising's
// added variance); and GradMode::none, layer by layer: the parameter
// gradients untouched, dL/dx the same as with the modes that form them.
#include "support/gradcheck.hpp"
#include "support/kernel_inputs.hpp"
#include "support/scratch.hpp"

#include "core/param_layout.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "nn/conv.hpp"
#include "nn/dense.hpp"
#include "nn/twin.hpp"
#include "nn/unflatten.hpp"
#include "prob/likelihood.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

struct JointCase {
  const char* name;
  Likelihood likelihood;
  Activation activation;
  std::size_t samples;
  const char* decoder = "";  // "": the MLP 3-5-4-7 (mirror of hidden 5, 4)
  bool masked = false;       // a third of the values hidden (and NaN in x, which must never be read)
  double noise_variance = 0;  // Observation::noise_variance
};

void PrintTo(const JointCase& c, std::ostream* os) { *os << c.name; }

class JointGradient : public ::testing::TestWithParam<JointCase> {};

TEST_P(JointGradient, MatchesFiniteDifferencesAndLeavesParameterGradientsAlone) {
  const JointCase& c = GetParam();
  ModelConfig model;
  model.input_dim = 7;
  model.hidden = {5, 4};
  model.latent = 3;
  if (*c.decoder) {  // 2 x 6 x 4 images, a declared decoder (the encoder is never run)
    model.image_channels = 2;
    model.image_height = 6;
    model.image_width = 4;
    model.input_dim = 48;
    model.encoder = parse_layers("conv:3:3:1:0,dense:4", "test");
    model.decoder = parse_layers(c.decoder, "test");
  }
  model.activation = c.activation;
  model.likelihood = c.likelihood;
  model.fixed_variance = 0.5f;
  Engine<double> engine(model);
  testing::randomize_parameters(engine, 5);
  const std::size_t rows = 3, n = rows * c.samples, nz = model.latent;
  std::vector<float> x_float(rows * model.input_dim);
  fill_uniform(x_float.data(), x_float.size(), 7, 0);
  std::vector<double> x(x_float.begin(), x_float.end());
  std::vector<std::uint8_t> seen;
  if (c.masked) {
    seen.resize(x.size());
    for (std::size_t v = 0; v < x.size(); ++v) seen[v] = v % 3 != 1;
    for (std::size_t v = 0; v < x.size(); ++v)
      if (!seen[v]) x[v] = std::nan("");
  }
  const Observation observation{c.masked ? seen.data() : nullptr, c.noise_variance};
  std::vector<double> z = test::normals(n * nz, 8, 1.0);
  const std::vector<double> weight = test::normals(n, 9, 1.0);  // loss = sum_r weight_r log p(x, z_r)
  // A pattern in the parameter gradients that no pass would write.
  for (std::size_t i = 0; i < engine.param_count(); ++i) engine.grads()[i] = 1000.0 + double(i);
  std::vector<double> log_joint(n), dz(n * nz);
  const auto run = [&] {
    engine.log_joint_grad({x.data(), rows, model.input_dim}, {z.data(), n, nz}, c.samples, log_joint.data(),
                          {dz.data(), n, nz}, observation);
    double loss = 0;
    for (std::size_t r = 0; r < n; ++r) loss += weight[r] * log_joint[r];
    return loss;
  };
  const double loss = run();
  ASSERT_TRUE(std::isfinite(loss)) << "a hidden (NaN) value was read";
  std::vector<double> analytic(n * nz);
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t j = 0; j < nz; ++j) analytic[r * nz + j] = weight[r] * dz[r * nz + j];
  std::size_t touched = 0;
  for (std::size_t i = 0; i < engine.param_count(); ++i) touched += engine.grads()[i] != 1000.0 + double(i);
  EXPECT_EQ(touched, 0u) << "log_joint_grad wrote parameter gradients";
  // log p(x, z) itself: log p(x|z) from the engine's own bound pass is checked
  // elsewhere; here its sum with the prior must match the finite differences.
  testing::expect_gradient(run, z.data(), z.size(), analytic.data(), "d log p(x, z) / dz");
}

INSTANTIATE_TEST_SUITE_P(
    Decoders, JointGradient,
    ::testing::Values(JointCase{"bernoulli_tanh", Likelihood::bernoulli, Activation::tanh, 1},
                      JointCase{"bernoulli_softplus_S2", Likelihood::bernoulli, Activation::softplus, 2},
                      JointCase{"gaussian_leaky_relu", Likelihood::gaussian, Activation::leaky_relu, 1},
                      JointCase{"gaussian_fixed_sigmoid_S3", Likelihood::gaussian_fixed, Activation::sigmoid, 3},
                      // A conv decoder through the mirror-free declared path: dense, unflatten, deconv with
                      // output padding; and a Gaussian one whose output is a pair of deconvolutions (Twin).
                      JointCase{"conv_bernoulli", Likelihood::bernoulli, Activation::tanh, 2,
                                "dense:18,unflatten:3:3:2,deconv:2:3:2:1:1"},
                      JointCase{"conv_residual_gaussian", Likelihood::gaussian, Activation::softplus, 1,
                                "dense:24,unflatten:3:4:2,residual:2,deconv:2:3:1:0"},
                      // Inpainting's and denoising's targets: log p(x_seen, z), and the noise's variance added.
                      JointCase{"bernoulli_masked_S2", Likelihood::bernoulli, Activation::tanh, 2, "", true},
                      JointCase{"gaussian_masked_noisy", Likelihood::gaussian, Activation::softplus, 1, "", true, 0.3},
                      JointCase{"gaussian_noisy_S2", Likelihood::gaussian, Activation::tanh, 2, "", false, 0.05},
                      JointCase{"gaussian_fixed_masked_noisy", Likelihood::gaussian_fixed, Activation::tanh, 1, "",
                                true, 0.2},
                      JointCase{"conv_bernoulli_masked", Likelihood::bernoulli, Activation::tanh, 1,
                                "dense:18,unflatten:3:3:2,deconv:2:3:2:1:1", true}),
    [](const ::testing::TestParamInfo<JointCase>& param) { return std::string(param.param.name); });

// The values the finite differences above differentiate: log p(x|z) (the
// likelihood kernel on the decoder's output for these z) plus the standard
// normal log-density in closed form. A missing or wrong prior term would
// pass the finite differences (value and gradient would agree) but not this.
TEST(JointDensity, IsTheLikelihoodPlusTheStandardNormalPrior) {
  ModelConfig model;
  model.input_dim = 6;
  model.hidden = {4};
  model.latent = 2;
  Engine<double> engine(model);
  fill_normal(engine.params(), engine.param_count(), 3, 0);
  std::vector<float> x_float(2 * 6);
  fill_uniform(x_float.data(), x_float.size(), 4, 0);
  const std::vector<double> x(x_float.begin(), x_float.end());
  const std::vector<double> z = {0.5, -1.0, 2.0, 0.25};
  std::vector<double> log_joint(2), dz(4), log_lik(2);
  engine.log_joint_grad({x.data(), 2, 6}, {z.data(), 2, 2}, 1, log_joint.data(), {dz.data(), 2, 2});
  log_likelihood<double>(LikelihoodSpec::from(model), engine.decoder_output(), {x.data(), 2, 6}, 1, log_lik.data());
  const double log_2pi = std::log(2 * M_PI);
  EXPECT_NEAR(log_joint[0], log_lik[0] - 0.5 * (2 * log_2pi + 0.25 + 1.0), 1e-12);
  EXPECT_NEAR(log_joint[1], log_lik[1] - 0.5 * (2 * log_2pi + 4.0 + 0.0625), 1e-12);
}

TEST(JointDensity, RefusesAFamilyWithoutAPrior) {
  ModelConfig model;
  model.family = "autoencoder";
  model.input_dim = 5;
  model.hidden = {4};
  model.latent = 2;
  Engine<double> engine(model);
  std::vector<double> x(5, 0.5), z(2, 0.0), out(1), dz(2);
  EXPECT_ERROR_CONTAINS(engine.log_joint_grad({x.data(), 1, 5}, {z.data(), 1, 2}, 1, out.data(), {dz.data(), 1, 2}),
                        "log p(x, z): the autoencoder family has no prior p(z)");
}

// ---- GradMode::none, layer by layer.

using MakeLayer = std::function<std::unique_ptr<Layer<double>>(ParamLayout&)>;

struct NoneCase {
  const char* name;
  MakeLayer make;
  // 0: dx to the bit. The reference layers form dW and dx in one loop nest,
  // which the compiler may contract (FMA) differently once dW is skipped:
  // there, within the rounding of sums of ~30 terms of size ~1 (1e-14).
  double tolerance = 0;
};

void PrintTo(const NoneCase& c, std::ostream* os) { *os << c.name; }

class GradModeNone : public ::testing::TestWithParam<NoneCase> {};

// The same backward three times on the same forward: accumulate onto zeros,
// overwrite onto NaN, none onto a pattern. none must leave the pattern's every
// bit and give the other modes' dx (the fast layers' input-gradient products
// do not depend on the mode, so to the bit).
TEST_P(GradModeNone, LeavesParameterGradientsAndGivesTheSameInputGradient) {
  const std::size_t rows = 3;
  ParamLayout layout;
  const std::unique_ptr<Layer<double>> layer = GetParam().make(layout);
  const std::size_t n_in = layer->in_shape().size(), n_out = layer->out_shape().size(), n = layout.total();
  const std::vector<double> params = test::normals(n, 4, 0.3), x = test::normals(rows * n_in, 5, 1.0);
  const std::vector<double> upstream = test::normals(rows * n_out, 7, 1.0);
  std::vector<double> y(rows * n_out);
  layer->plan(rows);
  layer->forward(params.data(), {x.data(), rows, n_in}, {y.data(), rows, n_out});
  const auto run = [&](std::vector<double>& grads, GradMode mode) {
    std::vector<double> dy = upstream, dx(rows * n_in);
    layer->backward(params.data(), grads.data(), {x.data(), rows, n_in}, {y.data(), rows, n_out},
                    {dy.data(), rows, n_out}, {dx.data(), rows, n_in}, mode);
    return dx;
  };
  std::vector<double> zeros(n, 0.0), nans(n, std::nan("")), pattern(n);
  for (std::size_t i = 0; i < n; ++i) pattern[i] = 1000.0 + double(i);
  const std::vector<double> saved = pattern;
  const std::vector<double> dx_accumulate = run(zeros, GradMode::accumulate);
  const std::vector<double> dx_overwrite = run(nans, GradMode::overwrite);
  const std::vector<double> dx_none = run(pattern, GradMode::none);
  // Compared bit for bit (a NaN would defeat ==); a layer without parameters has nothing to compare.
  if (n > 0) {
    EXPECT_EQ(std::memcmp(pattern.data(), saved.data(), n * sizeof(double)), 0) << "GradMode::none wrote gradients";
  }
  std::size_t zero_grads = 0;
  for (double g : zeros) zero_grads += g == 0.0;
  if (n > 0) {
    EXPECT_LT(zero_grads, n) << "the accumulate pass formed no gradient: the check would be empty";
  }
  std::size_t differ = 0;
  for (std::size_t i = 0; i < dx_none.size(); ++i) {
    const double tolerance = GetParam().tolerance * (1 + std::abs(dx_accumulate[i]));
    if ((!(std::abs(dx_none[i] - dx_accumulate[i]) <= tolerance) || dx_accumulate[i] != dx_overwrite[i]) &&
        differ++ < 3)
      ADD_FAILURE() << "dx[" << i << "]: none " << dx_none[i] << ", accumulate " << dx_accumulate[i] << ", overwrite "
                    << dx_overwrite[i] << " (difference " << dx_none[i] - dx_accumulate[i] << ")";
  }
  EXPECT_EQ(differ, 0u);
}

LayerSpec conv_like(LayerKind kind, std::size_t out, std::size_t output_padding = 0) {
  return test::spec_of(kind, out, 3, 2, 1, output_padding);
}

constexpr Shape kImage{2, 5, 4};

INSTANTIATE_TEST_SUITE_P(
    Layers, GradModeNone,
    ::testing::Values(
        NoneCase{"dense_tanh",
                 [](ParamLayout& l) { return std::make_unique<DenseLayer<double>>(l, "d", Shape{6, 0, 0}, 4, Act::tanh, 0.f); }},
        NoneCase{"dense_twin_head",
                 [](ParamLayout& l) -> std::unique_ptr<Layer<double>> {
                   return DenseLayer<double>::twin(l, "mu", "logvar", Shape{6, 0, 0}, 3);
                 }},
        NoneCase{"conv", [](ParamLayout& l) {
                   return std::make_unique<Conv2d<double>>(l, "c", kImage, conv_like(LayerKind::conv, 3), Act::tanh, 0.f);
                 }},
        NoneCase{"deconv", [](ParamLayout& l) {
                   return std::make_unique<ConvTranspose2d<double>>(l, "c", kImage, conv_like(LayerKind::deconv, 3, 1),
                                                                    Act::softplus, 0.f);
                 }},
        NoneCase{"residual", [](ParamLayout& l) {
                   return std::make_unique<Residual<double>>(l, "c", kImage, test::spec_of(LayerKind::residual, 3),
                                                             Act::tanh, 0.f);
                 }},
        NoneCase{"twin_of_deconvs",
                 [](ParamLayout& l) -> std::unique_ptr<Layer<double>> {
                   const LayerSpec s = test::spec_of(LayerKind::deconv, 2, 3, 1, 0);
                   return std::make_unique<Twin<double>>(
                       std::make_unique<ConvTranspose2d<double>>(l, "mean", kImage, s, Act::identity, 0.f),
                       std::make_unique<ConvTranspose2d<double>>(l, "logvar", kImage, s, Act::identity, 0.f));
                 }},
        NoneCase{"unflatten",
                 [](ParamLayout&) { return std::make_unique<Unflatten<double>>(Shape{40, 0, 0}, kImage); }},
        NoneCase{"reference_conv", [](ParamLayout& l) {
                   return std::make_unique<reference::Conv2d<double>>(l, "c", kImage, conv_like(LayerKind::conv, 3),
                                                                      Act::tanh, 0.f);
                 }, 1e-14},
        NoneCase{"reference_deconv", [](ParamLayout& l) {
                   return std::make_unique<reference::ConvTranspose2d<double>>(
                       l, "c", kImage, conv_like(LayerKind::deconv, 3, 1), Act::tanh, 0.f);
                 }, 1e-14},
        NoneCase{"reference_residual", [](ParamLayout& l) {
                   return std::make_unique<reference::Residual<double>>(
                       l, "c", kImage, test::spec_of(LayerKind::residual, 3), Act::tanh, 0.f);
                 }, 1e-14}),
    [](const ::testing::TestParamInfo<NoneCase>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace aevb
