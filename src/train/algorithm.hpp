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

/// A minibatch as the epoch loop gathered it: its rows and each row's index
/// in the training set, the key of per-datapoint state (MCEM's chains).
struct Minibatch {
  ConstMatrix x;
  std::span<const std::uint32_t> indices;  // [x.rows]; empty where the caller has none
};

class TrainingAlgorithm {
 public:
  virtual ~TrainingAlgorithm() = default;
  /// Optimizer updates per minibatch: the Trainer calls gradient() this many
  /// times on one batch, an update after each (MCEM's M steps; 1 otherwise).
  virtual std::size_t updates_per_batch() const { return 1; }
  /// Called once per minibatch, before its updates, at the step of the first
  /// (MCEM's E step); nothing by default.
  virtual void begin_batch(Engine<float>& /*engine*/, const Minibatch& /*batch*/, std::uint64_t /*step*/) {}
  /// Writes the gradient of the per-datapoint loss on `batch` (rows <=
  /// config.batch) into every entry of engine.grads() for step `step`
  /// (0-based; noise is keyed by it), the objective's KL weighted by
  /// `kl_weight`; returns the batch's bound before the update.
  virtual Bound gradient(Engine<float>& engine, ConstMatrix batch, std::uint64_t step, float kl_weight) = 0;
  /// Whether gradient_of_rows is implemented, so that the Trainer can cut a
  /// minibatch into shards computed apart (TrainConfig::shards): the
  /// algorithm's gradient is a mean over datapoints, each datapoint's term
  /// depending on its row alone. False by default.
  virtual bool shardable() const { return false; }
  /// gradient() of rows [first, first + count) of `batch` alone: the mean
  /// over those rows, with the noise they get in the whole batch's gradient().
  /// Only called when shardable().
  virtual Bound gradient_of_rows(Engine<float>& engine, ConstMatrix batch, std::size_t first, std::size_t count,
                                 std::uint64_t step, float kl_weight);
  /// What persists from one minibatch to the next besides the parameters and
  /// the optimizer (MCEM's chains), as one flat buffer that checkpoints save
  /// and restore; empty by default.
  virtual std::span<float> state() { return {}; }
};

struct AlgorithmInfo {
  std::string_view name;
  std::string_view summary;
  std::unique_ptr<TrainingAlgorithm> (*make)(const TrainConfig&, Engine<float>&) = nullptr;
  /// Trains a weight posterior q(theta) (full VB): the model must have one
  /// (ModelConfig::weight_posterior), and every other algorithm refuses it.
  bool trains_weight_posterior = false;
  /// Trains the encoder q(z|x): false for an algorithm whose model has none
  /// (MCEM; ModelConfig::decoder_only), which every other algorithm refuses.
  bool trains_encoder = true;
  /// A batch method (MCEM): the command line's minibatch is the whole
  /// training set, and --batch is refused.
  bool batch_method = false;
};

std::span<const AlgorithmInfo> algorithms();
/// The algorithm called `name`; throws InputError listing the known ones.
const AlgorithmInfo& find_algorithm(std::string_view name);

}  // namespace aevb
