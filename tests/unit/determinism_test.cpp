// One seed gives bitwise the same training run, whatever the thread count.
#include <aevb/vae.hpp>

#include "backend/cpu/gemm_bf16.hpp"
#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace aevb {
namespace {

constexpr const char* kConv = "conv:8:4:2:1,residual:4,conv:16:4:2:1,dense:32";

// A model large enough that the GEMMs and the kernels go parallel: the MLP
// 784-200-20, or with `encoder` declared layers on 28 x 28 images.
std::vector<float> train_run(int threads, std::uint64_t seed,
                             MatmulPrecision precision = MatmulPrecision::float32, const char* encoder = "",
                             bool codebook = false) {
  set_threads(threads);
  ModelConfig model;
  model.input_dim = 784;
  model.hidden = {200};
  model.latent = 20;
  model.image_height = model.image_width = 28;
  if (*encoder) model.encoder = parse_layers(encoder, "test");
  if (codebook) {  // the vq family: moving averages and restarts drawn from the minibatch
    model.family = "vq";
    model.codebook.codes = 64;
    model.codebook.dim = 8;
    model.latent = 8 * 7 * 7;
    model.likelihood = Likelihood::gaussian_fixed;
  }
  Vae vae(model, seed);
  TrainConfig train;
  train.seed = seed;
  train.objective = {Estimator::B, 2, 1.0f};
  train.optimizer.kind = OptimizerKind::adam;
  train.optimizer.lr = 1e-3f;
  train.matmul_precision = precision;
  Trainer trainer(vae, train);
  std::vector<float> x(train.batch * model.input_dim);
  for (std::uint64_t step = 0; step < 5; ++step) {
    fill_uniform(x.data(), x.size(), 77, step);
    trainer.step({x.data(), train.batch, model.input_dim});
  }
  set_threads(0);
  return {vae.parameters().begin(), vae.parameters().end()};
}

TEST(Determinism, SameSeedSameParameters) {
  EXPECT_EQ(train_run(2, 1), train_run(2, 1));
}

TEST(Determinism, OneAndTwoThreadsGiveIdenticalParameters) {
  EXPECT_EQ(train_run(1, 3), train_run(2, 3));
}

TEST(Determinism, OneAndTwoThreadsGiveIdenticalParametersWithBfloatProducts) {
  if (!backend::bf16_products_available()) GTEST_SKIP() << "no bfloat16 kernel on this machine (neither AMX-BF16 nor AVX512-BF16)";
  EXPECT_EQ(train_run(1, 3, MatmulPrecision::bfloat16), train_run(2, 3, MatmulPrecision::bfloat16));
}

TEST(Determinism, ConvModelIsTheSameOnOneAndTwoThreads) {
  EXPECT_EQ(train_run(1, 3, MatmulPrecision::float32, kConv), train_run(2, 3, MatmulPrecision::float32, kConv));
}

TEST(Determinism, ConvModelIsTheSameOnOneAndTwoThreadsWithBfloatProducts) {
  if (!backend::bf16_products_available()) GTEST_SKIP() << "no bfloat16 kernel on this machine (neither AMX-BF16 nor AVX512-BF16)";
  const std::vector<float> a = train_run(1, 3, MatmulPrecision::bfloat16, kConv);
  EXPECT_EQ(a, train_run(2, 3, MatmulPrecision::bfloat16, kConv));
  EXPECT_NE(a, train_run(2, 3, MatmulPrecision::float32, kConv)) << "the bfloat16 products were not used";
}

TEST(Determinism, VqModelIsTheSameOnOneAndTwoThreads) {
  const char* encoder = "conv:8:4:2:1,conv:16:4:2:1";
  EXPECT_EQ(train_run(1, 3, MatmulPrecision::float32, encoder, true),
            train_run(2, 3, MatmulPrecision::float32, encoder, true));
}

TEST(Determinism, DifferentSeedsDiffer) {
  EXPECT_NE(train_run(2, 1), train_run(2, 2));
}

}  // namespace
}  // namespace aevb
