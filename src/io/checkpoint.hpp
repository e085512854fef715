#pragma once
// Training checkpoints: everything `--resume` needs to continue exactly as an
// uninterrupted run would. A checkpoint is a safetensors file like the model
// file (same parameter tensors, so it loads as a model too) plus the flat
// optimizer state, the train config, the step and the loop's position
// (docs/model-format.md, "Checkpoints"). The RNG is counter-based, keyed by
// (seed, purpose, step or epoch), so seed + step + epoch are its whole state.
// Written atomically: a crash leaves the previous checkpoint intact.
#include <aevb/vae.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace aevb {

/// Where the training loop stands, beyond what the Trainer holds.
struct LoopState {
  std::uint64_t epoch = 0;           // completed epochs
  std::uint64_t batch_in_epoch = 0;  // minibatches done in the current epoch (0 at a boundary)
  /// The CLI's own state (metrics so far, elapsed time, data settings...): a
  /// JSON object stored verbatim.
  nlohmann::json extra = nlohmann::json::object();
};

struct Checkpoint {
  ModelConfig model;
  TrainConfig train;
  std::uint64_t step = 0;                // Trainer::steps()
  LoopState loop;
  std::vector<float> parameters;         // flat, in Vae::parameter_table() order
  std::vector<float> optimizer_state;    // Trainer::optimizer_state(), flat
  std::vector<float> algorithm_state;    // Trainer::algorithm_state(), flat (empty for most algorithms)
};

/// Writes a checkpoint of `model` trained by `trainer` (atomically).
void save_checkpoint(const std::filesystem::path& path, const Vae& model, Trainer& trainer,
                     const LoopState& loop);
/// The same from parts (the trainer's step, config and states).
void save_checkpoint(const std::filesystem::path& path, const Vae& model, const TrainConfig& train,
                     std::uint64_t step, std::span<const float> optimizer_state,
                     std::span<const float> algorithm_state, const LoopState& loop);

/// Reads and checks a checkpoint; InputError naming the file on any problem.
Checkpoint load_checkpoint(const std::filesystem::path& path);

/// Puts the checkpoint into a model and trainer built from it:
///   Checkpoint ck = load_checkpoint(p);
///   Vae model(ck.model); Trainer trainer(model, ck.train);
///   restore_checkpoint(ck, model, trainer);
/// Throws InputError when their configs or sizes differ from the checkpoint's.
void restore_checkpoint(const Checkpoint& checkpoint, Vae& model, Trainer& trainer);

}  // namespace aevb
