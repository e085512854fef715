// The code prior's file (code_prior.hpp): safetensors, the parameters under
// their prior.* names, the config as JSON in __metadata__.
#include "prior/code_prior.hpp"

#include "core/param_layout.hpp"
#include "io/config_json.hpp"
#include "io/json_reader.hpp"
#include "io/model_file.hpp"
#include "prior/gated_pixelcnn.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>

namespace aevb {
namespace {

constexpr std::string_view kFormat = "aevb-code-prior";
constexpr std::string_view kVersionKey = "format_version";
constexpr std::string_view kVersionValue = "1";
constexpr std::string_view kConfigKey = "code_prior_config";
constexpr const char* kReserved[] = {"format", "format_version", "code_prior_config", "aevb_version"};

std::string config_json(const CodePriorConfig& c) {
  return nlohmann::json{{"codes", c.codes},
                        {"height", c.height},
                        {"width", c.width},
                        {"channels", c.channels},
                        {"layers", c.layers}}
      .dump();
}

// The file's config: InputError naming the file unless it is a code prior of
// this format version with a complete, valid config.
CodePriorConfig read_config(const safetensors::File& file, const std::string& source) {
  const auto format = file.metadata.find("format");
  if (format == file.metadata.end())
    throw InputError(source + ": not a code prior: __metadata__ has no \"format\" (expected '" +
                     std::string(kFormat) + "')");
  if (format->second != kFormat)
    throw InputError(source + ": not a code prior: format is '" + format->second + "', expected '" +
                     std::string(kFormat) + "'");
  const auto version = file.metadata.find(std::string(kVersionKey));
  if (version == file.metadata.end() || version->second != kVersionValue)
    throw InputError(source + ": format_version is " +
                     (version == file.metadata.end() ? std::string("missing") : "'" + version->second + "'") +
                     "; this aevb reads code prior version " + std::string(kVersionValue));
  const auto text = file.metadata.find(std::string(kConfigKey));
  if (text == file.metadata.end()) throw InputError(source + ": __metadata__ has no \"code_prior_config\"");
  const std::string where = source + " (__metadata__)";
  const nlohmann::json j = parse_json_strict(text->second, where + " code_prior_config");
  const json_io::ObjectReader reader(j, where, "code_prior_config", {"codes", "height", "width", "channels", "layers"});
  CodePriorConfig config;
  for (const auto& [key, field] : {std::pair{"codes", &config.codes}, std::pair{"height", &config.height},
                                   std::pair{"width", &config.width}, std::pair{"channels", &config.channels},
                                   std::pair{"layers", &config.layers}}) {
    if (!reader.get(key)) throw InputError(where + ": code_prior_config has no \"" + key + "\"");
    reader.read(key, *field);
  }
  try {
    validate(config);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  return config;
}

}  // namespace

void save_code_prior(const std::filesystem::path& path, const CodePrior& prior, const safetensors::Metadata& extra) {
  safetensors::Metadata metadata = extra;
  for (const char* key : kReserved)
    if (metadata.count(key))
      throw std::invalid_argument(std::string("save_code_prior: metadata key '") + key + "' is reserved");
  metadata["format"] = kFormat;
  metadata[std::string(kVersionKey)] = kVersionValue;
  metadata[std::string(kConfigKey)] = config_json(prior.config());
  metadata["aevb_version"] = std::string(kVersion);
  const std::span<const float> params = prior.parameters();
  std::vector<safetensors::TensorRef> tensors;
  for (const ParameterInfo& p : prior.parameter_table())
    tensors.push_back({p.name, p.shape, params.subspan(p.offset, p.size())});
  safetensors::write_file(path, tensors, metadata);
}

CodePrior load_code_prior(const std::filesystem::path& path, safetensors::Metadata* extra) {
  const std::string source = path.string();
  const safetensors::File file = safetensors::read_file(path);
  const CodePriorConfig config = read_config(file, source);
  // Checked against the file before the network is allocated: its size is
  // now bounded by the file's.
  ParamLayout layout;
  pixelcnn::register_parameters(config, layout);
  check_parameter_tensors(file, layout.table(), source);
  CodePrior prior(config);
  const std::span<float> params = prior.parameters();
  for (const ParameterInfo& p : prior.parameter_table()) {
    const safetensors::Tensor* t = file.find(p.name);
    std::copy(t->data.begin(), t->data.end(), params.begin() + static_cast<std::ptrdiff_t>(p.offset));
  }
  if (extra) {
    *extra = file.metadata;
    for (const char* key : kReserved) extra->erase(key);
  }
  return prior;
}

}  // namespace aevb
