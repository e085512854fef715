#pragma once
// The model file: safetensors with every parameter as a named float32 tensor
// in PyTorch's conventions and the model config as JSON in __metadata__
// (docs/model-format.md). PyTorch can load it; aevb loads it back exactly.
#include "io/safetensors.hpp"

#include <aevb/vae.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace aevb {

inline constexpr std::string_view kModelFormat = "aevb-vae";
inline constexpr std::string_view kCheckpointFormat = "aevb-checkpoint";
/// A checkpoint's tensors beside the parameters: the optimizer's state, and
/// the training algorithm's own (MCEM's chains; absent where it has none).
inline constexpr std::string_view kOptimizerStateTensor = "optimizer.state";
inline constexpr std::string_view kAlgorithmStateTensor = "algorithm.state";
inline constexpr std::string_view kFormatVersion = "1";

/// Writes `model` to `path` atomically. `extra` adds metadata entries (string
/// values; "format", "format_version" and "aevb_config" are reserved).
void save_model(const std::filesystem::path& path, const Vae& model, const safetensors::Metadata& extra = {});

/// Reads a model file (or the model inside a checkpoint). Throws InputError
/// naming the file and the tensor when the file does not hold exactly the
/// network its config describes: a missing, extra or misshapen tensor, a
/// non-finite value, a bad or unsupported config.
Vae load_model(const std::filesystem::path& path);

/// What `aevb info` shows, read and checked like load_model but without
/// building the network.
struct ModelFileInfo {
  std::string format;                  // kModelFormat or kCheckpointFormat
  ModelConfig config;
  safetensors::Metadata metadata;      // all of __metadata__
  std::vector<ParameterInfo> tensors;  // the parameters, in file order
  std::size_t parameter_count = 0;
};
ModelFileInfo inspect_model(const std::filesystem::path& path);

// ---- shared with checkpoint.cpp ------------------------------------------

/// The checked config of a parsed aevb file: "format" must be one of
/// `formats`, "format_version" supported, "aevb_config" a valid ModelConfig.
ModelConfig read_model_config(const safetensors::File& file, const std::string& source,
                              std::initializer_list<std::string_view> formats);

/// Checks that the file holds exactly the tensors of `table` (plus the names
/// in `extra`, which the caller checks) with the table's shapes and finite
/// values; InputError naming the tensor otherwise.
void check_parameter_tensors(const safetensors::File& file, const std::vector<ParameterInfo>& table,
                             const std::string& source, std::initializer_list<std::string_view> extra = {});

/// Copies the file's parameter tensors into `model` by name.
void copy_parameters(const safetensors::File& file, Vae& model);

}  // namespace aevb
