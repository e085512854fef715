#include "io/checkpoint.hpp"

#include "io/config_json.hpp"
#include "io/model_file.hpp"
#include "model/architecture.hpp"
#include "io/safetensors.hpp"

#include <aevb/error.hpp>
#include <aevb/version.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

using json = nlohmann::json;

/// A non-negative integer field of the "aevb_state" object.
std::uint64_t state_u64(const json& state, const char* key, const std::string& where) {
  const auto it = state.find(key);
  if (it == state.end()) throw InputError(where + ": aevb_state has no \"" + key + "\"");
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(it->get<std::int64_t>());
  throw InputError(where + ": aevb_state." + key + ": expected a non-negative integer, found " + it->dump());
}

// A 1-D tensor of finite values, or empty when it is absent and not `required`.
std::vector<float> flat_state(const safetensors::File& file, std::string_view name, const std::string& source,
                              bool required) {
  const safetensors::Tensor* t = file.find(name);
  const std::string what = source + ": tensor '" + std::string(name) + "'";
  if (!t) {
    if (required) throw InputError(what + " is missing");
    return {};
  }
  if (t->shape.size() != 1)
    throw InputError(what + " should be 1-D, found " + std::to_string(t->shape.size()) + " dimensions");
  const auto bad = std::find_if(t->data.begin(), t->data.end(), [](float v) { return !std::isfinite(v); });
  if (bad != t->data.end())
    throw InputError(what + " holds a non-finite value at index " + std::to_string(bad - t->data.begin()));
  return t->data;
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Vae& model, const TrainConfig& train,
                     std::uint64_t step, std::span<const float> optimizer_state,
                     std::span<const float> algorithm_state, const LoopState& loop) {
  if (!loop.extra.is_object() && !loop.extra.is_null())
    throw std::invalid_argument("save_checkpoint: LoopState::extra must be a JSON object");
  safetensors::Metadata metadata;
  metadata["format"] = kCheckpointFormat;
  metadata["format_version"] = kFormatVersion;
  metadata["aevb_config"] = to_json(model.config()).dump();
  metadata["aevb_version"] = std::string(kVersion);
  metadata["aevb_train_config"] = to_json(train).dump();
  metadata["aevb_state"] = json{{"step", step},
                                {"epoch", loop.epoch},
                                {"batch_in_epoch", loop.batch_in_epoch},
                                {"loop", loop.extra.is_null() ? json::object() : loop.extra}}
                               .dump();

  std::span<const float> params = model.parameters();
  std::vector<safetensors::TensorRef> tensors;
  for (const ParameterInfo& p : model.parameter_table())
    tensors.push_back({p.name, p.shape, params.subspan(p.offset, p.size())});
  tensors.push_back({std::string(kOptimizerStateTensor), {optimizer_state.size()}, optimizer_state});
  if (!algorithm_state.empty())  // only algorithms with state of their own write it
    tensors.push_back({std::string(kAlgorithmStateTensor), {algorithm_state.size()}, algorithm_state});
  safetensors::write_file(path, tensors, metadata);
}

void save_checkpoint(const std::filesystem::path& path, const Vae& model, Trainer& trainer, const LoopState& loop) {
  save_checkpoint(path, model, trainer.config(), trainer.steps(), trainer.optimizer_state(), trainer.algorithm_state(),
                  loop);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const std::string source = path.string();
  const safetensors::File file = safetensors::read_file(path);
  Checkpoint ck;
  ck.model = read_model_config(file, source, {kCheckpointFormat});
  const std::vector<ParameterInfo> table = parameter_table(ck.model);
  check_parameter_tensors(file, table, source, {kOptimizerStateTensor, kAlgorithmStateTensor});

  const std::string where = source + " (__metadata__)";
  const auto train_text = file.metadata.find("aevb_train_config");
  if (train_text == file.metadata.end()) throw InputError(where + ": no \"aevb_train_config\"");
  ck.train = train_config_from_json(parse_json_strict(train_text->second, where + " aevb_train_config"), where,
                                    "aevb_train_config");
  try {
    validate(ck.train.objective);
    validate(ck.train.optimizer);
  } catch (const InputError& e) {
    throw InputError(where + ": " + e.what());
  }
  if (ck.train.batch == 0) throw InputError(where + ": aevb_train_config.batch must be positive");

  const auto state_text = file.metadata.find("aevb_state");
  if (state_text == file.metadata.end()) throw InputError(where + ": no \"aevb_state\"");
  const json state = parse_json_strict(state_text->second, where + " aevb_state");
  if (!state.is_object()) throw InputError(where + ": aevb_state should be an object");
  for (const auto& [key, value] : state.items())
    if (key != "step" && key != "epoch" && key != "batch_in_epoch" && key != "loop")
      throw InputError(where + ": unknown key 'aevb_state." + key + "'");
  ck.step = state_u64(state, "step", where);
  ck.loop.epoch = state_u64(state, "epoch", where);
  ck.loop.batch_in_epoch = state_u64(state, "batch_in_epoch", where);
  if (state.contains("loop")) {
    if (!state["loop"].is_object()) throw InputError(where + ": aevb_state.loop should be an object");
    ck.loop.extra = state["loop"];
  }

  ck.optimizer_state = flat_state(file, kOptimizerStateTensor, source, true);
  ck.algorithm_state = flat_state(file, kAlgorithmStateTensor, source, false);

  std::size_t total = 0;
  for (const ParameterInfo& p : table) total += p.size();  // no overflow: checked against the file
  ck.parameters.resize(total);
  for (const ParameterInfo& p : table) {
    const safetensors::Tensor* t = file.find(p.name);
    std::copy(t->data.begin(), t->data.end(), ck.parameters.begin() + static_cast<std::ptrdiff_t>(p.offset));
  }
  return ck;
}

void restore_checkpoint(const Checkpoint& ck, Vae& model, Trainer& trainer) {
  if (to_json(model.config()) != to_json(ck.model))
    throw InputError("checkpoint: its model config " + to_json(ck.model).dump() + " differs from the model's " +
                     to_json(model.config()).dump());
  if (to_json(trainer.config()) != to_json(ck.train))
    throw InputError("checkpoint: its train config " + to_json(ck.train).dump() + " differs from the trainer's " +
                     to_json(trainer.config()).dump());
  std::span<float> params = model.parameters();
  if (params.size() != ck.parameters.size())
    throw InputError("checkpoint: " + std::to_string(ck.parameters.size()) + " parameters, the model has " +
                     std::to_string(params.size()));
  const std::size_t expected = trainer.optimizer_state().size();
  if (expected != ck.optimizer_state.size())
    throw InputError("checkpoint: the optimizer state has " + std::to_string(ck.optimizer_state.size()) +
                     " values, the trainer's " + std::string(to_string(ck.train.optimizer.kind)) + " optimizer expects " +
                     std::to_string(expected));
  trainer.restore(ck.step, ck.optimizer_state, ck.algorithm_state);  // checks the states' sizes first
  std::copy(ck.parameters.begin(), ck.parameters.end(), params.begin());
}

}  // namespace aevb
