#pragma once
// RunSettings as a config document: {"preset": ..., "model": {...},
// "train": {...}, "run": {"data", "limit", "scaling", "color", "binarize", "epochs",
// "validation", "test_eval_limit", "kl_warmup_epochs", "prior_weight_decay",
// "output_bias", "pretrain_epochs"}}.
// The same document is stored in checkpoints, so `--resume` needs no flags.
#include "train/run_settings.hpp"

#include <nlohmann/json.hpp>

#include <string_view>

namespace aevb {

nlohmann::json to_json(const RunSettings& settings);

/// Overlays a config document onto `settings`: a "preset" key first replaces
/// them by that preset, then "model", "train" and "run" are applied. Strict:
/// unknown keys are errors naming `where`.
void apply_run_config(const nlohmann::json& document, RunSettings& settings, std::string_view where);

}  // namespace aevb
