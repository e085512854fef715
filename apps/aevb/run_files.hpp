#pragma once
// The files of a run directory and how train, report and resume use them:
//   checkpoint.safetensors  model + optimizer + step + settings + metrics (resume)
//   model.safetensors       the model (PyTorch-loadable, docs/model-format.md)
//   metrics.jsonl           one line per epoch
//   curve.svg, curve.png, samples.png, reconstructions.png, manifold.png, report.html   figures
//   eval.json               written by `aevb eval --json --out-json`, shown in the report
#include "io/checkpoint.hpp"
#include "train/epoch_runner.hpp"
#include "train/run_settings.hpp"

#include <aevb/vae.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <vector>

namespace aevb::cli {

struct RunPaths {
  explicit RunPaths(std::filesystem::path run_dir) : dir(std::move(run_dir)) {}
  std::filesystem::path dir;
  std::filesystem::path checkpoint() const { return dir / "checkpoint.safetensors"; }
  std::filesystem::path model() const { return dir / "model.safetensors"; }
  std::filesystem::path metrics() const { return dir / "metrics.jsonl"; }
  std::filesystem::path curve() const { return dir / "curve.svg"; }
  std::filesystem::path curve_png() const { return dir / "curve.png"; }
  std::filesystem::path samples() const { return dir / "samples.png"; }
  std::filesystem::path reconstructions() const { return dir / "reconstructions.png"; }
  std::filesystem::path manifold() const { return dir / "manifold.png"; }
  std::filesystem::path code_usage() const { return dir / "code_usage.png"; }
  std::filesystem::path evaluation() const { return dir / "eval.json"; }
  std::filesystem::path report() const { return dir / "report.html"; }
};

/// InputError when `paths.dir` already holds a run and `overwrite` is false.
void require_fresh_run_directory(const RunPaths& paths, bool overwrite);

/// The settings and the per-epoch metrics stored in a checkpoint.
RunSettings settings_from_checkpoint(const Checkpoint& checkpoint, const std::string& where);
/// The metrics: InputError naming `source` (the checkpoint) where one is not an object of numbers.
std::vector<nlohmann::json> metrics_from_checkpoint(const Checkpoint& checkpoint, const std::string& source);

/// After an epoch: model.safetensors, metrics.jsonl, then the checkpoint, each atomic.
void save_run_state(const RunPaths& paths, const Vae& model, Trainer& trainer, const RunSettings& settings,
                    const std::vector<nlohmann::json>& metrics, std::uint64_t epochs_done, const std::string& source);

/// Inside an epoch (by wall time, or on a stop signal): the checkpoint alone,
/// with the epoch's position `at` after `epochs_done` epochs; the model file
/// and metrics.jsonl stay those of the last epoch end written.
void save_mid_epoch_checkpoint(const RunPaths& paths, const Vae& model, Trainer& trainer, const RunSettings& settings,
                               const std::vector<nlohmann::json>& metrics, std::uint64_t epochs_done,
                               const EpochPosition& at);

/// Where the checkpoint's epoch stands: the start of one, or the position a
/// mid-epoch checkpoint stored; InputError naming `source` when it is malformed.
EpochPosition epoch_position_from_checkpoint(const Checkpoint& checkpoint, const std::string& source);

/// curve.svg and .png, samples.png, reconstructions.png (from `examples`), manifold.png and report.html.
void write_run_report(const RunPaths& paths, const Vae& model, const Dataset& examples, Binarize binarize,
                      std::uint64_t seed);

}  // namespace aevb::cli
