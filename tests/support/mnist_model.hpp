#pragma once
// A small MNIST VAE trained in a test, briefly but for real: one hidden tanh
// layer, Glorot init (trains faster than the paper's N(0, 0.01^2)), Adam at
// 1e-3, 5 epochs over fixed binarized images in minibatches of 100.
#include "train/epoch_runner.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <vector>

namespace aevb::test {

inline Vae train_small_mnist_vae(const Dataset& train, std::size_t hidden, std::size_t latent) {
  ModelConfig c;
  c.input_dim = 784;
  c.hidden = {hidden};
  c.latent = latent;
  c.image_height = c.image_width = 28;
  c.init = Init::glorot;
  Vae vae(c, 1);
  TrainConfig t;
  t.optimizer.kind = OptimizerKind::adam;
  t.optimizer.lr = 1e-3f;
  Trainer trainer(vae, t);
  const std::vector<float> xs = gather_all(train, Binarize::fixed, 1, 0);
  for (int epoch = 0; epoch < 5; ++epoch)
    for (std::size_t first = 0; first + t.batch <= train.count; first += t.batch)
      trainer.step({xs.data() + first * 784, t.batch, 784});
  return vae;
}

}  // namespace aevb::test
