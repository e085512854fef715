// train_code_prior (code_prior.hpp): Adam on shuffled minibatches of grids.
#include "prior/code_prior.hpp"

#include "core/rng.hpp"
#include "optim/optimizer.hpp"
#include "prior/code_checks.hpp"
#include "prior/gated_pixelcnn.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace aevb {
namespace {

// order = a uniform permutation of [0, order.size()): forward Fisher-Yates
// on the stream (code_prior_shuffle, epoch), as data/dataset.cpp's shuffle.
void shuffle(std::vector<std::uint32_t>& order, std::uint64_t seed, std::uint64_t epoch) {
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<std::uint32_t>(k);
  CounterRng rng(seed, rng_stream(RngPurpose::code_prior_shuffle, epoch));
  for (std::size_t k = 0; k + 1 < order.size(); ++k)
    std::swap(order[k], order[k + rng.below(order.size() - k)]);
}

}  // namespace

void train_code_prior(CodePrior& prior, std::span<const std::uint32_t> train, std::size_t n_train,
                      std::span<const std::uint32_t> test, std::size_t n_test, const CodePriorTraining& training,
                      const std::function<void(const CodePriorEpoch&)>& on_epoch) {
  const CodePriorConfig& config = prior.config();
  check_codes(config, train, n_train, "code prior training grids");
  check_codes(config, test, n_test, "code prior test grids");
  if (n_train == 0) throw InputError("code prior training: no training grids");
  if (n_train > std::numeric_limits<std::uint32_t>::max())
    throw InputError("code prior training: " + std::to_string(n_train) + " grids, more than 2^32 - 1");
  if (training.batch == 0) throw InputError("code prior training: the minibatch size must be at least 1, found 0");
  if (!(training.lr > 0.0f) || !std::isfinite(training.lr))
    throw InputError("code prior training: the learning rate must be positive and finite, found " +
                     std::to_string(training.lr));

  const std::size_t P = config.height * config.width, batch = std::min(training.batch, n_train);
  pixelcnn::GatedPixelCnn<float>& network = prior.network();
  // Every buffer of the loop, sized once: a step allocates nothing.
  network.plan(n_test > 0 ? std::max(batch, prior.chunk_grids()) : batch);
  OptimizerConfig adam;
  adam.kind = OptimizerKind::adam;
  adam.lr = training.lr;
  Optimizer<float> optimizer(adam, prior.parameter_count());
  std::vector<float> grads(prior.parameter_count());
  std::vector<std::uint32_t> order(n_train), minibatch(batch * P);
  const std::span<float> params = prior.parameters();

  std::uint64_t step = 0;
  for (std::size_t epoch = 1; epoch <= training.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    shuffle(order, training.seed, epoch);
    double nats = 0;  // sum over the epoch's grids of their minibatch's mean
    for (std::size_t first = 0; first < n_train; first += batch) {
      const std::size_t rows = std::min(batch, n_train - first);
      for (std::size_t r = 0; r < rows; ++r)
        std::copy_n(train.begin() + static_cast<std::ptrdiff_t>(std::size_t(order[first + r]) * P), P,
                    minibatch.begin() + static_cast<std::ptrdiff_t>(r * P));
      network.forward(params.data(), std::span(minibatch).first(rows * P), rows);
      const double loss = network.backward(params.data(), grads.data());
      ++step;
      if (!std::isfinite(loss) || !all_finite(grads.data(), grads.size()))
        throw NumericError("code prior training: the cross-entropy or its gradient is not finite at step " +
                           std::to_string(step) + " (epoch " + std::to_string(epoch) + "); try a lower learning rate");
      optimizer.apply(params.data(), grads.data(), step);
      nats += loss * double(rows);
    }
    CodePriorEpoch result{epoch, nats / double(n_train), std::numeric_limits<double>::quiet_NaN(), 0};
    if (n_test > 0) result.test_nats = prior.cross_entropy(test, n_test);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (on_epoch) on_epoch(result);
  }
}

}  // namespace aevb
