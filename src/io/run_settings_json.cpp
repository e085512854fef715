#include "io/run_settings_json.hpp"

#include "io/config_json.hpp"
#include "io/json_reader.hpp"

#include <string>

namespace aevb {

using json = nlohmann::json;

json to_json(const RunSettings& s) {
  return json{{"model", to_json(s.model)},
              {"train", to_json(s.train)},
              {"run",
               {{"data", s.data},
                {"limit", s.limit},
                {"scaling", std::string(to_string(s.scaling))},
                {"color", std::string(to_string(s.color))},
                {"binarize", std::string(to_string(s.binarize))},
                {"epochs", s.epochs},
                {"validation", s.validation},
                {"test_eval_limit", s.test_eval_limit},
                {"kl_warmup_epochs", s.kl_warmup_epochs},
                {"prior_weight_decay", s.prior_weight_decay},
                {"output_bias", std::string(to_string(s.output_bias))},
                {"pretrain_epochs", s.pretrain_epochs}}}};
}

void apply_run_config(const json& document, RunSettings& s, std::string_view where) {
  json_io::ObjectReader top(document, where, "", {"preset", "model", "train", "run"});
  std::string preset;
  top.read("preset", preset);
  if (!preset.empty()) s = preset_settings(preset);
  top.read_object("model", s.model);
  top.read_object("train", s.train);
  if (const json* run = top.get("run")) {
    json_io::ObjectReader r(*run, where, "run",
                            {"data", "limit", "scaling", "color", "binarize", "epochs", "validation", "test_eval_limit",
                             "kl_warmup_epochs", "prior_weight_decay", "output_bias", "pretrain_epochs"});
    r.read("data", s.data);
    r.read("limit", s.limit);
    r.read_enum("scaling", s.scaling, &parse_scaling);
    r.read_enum("color", s.color, &parse_color_mode);
    r.read_enum("binarize", s.binarize, &parse_binarize);
    r.read("epochs", s.epochs);
    r.read("validation", s.validation);
    r.read("test_eval_limit", s.test_eval_limit);
    r.read("kl_warmup_epochs", s.kl_warmup_epochs);
    r.read("prior_weight_decay", s.prior_weight_decay);
    r.read_enum("output_bias", s.output_bias, &parse_output_bias);
    r.read("pretrain_epochs", s.pretrain_epochs);
  }
}

}  // namespace aevb
