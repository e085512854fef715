#include "code_prior_use.hpp"

#include <aevb/communicator.hpp>
#include <aevb/error.hpp>

#include <cstdio>

namespace aevb::cli {

std::filesystem::path default_prior_path(const std::filesystem::path& model_path) {
  return model_path.parent_path() / "prior.safetensors";
}

std::string model_checksum(const Vae& model) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx",
                static_cast<unsigned long long>(checksum(model.parameters().data(), model.parameters().size_bytes())));
  return hex;
}

std::optional<CodePrior> find_code_prior(const Vae& model, const std::filesystem::path& model_path,
                                         const std::string& flag) {
  std::filesystem::path path = flag;
  if (flag.empty()) {
    path = default_prior_path(model_path);
    if (!std::filesystem::exists(path)) return std::nullopt;
  }
  safetensors::Metadata extra;
  CodePrior prior = load_code_prior(path, &extra);
  const CodeGrid grid = model.code_grid();
  const CodePriorConfig& c = prior.config();
  const std::size_t height = grid.height > 0 ? grid.height : 1, width = grid.height > 0 ? grid.width : grid.positions;
  if (c.codes != grid.codes || c.height != height || c.width != width)
    throw InputError(path.string() + ": a prior over " + std::to_string(c.height) + "x" + std::to_string(c.width) +
                     " grids of " + std::to_string(c.codes) + " codes; " + model_path.string() + " has " +
                     std::to_string(height) + "x" + std::to_string(width) + " grids of " + std::to_string(grid.codes));
  const auto recorded = extra.find("model_checksum");
  if (recorded == extra.end() || recorded->second != model_checksum(model))
    throw InputError(path.string() + ": the prior was trained on the codes of another model than " +
                     model_path.string() + " (its parameters' checksum differs): train one for it with aevb "
                     "train-prior --model " + model_path.string());
  return prior;
}

}  // namespace aevb::cli
