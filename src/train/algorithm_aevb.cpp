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
    fill_normal(eps_.data(), batch.rows * objective_.samples * engine.noise_dim(), seed_,
                rng_stream(RngPurpose::eps, step));
    ObjectiveConfig objective = objective_;
    objective.beta = kl_weight;
    // The gradient is written, not added: no zero-grad pass over the buffer.
    return engine.forward_backward(batch, eps_.data(), objective, GradMode::overwrite);
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
