// Declared networks: the layer syntax, the MLP shorthand and the mirrored
// decoder, PyTorch's parameter names and shapes, errors that name the layer,
// and the families and algorithms behind the two seams.
#include "model/architecture.hpp"
#include "model/engine.hpp"
#include "train/algorithm.hpp"

#include <aevb/vae.hpp>

#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace aevb {
namespace {

ModelConfig image_model(std::size_t channels, std::size_t height, std::size_t width) {
  ModelConfig c;
  c.image_channels = channels;
  c.image_height = height;
  c.image_width = width;
  c.input_dim = channels * height * width;
  return c;
}

std::string names_and_shapes(const std::vector<ParameterInfo>& table) {
  std::string s;
  for (const ParameterInfo& p : table) {
    s += p.name + "[";
    for (std::size_t i = 0; i < p.shape.size(); ++i) {
      if (i > 0) s += ',';
      s += std::to_string(p.shape[i]);
    }
    s += "] ";
  }
  return s;
}

TEST(LayerSyntax, RoundTripsEveryKind) {
  const std::string text = "conv:32:4:2:1,residual:16,dense:256,unflatten:64:2:2,deconv:3:3:2:1:1,deconv:1:4:2:1";
  const std::vector<LayerSpec> layers = parse_layers(text, "--encoder");
  ASSERT_EQ(layers.size(), 6u);
  EXPECT_EQ(layers[0].kind, LayerKind::conv);
  EXPECT_EQ(layers[0].out, 32u);
  EXPECT_EQ(layers[0].kernel, 4u);
  EXPECT_EQ(layers[0].stride, 2u);
  EXPECT_EQ(layers[0].padding, 1u);
  EXPECT_EQ(layers[3].kind, LayerKind::unflatten);
  EXPECT_EQ(layers[3].height, 2u);
  EXPECT_EQ(layers[4].output_padding, 1u);
  EXPECT_EQ(layers[5].output_padding, 0u);
  EXPECT_EQ(to_string(layers), text);
}

TEST(LayerSyntax, ErrorsNameTheItem) {
  EXPECT_ERROR_CONTAINS(parse_layers("conv:32:4:2", "--encoder"),
                        "--encoder: layer 'conv:32:4:2': expected conv:OUT:KERNEL:STRIDE:PADDING");
  EXPECT_ERROR_CONTAINS(parse_layers("dense:256,lstm:3", "--encoder"), "layer 'lstm:3': expected one of dense:OUT");
  EXPECT_ERROR_CONTAINS(parse_layers("dense:-5", "--decoder"), "expected whole numbers (dense:OUT), found '-5'");
  EXPECT_ERROR_CONTAINS(parse_layers("dense:0", "x"), "the output size must be positive");
  EXPECT_ERROR_CONTAINS(parse_layers("conv:8:0:1:0", "x"), "kernel and stride must be positive");
  EXPECT_ERROR_CONTAINS(parse_layers("deconv:8:3:2:1:2", "x"), "the output padding must be smaller than the stride");
  EXPECT_ERROR_CONTAINS(parse_layers("dense:8,,dense:4", "x"), "layer '': expected one of");
  EXPECT_ERROR_CONTAINS(parse_layers("", "--encoder"), "--encoder: expected at least one layer, found none");
  EXPECT_ERROR_CONTAINS(parse_layers("dense:12345678901", "x"), "expected whole numbers");
}

TEST(Architecture, HiddenShorthandIsThePapersMlp) {
  ModelConfig c;  // 784-500-20, Bernoulli
  c.hidden = {400, 200};
  EXPECT_EQ(to_string(encoder_layers(c)), "dense:400,dense:200");
  EXPECT_EQ(to_string(decoder_layers(c)), "dense:200,dense:400,dense:784");
  EXPECT_EQ(names_and_shapes(parameter_table(c)),
            "encoder.0.weight[400,784] encoder.0.bias[400] encoder.1.weight[200,400] encoder.1.bias[200] "
            "encoder.mu.weight[20,200] encoder.logvar.weight[20,200] encoder.mu.bias[20] encoder.logvar.bias[20] "
            "decoder.0.weight[200,20] decoder.0.bias[200] decoder.1.weight[400,200] decoder.1.bias[400] "
            "decoder.logits.weight[784,400] decoder.logits.bias[784] ");
  c.hidden = {};  // no hidden layer: the heads alone
  EXPECT_EQ(to_string(decoder_layers(c)), "dense:784");
}

TEST(Architecture, ConvEncoderIsMirrored) {
  ModelConfig c = image_model(1, 28, 28);
  c.encoder = parse_layers("conv:32:4:2:1,conv:64:4:2:1,dense:128", "test");
  EXPECT_EQ(to_string(decoder_layers(c)), "dense:128,dense:3136,unflatten:64:7:7,deconv:32:4:2:1,deconv:1:4:2:1");
  // Kernel 3 with stride 2 maps 28 and 27 alike to 14: the mirror needs output padding 1 to reach 28.
  c.encoder = parse_layers("conv:8:3:2:1,residual:4", "test");
  EXPECT_EQ(to_string(decoder_layers(c)), "dense:1568,unflatten:8:14:14,residual:4,deconv:1:3:2:1:1");
  // A dense layer straight on the image: the mirror ends with a dense output layer, no unflatten.
  c.encoder = parse_layers("dense:64", "test");
  EXPECT_EQ(to_string(decoder_layers(c)), "dense:64,dense:784");
}

TEST(Architecture, ConvParametersHavePyTorchNamesAndLayouts) {
  ModelConfig c = image_model(3, 8, 8);
  c.likelihood = Likelihood::gaussian;  // two output heads, each a transposed convolution
  c.latent = 5;
  c.encoder = parse_layers("conv:4:4:2:1,residual:2,dense:6", "test");
  EXPECT_EQ(names_and_shapes(parameter_table(c)),
            "encoder.0.weight[4,3,4,4] encoder.0.bias[4] encoder.1.conv1.weight[2,4,3,3] encoder.1.conv1.bias[2] "
            "encoder.1.conv2.weight[4,2,1,1] encoder.1.conv2.bias[4] encoder.2.weight[6,64] encoder.2.bias[6] "
            "encoder.mu.weight[5,6] encoder.logvar.weight[5,6] encoder.mu.bias[5] encoder.logvar.bias[5] "
            "decoder.0.weight[6,5] decoder.0.bias[6] decoder.1.weight[64,6] decoder.1.bias[64] "
            "decoder.3.conv1.weight[2,4,3,3] decoder.3.conv1.bias[2] decoder.3.conv2.weight[4,2,1,1] "
            "decoder.3.conv2.bias[4] decoder.mean.weight[4,3,4,4] decoder.mean.bias[3] "
            "decoder.logvar.weight[4,3,4,4] decoder.logvar.bias[3] ");
  // The engine's table is the same one, with contiguous offsets.
  const Vae vae(c, 1);
  std::size_t offset = 0;
  ASSERT_EQ(vae.parameter_table().size(), parameter_table(c).size());
  for (const ParameterInfo& p : vae.parameter_table()) {
    EXPECT_EQ(p.offset, offset) << p.name;
    offset += p.size();
  }
  EXPECT_EQ(offset, vae.parameters().size());
}

TEST(Architecture, ConvMnistPresetSize) {
  ModelConfig c = image_model(1, 28, 28);
  c.encoder = parse_layers("conv:32:4:2:1,conv:64:4:2:1,dense:128", "test");
  std::size_t total = 0;
  for (const ParameterInfo& p : parameter_table(c)) total += p.size();
  // conv 1->32 (544) + 32->64 (32,832) + dense 3136->128 (401,536) + heads 128->2x20 (5,160)
  // + dense 20->128 (2,688) + 128->3136 (404,544) + deconv 64->32 (32,800) + 32->1 (513).
  EXPECT_EQ(total, 544u + 32832u + 401536u + 5160u + 2688u + 404544u + 32800u + 513u);
}

TEST(Architecture, ErrorsNameTheLayerAndTheShapes) {
  ModelConfig c = image_model(1, 28, 28);
  c.encoder = parse_layers("conv:32:4:2:1,conv:64:4:2:1,conv:8:9:1:0", "test");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "model: encoder.2 (conv:8:9:1:0): ");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "[64, 7, 7]");

  ModelConfig flat;  // 784 values, no image shape
  flat.encoder = parse_layers("conv:8:3:1:1", "test");
  EXPECT_ERROR_CONTAINS(Vae(flat, 1), "model: encoder.0 (conv:8:3:1:1): ");
  EXPECT_ERROR_CONTAINS(Vae(flat, 1), "[784]");

  c.encoder = parse_layers("conv:32:4:2:1,dense:16", "test");
  c.decoder = parse_layers("dense:3136,unflatten:64:7:7,deconv:1:4:2:0", "test");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "model: decoder.2 (deconv:1:4:2:0), the output layer, gives [1, 16, 16], the data is [1, 28, 28]");
  c.decoder = parse_layers("dense:100,unflatten:64:7:7,deconv:1:4:2:1", "test");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "model: decoder.1 (unflatten:64:7:7): unflatten needs 3136 values to make [64, 7, 7], its input [100] has 100");
  c.decoder = parse_layers("dense:784,unflatten:1:28:28,residual:4", "test");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "decoder.2 (residual:4), the output layer, must be a dense, conv or deconv layer");
  c.decoder = parse_layers("dense:200", "test");
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "decoder.0 (dense:200), the output layer, gives [200], the data is [1, 28, 28]");

  // 6 x 5 -> 3 x 3 with kernel 3, stride 2, padding 1: coming back needs output
  // padding 1 for the height and 0 for the width, which one layer cannot have.
  ModelConfig odd = image_model(1, 6, 5);
  odd.encoder = parse_layers("conv:4:3:2:1", "test");
  EXPECT_ERROR_CONTAINS(Vae(odd, 1), "the decoder cannot mirror encoder.0 (conv:4:3:2:1): height and width would need");
}

TEST(Families, RegistryAndErrors) {
  ModelConfig c;
  c.family = "gmvae";
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "model family: expected one of vae, vae-2layer, cluster, vade, cvae, vq, autoencoder, found 'gmvae'");
  // A second stochastic layer belongs to the family that has one, and that family needs it.
  c.family = "vae";
  c.top_latent = 3;
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "top_latent and top_hidden describe a second stochastic layer; the vae family has one");
  c.family = "vae-2layer";
  c.top_latent = 0;
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "the vae-2layer family needs top_latent");
  c.top_latent = 3;
  c.decoder_only = true;
  EXPECT_ERROR_CONTAINS(Vae(c, 1), "Monte Carlo EM's HMC cannot sample its posterior");
  EXPECT_ERROR_CONTAINS(find_algorithm("mcem-hmc"),
                        "training algorithm: expected one of aevb, wake-sleep, rws, full-vb, mcem, found 'mcem-hmc'");
}

TEST(Families, AutoencoderHasAPointLatentAndNoPrior) {
  ModelConfig c;
  c.family = "autoencoder";
  c.input_dim = 12;
  c.hidden = {6};
  c.latent = 3;
  Vae ae(c, 2);
  EXPECT_FALSE(ae.has_prior());
  EXPECT_EQ(ae.engine().noise_dim(), 0u);
  EXPECT_EQ(names_and_shapes(ae.parameter_table()),
            "encoder.0.weight[6,12] encoder.0.bias[6] encoder.z.weight[3,6] encoder.z.bias[3] decoder.0.weight[6,3] "
            "decoder.0.bias[6] decoder.logits.weight[12,6] decoder.logits.bias[12] ");
  std::vector<float> x(2 * 12, 0.25f), mu(2 * 3), logvar(2 * 3), out(2 * 12);
  ae.encode({x.data(), 2, 12}, {mu.data(), 2, 3}, {logvar.data(), 2, 3});
  for (float v : logvar) EXPECT_EQ(v, -INFINITY);  // a point mass
  // The bound is the reconstruction alone: no KL, whatever the estimator.
  const Bound a = ae.evaluate({x.data(), 2, 12}, {Estimator::A, 3, 1.0f}, 1);
  const Bound b = ae.evaluate({x.data(), 2, 12}, {Estimator::B, 1, 1.0f}, 1);
  EXPECT_EQ(a.kl, 0.0);
  EXPECT_EQ(a.bound, a.reconstruction);
  EXPECT_DOUBLE_EQ(a.reconstruction, b.reconstruction);
  EXPECT_ERROR_CONTAINS(ae.sample(1, {out.data(), 2, 12}), "sample: the autoencoder family has no prior");
  EXPECT_ERROR_CONTAINS(ae.log_likelihood({x.data(), 2, 12}, 10, 1), "log_likelihood: the autoencoder family has no prior");
  TrainConfig t;
  t.objective = {Estimator::iw, 5, 1.0f};
  EXPECT_ERROR_CONTAINS(Trainer(ae, t), "the importance-weighted bound needs a prior; the autoencoder family has none");
}

TEST(Families, AutoencoderLearnsToReconstruct) {
  // 8 binary patterns in 16 pixels through a 3-unit code: training must cut
  // the reconstruction error well below the untrained model's 16 log 2 nats.
  ModelConfig c;
  c.family = "autoencoder";
  c.input_dim = 16;
  c.hidden = {32};
  c.latent = 3;
  c.activation = Activation::tanh;
  c.init = Init::glorot;
  Vae ae(c, 3);
  std::vector<float> x(8 * 16);
  for (std::size_t r = 0; r < 8; ++r)
    for (std::size_t d = 0; d < 16; ++d) x[r * 16 + d] = float(((r >> (d % 3)) & 1u) ^ (d / 8));
  TrainConfig t;
  t.batch = 8;
  t.optimizer.kind = OptimizerKind::adam;
  t.optimizer.lr = 1e-2f;
  Trainer trainer(ae, t);
  const double before = ae.evaluate({x.data(), 8, 16}, {}, 1).reconstruction;
  for (int i = 0; i < 1500; ++i) trainer.step({x.data(), 8, 16});
  const double after = ae.evaluate({x.data(), 8, 16}, {}, 1).reconstruction;
  EXPECT_LT(before, -8.0);  // about 16 log 2 = 11.1 nats untrained
  EXPECT_GT(after, -0.5) << "before " << before;
}

}  // namespace
}  // namespace aevb
