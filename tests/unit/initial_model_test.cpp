// The decoder's output bias from the data (src/train/initial_model.hpp): the
// means it is computed from (per feature, per channel, bytes and floats), the
// bias each likelihood gets, and what that bias means: a decoder whose last
// layer's weights are zero predicts the training data's mean.
#include "train/initial_model.hpp"

#include "io/run_settings_json.hpp"

#include <aevb/error.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace aevb {
namespace {

const ParameterInfo& tensor(const Vae& model, const std::string& name) {
  const auto& table = model.parameter_table();
  const auto it = std::find_if(table.begin(), table.end(), [&](const ParameterInfo& p) { return p.name == name; });
  if (it == table.end()) throw std::runtime_error("no tensor " + name);
  return *it;
}

double logit(double m) { return std::log(m / (1 - m)); }

// 3 rows of 4 bytes; column 3 is 0 in every row, so its logit is clipped.
Dataset byte_rows() {
  Dataset d;
  d.count = 3, d.dim = 4;
  d.bytes = {255, 0, 51, 0, 255, 255, 102, 0, 0, 255, 153, 0};
  return d;
}

TEST(OutputBias, MeansPerFeatureReadBytesAsTheTrainerDoes) {
  const std::vector<double> m = output_unit_means(byte_rows(), 4);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_DOUBLE_EQ(m[0], 2.0 / 3);
  EXPECT_DOUBLE_EQ(m[1], 2.0 / 3);
  EXPECT_NEAR(m[2], (51 + 102 + 153) / 255.0 / 3, 1e-15);
  EXPECT_DOUBLE_EQ(m[3], 0.0);
}

TEST(OutputBias, MeansPerChannelAverageEachPlaneOfThePlanarRow) {
  // Two rows of a 2-channel 1x2 image, NCHW: [c0 p0, c0 p1, c1 p0, c1 p1].
  Dataset d;
  d.count = 2, d.dim = 4, d.channels = 2, d.height = 1, d.width = 2;
  d.floats = {0.1f, 0.3f, 1.0f, 0.0f, 0.5f, 0.7f, 0.0f, 0.0f};
  const std::vector<double> m = output_unit_means(d, 2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0], (0.1 + 0.3 + 0.5 + 0.7) / 4, 1e-7);
  EXPECT_NEAR(m[1], 0.25, 1e-7);
}

TEST(OutputBias, AnOutputLayerThatFitsNeitherFeaturesNorChannelsIsAnError) {
  EXPECT_THROW(output_unit_means(byte_rows(), 3), InputError);
  Dataset empty;
  empty.dim = 4;
  EXPECT_THROW(output_unit_means(empty, 4), InputError);
}

ModelConfig bernoulli_mlp() {
  ModelConfig c;
  c.input_dim = 4;
  c.hidden = {5};
  c.latent = 2;
  c.init = Init::glorot;
  return c;
}

TEST(OutputBias, BernoulliDecoderStartsAtTheClippedLogitOfTheMean) {
  Vae model(bernoulli_mlp(), 3);
  start_output_bias_at_data_mean(model, byte_rows());
  const ParameterInfo& b = tensor(model, "decoder.logits.bias");
  const float* bias = model.parameters().data() + b.offset;
  EXPECT_NEAR(bias[0], logit(2.0 / 3), 1e-6);
  EXPECT_NEAR(bias[2], logit((51 + 102 + 153) / 255.0 / 3), 1e-6);
  EXPECT_NEAR(bias[3], logit(0.001), 1e-5) << "a pixel never on starts at logit(0.001), not -inf";

  // With its last layer's weights at zero, the decoder's mean is the data's.
  const ParameterInfo& w = tensor(model, "decoder.logits.weight");
  std::fill_n(model.parameters().data() + w.offset, w.size(), 0.0f);
  std::vector<float> z = {0.3f, -1.2f, 2.0f, 0.5f}, mean(2 * 4);
  model.decode(ConstMatrix{z.data(), 2, 2}, Matrix{mean.data(), 2, 4});
  for (std::size_t r = 0; r < 2; ++r) {
    EXPECT_NEAR(mean[r * 4 + 0], 2.0 / 3, 1e-6);
    EXPECT_NEAR(mean[r * 4 + 1], 2.0 / 3, 1e-6);
    EXPECT_NEAR(mean[r * 4 + 3], 0.001, 1e-6);
  }
}

TEST(OutputBias, IdentityMeanGaussianStartsAtTheMeanItself) {
  ModelConfig c = bernoulli_mlp();
  c.likelihood = Likelihood::gaussian;
  c.sigmoid_mean = false;
  Vae model(c, 3);
  Dataset d;
  d.count = 2, d.dim = 4;
  d.floats = {-3.0f, 0.5f, 10.0f, 1.0f, 1.0f, 0.5f, 20.0f, 0.0f};
  start_output_bias_at_data_mean(model, d);
  const float* bias = model.parameters().data() + tensor(model, "decoder.mean.bias").offset;
  EXPECT_FLOAT_EQ(bias[0], -1.0f) << "no clipping where the mean is not a probability";
  EXPECT_FLOAT_EQ(bias[2], 15.0f);
  const float* logvar_bias = model.parameters().data() + tensor(model, "decoder.logvar.bias").offset;
  EXPECT_EQ(logvar_bias[0], 0.0f) << "only the mean's head moves";
}

TEST(OutputBias, ConvolutionalDecoderGetsOneBiasPerChannel) {
  ModelConfig c;
  c.input_dim = 64, c.image_height = 8, c.image_width = 8, c.image_channels = 1;
  c.encoder = parse_layers("conv:4:4:2:1", "test");
  c.latent = 2;
  c.init = Init::glorot;
  Vae model(c, 3);
  Dataset d;
  d.count = 2, d.dim = 64, d.height = 8, d.width = 8;
  d.bytes.assign(128, 0);
  std::fill_n(d.bytes.begin(), 32, 255);  // a quarter of the pixels on
  start_output_bias_at_data_mean(model, d);
  const ParameterInfo& b = tensor(model, "decoder.logits.bias");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NEAR(model.parameters()[b.offset], logit(0.25), 1e-6);
}

TEST(OutputBias, RunSettingsChooseItAndTheBurdaPresetsStartThere) {
  EXPECT_EQ(preset_settings("iwae-mnist-1layer").output_bias, OutputBias::data_mean);
  EXPECT_EQ(preset_settings("iwae-mnist-2layer").output_bias, OutputBias::data_mean);
  EXPECT_EQ(preset_settings("paper-mnist").output_bias, OutputBias::zero);

  RunSettings s;
  apply_run_config(nlohmann::json::parse(R"({"run": {"output_bias": "data-mean"}})"), s, "test");
  EXPECT_EQ(s.output_bias, OutputBias::data_mean);
  EXPECT_EQ(to_json(s)["run"]["output_bias"], "data-mean") << "stored in checkpoints with the other settings";
  try {
    apply_run_config(nlohmann::json::parse(R"({"run": {"output_bias": "mean"}})"), s, "test");
    FAIL() << "an unknown value was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zero or data-mean"), std::string::npos) << e.what();
  }

  // initial_model applies it, or leaves the init's zero.
  s.model = bernoulli_mlp();
  const Vae with = initial_model(s, byte_rows());
  EXPECT_NEAR(with.parameters()[tensor(with, "decoder.logits.bias").offset], logit(2.0 / 3), 1e-6);
  s.output_bias = OutputBias::zero;
  const Vae without = initial_model(s, byte_rows());
  EXPECT_EQ(without.parameters()[tensor(without, "decoder.logits.bias").offset], 0.0f);
}

}  // namespace
}  // namespace aevb
