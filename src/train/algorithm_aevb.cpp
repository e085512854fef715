// AEVB (Algorithm 1): eps ~ N(0, I) for each of the L samples of each
// datapoint, keyed by (seed, step), and the gradient of the minibatch
// estimator (eq. 8, per datapoint) with respect to the generative and the
// recognition parameters together, through the reparameterization.
#include "train/algorithms.hpp"

#include "core/rng.hpp"

#include <vector>

namespace aevb {
namespace {

class Aevb final : public TrainingAlgorithm {
 public:
  Aevb(const TrainConfig& config, const Engine<float>& engine)
      : objective_(config.objective),
        seed_(config.seed),
        eps_(config.batch * config.objective.samples * engine.noise_dim()) {}

  Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t step, float kl_weight) override {
    return gradient_of_rows(engine, batch, 0, batch.rows, step, kl_weight);
  }

  bool shardable() const override { return true; }

  // One stream of noise per step, in row order: rows [first, first + count)
  // get the values at their place in it, as in the whole batch.
  Bound gradient_of_rows(Engine<float>& engine, ConstMatrix batch, std::size_t first, std::size_t count,
                         std::uint64_t step, float kl_weight) override {
    const std::size_t per_row = objective_.samples * engine.noise_dim();
    fill_normal(eps_.data(), count * per_row, seed_, rng_stream(RngPurpose::eps, step), first * per_row);
    ObjectiveConfig objective = objective_;
    objective.beta = kl_weight;
    // The gradient is written, not added: no zero-grad pass over the buffer.
    return engine.forward_backward({batch.row(first), count, batch.cols}, eps_.data(), objective,
                                   GradMode::overwrite);
  }

 private:
  ObjectiveConfig objective_;
  std::uint64_t seed_;
  std::vector<float> eps_;  // [batch * samples, noise_dim], drawn anew each step
};

}  // namespace

std::unique_ptr<TrainingAlgorithm> make_aevb(const TrainConfig& config, Engine<float>& engine) {
  return std::make_unique<Aevb>(config, engine);
}

}  // namespace aevb
