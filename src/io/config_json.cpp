#include "io/config_json.hpp"

#include "io/file_bytes.hpp"
#include "io/json_reader.hpp"
#include "optim/lr_schedule.hpp"

#include <aevb/error.hpp>

#include <toml++/toml.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace aevb {
namespace {

using json = nlohmann::json;
using json_io::ObjectReader;
using json_io::float_json;
using json_io::describe;

/// Converts a parsed TOML node to JSON; `path` names it in errors.
json toml_to_json(const toml::node& node, const std::string& where, const std::string& path) {
  if (const auto* table = node.as_table()) {
    json out = json::object();
    for (const auto& [key, value] : *table) {
      const std::string k(key.str());
      out[k] = toml_to_json(value, where, path.empty() ? k : path + "." + k);
    }
    return out;
  }
  if (const auto* array = node.as_array()) {
    json out = json::array();
    for (std::size_t i = 0; i < array->size(); ++i)
      out.push_back(toml_to_json(*array->get(i), where, path + "[" + std::to_string(i) + "]"));
    return out;
  }
  if (const auto* s = node.as_string()) return json(s->get());
  if (const auto* i = node.as_integer()) return json(i->get());
  if (const auto* f = node.as_floating_point()) return json(f->get());
  if (const auto* b = node.as_boolean()) return json(b->get());
  throw InputError(where + ": " + path + ": dates and times are not config values");
}

}  // namespace

json to_json(const ModelConfig& c) {
  json j{{"family", c.family},
         {"input_dim", c.input_dim},
         {"hidden", c.hidden},
         {"encoder", to_string(c.encoder)},
         {"decoder", to_string(c.decoder)},
         {"latent", c.latent},
         {"activation", std::string(to_string(c.activation))},
         {"leaky_slope", float_json(c.leaky_slope)},
         {"likelihood", std::string(to_string(c.likelihood))},
         {"sigmoid_mean", c.sigmoid_mean},
         {"fixed_variance", float_json(c.fixed_variance)},
         {"init", std::string(to_string(c.init))},
         {"image_height", c.image_height},
         {"image_width", c.image_width},
         {"image_channels", c.image_channels}};
  // Written only when set, so that every other model's file reads as before.
  if (c.weight_posterior) j["weight_posterior"] = true;
  if (c.decoder_only) j["decoder_only"] = true;
  if (c.top_latent > 0) {
    j["top_latent"] = c.top_latent;
    j["top_hidden"] = c.top_hidden;
  }
  if (c.clusters > 0) {
    j["clusters"] = c.clusters;
    j["classifier_hidden"] = c.classifier_hidden;
  }
  if (c.classes > 0) j["classes"] = c.classes;
  if (!(c.codebook == CodebookConfig{}))
    j["codebook"] = json{{"codes", c.codebook.codes},
                         {"dim", c.codebook.dim},
                         {"commitment", float_json(c.codebook.commitment)},
                         {"update", std::string(to_string(c.codebook.update))},
                         {"decay", float_json(c.codebook.decay)},
                         {"restarts", c.codebook.restarts}};
  return j;
}

json to_json(const ObjectiveConfig& c) {
  return json{{"estimator", std::string(to_string(c.estimator))},
              {"samples", c.samples},
              {"beta", float_json(c.beta)}};
}

json to_json(const OptimizerConfig& c) {
  return json{{"kind", std::string(to_string(c.kind))},
              {"lr", float_json(c.lr)},
              {"momentum", float_json(c.momentum)},
              {"beta1", float_json(c.beta1)},
              {"beta2", float_json(c.beta2)},
              {"eps", float_json(c.eps)},
              {"weight_decay", float_json(c.weight_decay)},
              {"clip_norm", float_json(c.clip_norm)},
              {"lr_schedule", to_spec(c.schedule)},
              {"lr_warmup_steps", c.lr_warmup_steps}};
}

json to_json(const TrainConfig& c) {
  return json{{"algorithm", c.algorithm},
              {"rws_q", c.rws_q},
              {"datapoints", c.datapoints},
              {"objective", to_json(c.objective)},
              {"optimizer", to_json(c.optimizer)},
              {"batch", c.batch},
              {"seed", c.seed},
              {"kl_warmup_steps", c.kl_warmup_steps},
              {"matmul_precision", std::string(to_string(c.matmul_precision))},
              {"shards", c.shards}};
}

void apply_json(const json& j, ModelConfig& c, std::string_view where, std::string_view path) {
  ObjectReader r(j, where, path,
                 {"family", "input_dim", "hidden", "encoder", "decoder", "latent", "activation", "leaky_slope",
                  "likelihood", "sigmoid_mean", "fixed_variance", "init", "image_height", "image_width",
                  "image_channels", "weight_posterior", "decoder_only", "top_latent", "top_hidden", "clusters",
                  "classifier_hidden", "classes", "codebook"});
  r.read("family", c.family);
  r.read("input_dim", c.input_dim);
  // As on the command line: the MLP shorthand replaces declared layers, and a
  // new encoder gets the mirrored decoder unless one is given beside it.
  if (j.contains("hidden") && !j.contains("encoder")) c.encoder.clear();
  if ((j.contains("hidden") || j.contains("encoder")) && !j.contains("decoder")) c.decoder.clear();
  r.read("hidden", c.hidden);
  r.read_layers("encoder", c.encoder);
  r.read_layers("decoder", c.decoder);
  r.read("latent", c.latent);
  r.read("top_latent", c.top_latent);
  r.read("top_hidden", c.top_hidden);
  r.read("clusters", c.clusters);
  r.read("classifier_hidden", c.classifier_hidden);
  r.read("classes", c.classes);
  r.read_object("codebook", c.codebook);
  r.read_enum("activation", c.activation, &parse_activation);
  r.read("leaky_slope", c.leaky_slope);
  r.read_enum("likelihood", c.likelihood, &parse_likelihood);
  r.read("sigmoid_mean", c.sigmoid_mean);
  r.read("fixed_variance", c.fixed_variance);
  r.read_enum("init", c.init, &parse_init);
  r.read("image_height", c.image_height);
  r.read("image_width", c.image_width);
  r.read("image_channels", c.image_channels);
  r.read("weight_posterior", c.weight_posterior);
  r.read("decoder_only", c.decoder_only);
}

void apply_json(const json& j, CodebookConfig& c, std::string_view where, std::string_view path) {
  ObjectReader r(j, where, path, {"codes", "dim", "commitment", "update", "decay", "restarts"});
  r.read("codes", c.codes);
  r.read("dim", c.dim);
  r.read("commitment", c.commitment);
  r.read_enum("update", c.update, &parse_codebook_update);
  r.read("decay", c.decay);
  r.read("restarts", c.restarts);
}

void apply_json(const json& j, ObjectiveConfig& c, std::string_view where, std::string_view path) {
  ObjectReader r(j, where, path, {"estimator", "samples", "beta"});
  r.read_enum("estimator", c.estimator, &parse_estimator);
  r.read("samples", c.samples);
  r.read("beta", c.beta);
}

void apply_json(const json& j, OptimizerConfig& c, std::string_view where, std::string_view path) {
  ObjectReader r(j, where, path,
                 {"kind", "lr", "momentum", "beta1", "beta2", "eps", "weight_decay", "clip_norm", "lr_schedule",
                  "lr_warmup_steps"});
  r.read_enum("kind", c.kind, &parse_optimizer);
  r.read("lr", c.lr);
  r.read("momentum", c.momentum);
  r.read("beta1", c.beta1);
  r.read("beta2", c.beta2);
  r.read("eps", c.eps);
  r.read("weight_decay", c.weight_decay);
  r.read("clip_norm", c.clip_norm);
  r.read_enum("lr_schedule", c.schedule, &parse_lr_schedule);
  r.read("lr_warmup_steps", c.lr_warmup_steps);
}

void apply_json(const json& j, TrainConfig& c, std::string_view where, std::string_view path) {
  ObjectReader r(j, where, path,
                 {"algorithm", "rws_q", "datapoints", "objective", "optimizer", "batch", "seed",
                  "kl_warmup_steps", "matmul_precision", "shards"});
  r.read("algorithm", c.algorithm);
  r.read("rws_q", c.rws_q);
  r.read("datapoints", c.datapoints);
  r.read_object("objective", c.objective);
  r.read_object("optimizer", c.optimizer);
  r.read("batch", c.batch);
  r.read("seed", c.seed);
  r.read("kl_warmup_steps", c.kl_warmup_steps);
  r.read_enum("matmul_precision", c.matmul_precision, &parse_matmul_precision);
  r.read("shards", c.shards);
}

ModelConfig model_config_from_json(const json& j, std::string_view where, std::string_view path) {
  ModelConfig c;
  apply_json(j, c, where, path);
  return c;
}

TrainConfig train_config_from_json(const json& j, std::string_view where, std::string_view path) {
  TrainConfig c;
  apply_json(j, c, where, path);
  return c;
}

json parse_json_strict(std::string_view text, std::string_view where) {
  // Keys seen per open object; a repeated key would silently override otherwise.
  std::vector<std::set<std::string>> open;
  std::string duplicate;
  auto callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start: open.emplace_back(); break;
      case json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open.empty() && !open.back().insert(parsed.get<std::string>()).second && duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default: break;
    }
    return true;
  };
  json j;
  try {
    j = json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    std::string m = e.what();
    if (!m.empty() && m[0] == '[' && m.find("] ") != std::string::npos) m.erase(0, m.find("] ") + 2);
    throw InputError(std::string(where) + ": invalid JSON (" + m + ")");
  }
  if (!duplicate.empty()) throw InputError(std::string(where) + ": key '" + duplicate + "' appears twice");
  return j;
}

json load_config_file(const std::filesystem::path& path) {
  const std::string where = path.string();
  const std::string ext = path.extension().string();
  if (ext != ".json" && ext != ".toml")
    throw InputError(where + ": expected a .json or .toml config file, found " +
                     (ext.empty() ? std::string("no extension") : "extension '" + ext + "'"));
  const std::string text = read_file_bytes(path);
  json j;
  if (ext == ".json") {
    j = parse_json_strict(text, where);
  } else {
    try {
      toml::table table = toml::parse(text, where);
      j = toml_to_json(table, where, "");
    } catch (const toml::parse_error& e) {
      const auto& begin = e.source().begin;
      throw InputError(where + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                       ": invalid TOML (" + std::string(e.description()) + ")");
    }
  }
  if (!j.is_object()) throw InputError(where + ": expected an object at the top level, found " + describe(j));
  return j;
}

}  // namespace aevb
