#pragma once
// What is recorded after each training epoch: the CLI's metrics.jsonl lines,
// the checkpoint's history and the Python module's per-epoch callback all
// receive this one object (docs/cli.md lists its keys).
#include "train/epoch_runner.hpp"

#include <aevb/vae.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace aevb {

/// The true bound (beta = 1) of `model` on the rows of `x` with the training
/// objective's estimator and samples; none for an empty set or a model
/// without an encoder (MCEM's), which has no bound. Given `ranks`, shared
/// out as Vae::evaluate does, with one process's result on every rank.
std::optional<Bound> evaluate_held_out(const Vae& model, ConstMatrix x, const ObjectiveConfig& training_objective,
                                       std::uint64_t seed, Communicator* ranks = nullptr);

/// epoch (1-based), step, samples (seen so far), seconds, samples_per_second,
/// kl_weight, lr (the step size of the epoch's last update), train_reconstruction and train_bound + train_kl (or, for a
/// decoder-only model, train_log_joint: log p(x, z) at MCEM's chains), then
/// validation_* and test_* (bound, reconstruction, kl) where given.
nlohmann::json epoch_metrics(std::uint64_t epoch, const Trainer& trainer, std::uint64_t samples_seen,
                             const EpochResult& result, const std::optional<Bound>& validation,
                             const std::optional<Bound>& test);

}  // namespace aevb
