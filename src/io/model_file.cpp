#include "io/model_file.hpp"

#include "io/config_json.hpp"
#include "model/architecture.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

ModelConfig read_model_config(const safetensors::File& file, const std::string& source,
                              std::initializer_list<std::string_view> formats) {
  std::string expected;
  for (auto f : formats) expected += (expected.empty() ? "'" : " or '") + std::string(f) + "'";
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end())
    throw InputError(source + ": not an aevb file: __metadata__ has no \"format\" (expected " + expected + ")");
  bool known = false;
  for (auto f : formats) known = known || format->second == f;
  if (!known)
    throw InputError(source + ": format is '" + format->second + "', expected " + expected);
  const auto version = file.metadata.find("format_version");
  if (version == file.metadata.end() || version->second != kFormatVersion)
    throw InputError(source + ": format_version is " +
                     (version == file.metadata.end() ? std::string("missing") : "'" + version->second + "'") +
                     "; this aevb reads version " + std::string(kFormatVersion));
  const auto text = file.metadata.find("aevb_config");
  if (text == file.metadata.end()) throw InputError(source + ": __metadata__ has no \"aevb_config\"");
  const std::string where = source + " (__metadata__)";
  ModelConfig config = model_config_from_json(parse_json_strict(text->second, where + " aevb_config"), where,
                                              "aevb_config");
  try {
    validate(config);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return config;
}

void check_parameter_tensors(const safetensors::File& file, const std::vector<ParameterInfo>& table,
                             const std::string& source, std::initializer_list<std::string_view> extra) {
  for (const ParameterInfo& p : table) {
    const safetensors::Tensor* t = file.find(p.name);
    if (!t) throw InputError(source + ": tensor '" + p.name + "' is missing; the config's network needs it with shape " +
                             shape_string(p.shape));
    if (t->shape != p.shape)
      throw InputError(source + ": tensor '" + p.name + "' has shape " + shape_string(t->shape) + ", expected " +
                       shape_string(p.shape) + " from the config");
    for (std::size_t i = 0; i < t->data.size(); ++i)
      if (!std::isfinite(t->data[i]))
        throw InputError(source + ": tensor '" + p.name + "' holds a non-finite value at index " + std::to_string(i));
  }
  for (const safetensors::Tensor& t : file.tensors) {
    bool known = false;
    for (const ParameterInfo& p : table) known = known || p.name == t.name;
    for (auto e : extra) known = known || t.name == e;
    if (!known)
      throw InputError(source + ": unexpected tensor '" + t.name + "'; the config's network has no such parameter");
  }
}

void copy_parameters(const safetensors::File& file, Vae& model) {
  std::span<float> params = model.parameters();
  for (const ParameterInfo& p : model.parameter_table()) {
    const safetensors::Tensor* t = file.find(p.name);
    if (!t || t->shape != p.shape || p.offset + t->data.size() > params.size())
      throw std::logic_error("model file: tensor '" + p.name +
                             "' does not match the engine's parameter table (docs/model-format.md out of date?)");
    std::copy(t->data.begin(), t->data.end(), params.begin() + static_cast<std::ptrdiff_t>(p.offset));
  }
}

void save_model(const std::filesystem::path& path, const Vae& model, const safetensors::Metadata& extra) {
  safetensors::Metadata metadata = extra;
  for (const char* key : {"format", "format_version", "aevb_config", "aevb_version"})
    if (metadata.count(key)) throw std::invalid_argument(std::string("save_model: metadata key '") + key + "' is reserved");
  metadata["format"] = kModelFormat;
  metadata["format_version"] = kFormatVersion;
  metadata["aevb_config"] = to_json(model.config()).dump();
  metadata["aevb_version"] = std::string(kVersion);

  std::span<const float> params = model.parameters();
  std::vector<safetensors::TensorRef> tensors;
  for (const ParameterInfo& p : model.parameter_table())
    tensors.push_back({p.name, p.shape, params.subspan(p.offset, p.size())});
  safetensors::write_file(path, tensors, metadata);
}

namespace {

// A model file holds the parameters; a checkpoint also its training state.
void check_file_tensors(const safetensors::File& file, const std::vector<ParameterInfo>& table,
                        const std::string& source) {
  if (file.metadata.at("format") == kCheckpointFormat)
    check_parameter_tensors(file, table, source, {kOptimizerStateTensor, kAlgorithmStateTensor});
  else
    check_parameter_tensors(file, table, source);
}

}  // namespace

ModelFileInfo inspect_model(const std::filesystem::path& path) {
  const std::string source = path.string();
  const safetensors::File file = safetensors::read_file(path);
  ModelFileInfo info;
  info.config = read_model_config(file, source, {kModelFormat, kCheckpointFormat});
  info.format = file.metadata.at("format");
  info.metadata = file.metadata;
  const std::vector<ParameterInfo> table = parameter_table(info.config);
  check_file_tensors(file, table, source);
  info.tensors = table;
  for (const ParameterInfo& p : table) info.parameter_count += p.size();
  return info;
}

Vae load_model(const std::filesystem::path& path) {
  const std::string source = path.string();
  const safetensors::File file = safetensors::read_file(path);
  const ModelConfig config = read_model_config(file, source, {kModelFormat, kCheckpointFormat});
  // Checked against the file before the network is allocated: its size is
  // now bounded by the file's.
  check_file_tensors(file, parameter_table(config), source);
  Vae model(config);
  copy_parameters(file, model);
  return model;
}

}  // namespace aevb
