// A program outside the project that uses the installed aevb: it is built
// against an install prefix by find_package(aevb) and by pkg-config
// (tests/package/consumer_test.sh). It trains a few steps of a small VAE on
// fixed data and checks that the bound rose, so that the library links and
// runs, not only compiles.
#include <aevb/vae.hpp>
#include <aevb/version.hpp>

#include <cstdio>
#include <vector>

int main() {
  aevb::ModelConfig config;
  config.input_dim = 16;
  config.hidden = {8};
  config.latent = 2;
  aevb::Vae model(config, 1);
  aevb::TrainConfig train;
  train.batch = 32;
  train.optimizer.lr = 0.1f;
  aevb::Trainer trainer(model, train);
  std::vector<float> x(32 * 16);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 == 0) ? 1.0f : 0.0f;
  const double first = trainer.step({x.data(), 32, 16}).bound;
  double last = first;
  for (int s = 0; s < 200; ++s) last = trainer.step({x.data(), 32, 16}).bound;
  std::printf("aevb %.*s: bound %.3f -> %.3f\n", int(aevb::kVersion.size()), aevb::kVersion.data(), first, last);
  return last > first ? 0 : 1;
}
