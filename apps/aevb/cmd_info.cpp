// aevb info: what a model file (or checkpoint) holds: its format, the full
// model config, the parameter count, every tensor's name and shape, and the
// rest of its metadata (what training recorded). Reads and checks the file
// without building the network.
#include "commands.hpp"

#include "io/config_json.hpp"
#include "io/model_file.hpp"

#include <aevb/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace aevb::cli {
namespace {

struct InfoFlags {
  std::string model_path;
  bool json = false;
};

// Keys shown in their own sections, not among the other metadata.
bool is_reserved(const std::string& key) {
  return key == "format" || key == "format_version" || key == "aevb_config" || key == "aevb_version";
}

std::string shape_text(const std::vector<std::size_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A metadata value as JSON: objects and arrays stored as text are embedded as
// such, everything else stays the string it is.
nlohmann::json metadata_value(const std::string& text) {
  if (!text.empty() && (text.front() == '{' || text.front() == '[')) {
    nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() || j.is_array()) return j;
  }
  return text;
}

nlohmann::json info_json(const std::string& path, const ModelFileInfo& info) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const ParameterInfo& t : info.tensors)
    tensors.push_back({{"name", t.name}, {"shape", t.shape}, {"offset", t.offset}, {"size", t.size()}});
  nlohmann::json metadata = nlohmann::json::object();
  for (const auto& [key, value] : info.metadata)
    if (!is_reserved(key)) metadata[key] = metadata_value(value);
  const auto version = info.metadata.find("format_version");
  const auto written_by = info.metadata.find("aevb_version");  // absent in files of aevb before 0.1.0
  return {{"path", path},
          {"format", info.format},
          {"format_version", version == info.metadata.end() ? "" : version->second},
          {"written_by", written_by == info.metadata.end() ? "" : "aevb " + written_by->second},
          {"reader", "aevb " + std::string(kVersion)},
          {"config", to_json(info.config)},
          {"parameter_count", info.parameter_count},
          {"tensors", tensors},
          {"metadata", metadata}};
}

void print_text(const nlohmann::json& j) {
  std::printf("%s\n", j["path"].get<std::string>().c_str());
  std::printf("format: %s (version %s)\n", j["format"].get<std::string>().c_str(),
              j["format_version"].get<std::string>().c_str());
  const std::string written_by = j["written_by"].get<std::string>();
  std::printf("written by: %s; read by %s\n", written_by.empty() ? "an aevb without a version record" : written_by.c_str(),
              j["reader"].get<std::string>().c_str());
  std::printf("config:\n");
  for (const auto& [key, value] : j["config"].items())
    std::printf("  %-16s %s\n", key.c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
  std::printf("parameters: %zu in %zu tensors\n", j["parameter_count"].get<std::size_t>(), j["tensors"].size());
  // The name column is as wide as the longest name (latent.encoder.logvar.weight: 28).
  int name_width = 24;
  for (const auto& t : j["tensors"]) name_width = std::max(name_width, int(t["name"].get<std::string>().size()));
  for (const auto& t : j["tensors"])
    std::printf("  %-*s %-14s %zu\n", name_width, t["name"].get<std::string>().c_str(),
                shape_text(t["shape"].get<std::vector<std::size_t>>()).c_str(), t["size"].get<std::size_t>());
  if (j["metadata"].empty()) return;
  std::printf("metadata:\n");
  for (const auto& [key, value] : j["metadata"].items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    // Checkpoints carry long JSON (settings, every epoch's metrics): summarize it.
    if (text.size() > 160) text = "<" + std::string(value.is_string() ? "text" : "JSON") + ", " +
                                  std::to_string(text.size()) + " characters; see --json>";
    std::printf("  %-18s %s\n", key.c_str(), text.c_str());
  }
}

void run_info(const InfoFlags& f) {
  const ModelFileInfo info = inspect_model(f.model_path);
  const nlohmann::json j = info_json(f.model_path, info);
  if (f.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    print_text(j);
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  auto flags = std::make_shared<InfoFlags>();
  CLI::App* cmd = app.add_subcommand(
      "info", "show a model file's format, config, tensors and metadata");
  cmd->footer(
      "Prints the format (model or checkpoint), every field of the model config, the parameter count, each "
      "tensor's name, shape and size, and the other metadata (what training recorded). Works on model files and "
      "checkpoints; the file is fully checked, the network is not built.");
  cmd->add_option("MODEL", flags->model_path, "model file (model.safetensors) or checkpoint")->required();
  cmd->add_flag("--json", flags->json,
                "print JSON: path, format, format_version, config, parameter_count, tensors [{name, shape, offset, "
                "size}], metadata (values holding JSON objects or arrays are embedded as such)");
  cmd->callback([flags] { run_info(*flags); });
}

}  // namespace aevb::cli
