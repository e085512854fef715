#pragma once
// The algorithm seam: how a training algorithm turns one minibatch into the
// gradient that the optimizer applies. It decides which noise is drawn and
// which terms of the objective drive which parameters' gradients; the
// Trainer around it owns the optimizer, the step count, the KL warm-up and
// the divergence check, and never asks which algorithm it holds.
// docs/extending.md: how to add one (wake-sleep, Monte Carlo EM, full VB).
#include "model/engine.hpp"

#include <aevb/config.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace aevb {

class TrainingAlgorithm {
 public:
  virtual ~TrainingAlgorithm() = default;
  /// Writes the gradient of the per-datapoint loss on `batch` (rows <=
  /// config.batch) into every entry of engine.grads() for step `step`
  /// (0-based; noise is keyed by it), the objective's KL weighted by
  /// `kl_weight`; returns the batch's bound before the update.
  virtual Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t step, float kl_weight) = 0;
};

struct AlgorithmInfo {
  std::string_view name;
  std::string_view summary;
  std::unique_ptr<TrainingAlgorithm> (*make)(const TrainConfig&, Engine<float>&) = nullptr;
  /// Trains a weight posterior q(theta) (full VB): the model must have one
  /// (ModelConfig::weight_posterior), and every other algorithm refuses it.
  bool trains_weight_posterior = false;
};

std::span<const AlgorithmInfo> algorithms();
/// The algorithm called `name`; throws InputError listing the known ones.
const AlgorithmInfo& find_algorithm(std::string_view name);

}  // namespace aevb
