#pragma once
// Configs as JSON, the one schema shared by model files, checkpoints and
// config files (JSON or TOML). Keys are the struct field names; enums use the
// names printed by to_string (config.hpp). A config document looks like
//
//   {"model": {"input_dim": 784, "hidden": [500], "latent": 20, ...},
//    "train": {"objective": {"estimator": "B", "samples": 1, "beta": 1},
//              "optimizer": {"kind": "adagrad", "lr": 0.02, ...},
//              "batch": 100, "seed": 1, "kl_warmup_steps": 0,
//              "matmul_precision": "float32"}}
//
// Reading is strict: an unknown key or a value of the wrong type is an
// InputError naming the file and the key ("cfg.toml: train.optimizer.lr:
// expected a number, found string"). Reading overlays: keys that are absent
// keep the value already in the struct, so defaults, presets, config files and
// flags compose. Reading does not call validate(); callers do, once merged.
#include <aevb/config.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string_view>

namespace aevb {

nlohmann::json to_json(const ModelConfig& config);
nlohmann::json to_json(const ObjectiveConfig& config);
nlohmann::json to_json(const OptimizerConfig& config);
/// {"objective": {...}, "optimizer": {...}, "batch": M, "seed": s, "kl_warmup_steps": w,
///  "matmul_precision": "float32" or "bfloat16"}
nlohmann::json to_json(const TrainConfig& config);

/// Overlays the keys of `j` (a JSON object) onto `config`. `where` names the
/// source (a file) and `path` the object's key path, both for error messages.
void apply_json(const nlohmann::json& j, ModelConfig& config, std::string_view where,
                std::string_view path = "model");
void apply_json(const nlohmann::json& j, CodebookConfig& config, std::string_view where,
                std::string_view path = "model.codebook");
void apply_json(const nlohmann::json& j, ObjectiveConfig& config, std::string_view where,
                std::string_view path = "train.objective");
void apply_json(const nlohmann::json& j, OptimizerConfig& config, std::string_view where,
                std::string_view path = "train.optimizer");
void apply_json(const nlohmann::json& j, TrainConfig& config, std::string_view where,
                std::string_view path = "train");

/// Defaults overlaid with `j` (not validated).
ModelConfig model_config_from_json(const nlohmann::json& j, std::string_view where,
                                   std::string_view path = "model");
TrainConfig train_config_from_json(const nlohmann::json& j, std::string_view where,
                                   std::string_view path = "train");

/// Parses JSON text strictly (a duplicate key is an error too); `where` names
/// the source in the InputError.
nlohmann::json parse_json_strict(std::string_view text, std::string_view where);

/// Reads a config file, `.json` or `.toml` (by extension), into a JSON object
/// with the schema above. Only the syntax is checked here: the top level must
/// be an object/table; TOML dates and times are rejected. The caller picks the
/// sections it knows ("model", "train", and its own) and applies them.
nlohmann::json load_config_file(const std::filesystem::path& path);

}  // namespace aevb
