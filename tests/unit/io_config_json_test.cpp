// Configs as JSON: exact round trips, strict reading with errors naming the
// key, and config files in JSON or TOML.
#include "io/config_json.hpp"

#include <aevb/error.hpp>

#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace aevb {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using test::TempDir;

/// The InputError message of f(), or "" if it did not throw.
using test::error_of;

ModelConfig unusual_model() {
  ModelConfig c;
  c.input_dim = 560;
  c.hidden = {200, 100, 7};
  c.latent = 3;
  c.activation = Activation::leaky_relu;
  c.leaky_slope = 0.1f;
  c.likelihood = Likelihood::gaussian_fixed;
  c.sigmoid_mean = false;
  c.fixed_variance = 0.3f;
  c.init = Init::glorot;
  c.image_height = 28;
  c.image_width = 20;
  c.input_dim = 3 * 28 * 20;
  c.image_channels = 3;
  c.family = "autoencoder";
  c.weight_posterior = true;
  c.decoder_only = true;
  c.encoder = parse_layers("conv:8:3:2:1,residual:4,dense:7", "test");
  c.decoder = parse_layers("dense:7,dense:784,unflatten:16:7:7,deconv:3:4:4:0:1", "test");
  return c;
}

TrainConfig unusual_train() {
  TrainConfig t;
  t.algorithm = "wake-sleep";
  t.rws_q = "both";
  t.datapoints = 12345;
  t.objective.estimator = Estimator::iw;
  t.objective.samples = 50;
  t.objective.beta = 0.7f;
  t.optimizer.kind = OptimizerKind::adam;
  t.optimizer.lr = 1e-3f;
  t.optimizer.momentum = 0.5f;
  t.optimizer.beta1 = 0.8f;
  t.optimizer.beta2 = 0.9999f;
  t.optimizer.eps = 1e-7f;
  t.optimizer.weight_decay = 1.0f / 60000.0f;
  t.optimizer.clip_norm = 5.5f;
  t.batch = 128;
  t.seed = 18446744073709551615ull;
  t.kl_warmup_steps = 5000;
  t.matmul_precision = MatmulPrecision::bfloat16;
  t.shards = 7;
  return t;
}

TEST(IoConfigJson, ModelRoundTripIsExact) {
  const ModelConfig c = unusual_model();
  const json j = to_json(c);
  EXPECT_EQ(j.at("activation"), to_string(Activation::leaky_relu));
  EXPECT_EQ(j.at("likelihood"), to_string(Likelihood::gaussian_fixed));
  const ModelConfig r = model_config_from_json(json::parse(j.dump()), "mem");
  EXPECT_EQ(r.input_dim, c.input_dim);
  EXPECT_EQ(r.hidden, c.hidden);
  EXPECT_EQ(r.latent, c.latent);
  EXPECT_EQ(r.activation, c.activation);
  EXPECT_EQ(r.leaky_slope, c.leaky_slope);
  EXPECT_EQ(r.likelihood, c.likelihood);
  EXPECT_EQ(r.sigmoid_mean, c.sigmoid_mean);
  EXPECT_EQ(r.fixed_variance, c.fixed_variance);
  EXPECT_EQ(r.init, c.init);
  EXPECT_EQ(r.image_height, c.image_height);
  EXPECT_EQ(r.image_width, c.image_width);
  EXPECT_EQ(to_json(r), j);
}

TEST(IoConfigJson, TrainRoundTripIsExact) {
  const TrainConfig t = unusual_train();
  const json j = to_json(t);
  const TrainConfig r = train_config_from_json(json::parse(j.dump()), "mem");
  EXPECT_EQ(r.objective.estimator, t.objective.estimator);
  EXPECT_EQ(r.objective.samples, t.objective.samples);
  EXPECT_EQ(r.objective.beta, t.objective.beta);
  EXPECT_EQ(r.optimizer.kind, t.optimizer.kind);
  EXPECT_EQ(r.optimizer.lr, t.optimizer.lr);
  EXPECT_EQ(r.optimizer.momentum, t.optimizer.momentum);
  EXPECT_EQ(r.optimizer.beta1, t.optimizer.beta1);
  EXPECT_EQ(r.optimizer.beta2, t.optimizer.beta2);
  EXPECT_EQ(r.optimizer.eps, t.optimizer.eps);
  EXPECT_EQ(r.optimizer.weight_decay, t.optimizer.weight_decay);
  EXPECT_EQ(r.optimizer.clip_norm, t.optimizer.clip_norm);
  EXPECT_EQ(r.batch, t.batch);
  EXPECT_EQ(r.seed, t.seed);
  EXPECT_EQ(r.kl_warmup_steps, t.kl_warmup_steps);
  EXPECT_EQ(r.matmul_precision, t.matmul_precision);
  EXPECT_EQ(r.shards, t.shards);
  EXPECT_EQ(j.at("matmul_precision"), "bfloat16");
  EXPECT_EQ(to_json(r), j);
}

TEST(IoConfigJson, EveryFieldIsCovered) {
  // The unusual configs change every field from its default, so a field that
  // to_json forgot would come back as its default and the whole-struct
  // comparison would fail. A field added to a struct belongs in
  // src/io/config_json.cpp, in unusual_model() / unusual_train() and in
  // docs/model-format.md.
  const ModelConfig m = unusual_model(), md;
  EXPECT_EQ(model_config_from_json(json::parse(to_json(m).dump()), "mem"), m);
  for (bool differs : {m.input_dim != md.input_dim, m.hidden != md.hidden, m.latent != md.latent,
                       m.activation != md.activation, m.leaky_slope != md.leaky_slope,
                       m.likelihood != md.likelihood, m.sigmoid_mean != md.sigmoid_mean,
                       m.fixed_variance != md.fixed_variance, m.init != md.init,
                       m.image_height != md.image_height, m.image_width != md.image_width,
                       m.image_channels != md.image_channels, m.family != md.family, m.encoder != md.encoder,
                       m.decoder != md.decoder, m.weight_posterior != md.weight_posterior,
                       m.decoder_only != md.decoder_only})
    EXPECT_TRUE(differs) << "a ModelConfig field of unusual_model() is at its default";
  const TrainConfig t = unusual_train(), td;
  EXPECT_EQ(train_config_from_json(json::parse(to_json(t).dump()), "mem"), t);
  const OptimizerConfig &o = t.optimizer, &od = td.optimizer;
  for (bool differs : {t.objective.estimator != td.objective.estimator, t.objective.samples != td.objective.samples,
                       t.objective.beta != td.objective.beta, o.kind != od.kind, o.lr != od.lr,
                       o.momentum != od.momentum, o.beta1 != od.beta1, o.beta2 != od.beta2, o.eps != od.eps,
                       o.weight_decay != od.weight_decay, o.clip_norm != od.clip_norm, t.batch != td.batch,
                       t.seed != td.seed, t.kl_warmup_steps != td.kl_warmup_steps,
                       t.matmul_precision != td.matmul_precision, t.algorithm != td.algorithm,
                       t.rws_q != td.rws_q, t.datapoints != td.datapoints, t.shards != td.shards})
    EXPECT_TRUE(differs) << "a TrainConfig field of unusual_train() is at its default";
  EXPECT_EQ(to_json(ModelConfig{}).size(), 15u);  // weight_posterior and decoder_only are written only when set
  EXPECT_EQ(to_json(unusual_model()).size(), 17u);
  EXPECT_EQ(to_json(TrainConfig{}).size(), 10u);
}

// A conditional model's classes are written beside its family, and only for it.
TEST(IoConfigJson, ConditionalClassesRoundTrip) {
  ModelConfig c;
  c.family = "cvae";
  c.classes = 4;
  const json j = to_json(c);
  EXPECT_EQ(j.at("classes"), 4);
  EXPECT_EQ(model_config_from_json(json::parse(j.dump()), "mem"), c);
  EXPECT_FALSE(to_json(ModelConfig{}).contains("classes"));
}

TEST(IoConfigJson, FloatsAreWrittenShortest) {
  TrainConfig t;
  t.optimizer.lr = 0.02f;
  const std::string text = to_json(t).dump();
  EXPECT_NE(text.find("\"lr\":0.02"), std::string::npos) << text;
  EXPECT_EQ(text.find("0.0199999"), std::string::npos) << text;
}

TEST(IoConfigJson, OverlayKeepsAbsentKeys) {
  ModelConfig c = unusual_model();
  apply_json(json{{"latent", 9}, {"hidden", json::array()}}, c, "mem");
  EXPECT_EQ(c.latent, 9u);
  EXPECT_TRUE(c.hidden.empty());
  // As on the command line: the MLP shorthand replaces the declared layers,
  // and a new encoder alone gets the mirrored decoder.
  EXPECT_TRUE(c.encoder.empty());
  EXPECT_TRUE(c.decoder.empty());
  ModelConfig e = unusual_model();
  apply_json(json{{"encoder", "dense:9"}}, e, "mem");
  EXPECT_EQ(to_string(e.encoder), "dense:9");
  EXPECT_TRUE(e.decoder.empty());
  EXPECT_EQ(e.hidden, unusual_model().hidden);
  EXPECT_EQ(c.input_dim, 1680u);
  EXPECT_EQ(c.activation, Activation::leaky_relu);

  TrainConfig t = unusual_train();
  apply_json(json{{"optimizer", {{"lr", 1}}}}, t, "mem");  // an integer is a valid float
  EXPECT_EQ(t.optimizer.lr, 1.0f);
  EXPECT_EQ(t.optimizer.kind, OptimizerKind::adam);
  EXPECT_EQ(t.batch, 128u);

  const ModelConfig d = model_config_from_json(json::object(), "mem");
  EXPECT_EQ(to_json(d), to_json(ModelConfig{}));
}

TEST(IoConfigJson, UnknownKeysAreErrorsNamingTheKey) {
  ModelConfig c;
  EXPECT_ERROR_CONTAINS(apply_json(json{{"hiden", {500}}}, c, "cfg.json"),
                        "cfg.json: unknown key 'model.hiden' (expected one of: family, input_dim, hidden,");
  TrainConfig t;
  EXPECT_ERROR_CONTAINS(apply_json(json{{"optimizer", {{"learning_rate", 0.1}}}}, t, "cfg.toml"),
                        "cfg.toml: unknown key 'train.optimizer.learning_rate'");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"objective", {{"k", 5}}}}, t, "cfg.toml"),
                        "unknown key 'train.objective.k'");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"epochs", 5}}, t, "cfg.toml", "train"), "unknown key 'train.epochs'");
}

TEST(IoConfigJson, WrongTypesAreErrorsNamingTheKey) {
  ModelConfig c;
  EXPECT_ERROR_CONTAINS(apply_json(json{{"latent", "20"}}, c, "f"),
                        "f: model.latent: expected a non-negative integer, found string \"20\"");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"latent", -2}}, c, "f"), "model.latent: expected a non-negative integer");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"latent", 2.5}}, c, "f"), "model.latent: expected a non-negative integer");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"hidden", 500}}, c, "f"), "model.hidden: expected an array");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"hidden", {500, "x"}}}, c, "f"), "model.hidden: expected an array");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"sigmoid_mean", 1}}, c, "f"), "model.sigmoid_mean: expected true or false");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"leaky_slope", "0.1"}}, c, "f"), "model.leaky_slope: expected a number");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"fixed_variance", 1e300}}, c, "f"),
                        "model.fixed_variance: expected a finite float");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"activation", "gelu"}}, c, "f"),
                        "f: model.activation: expected one of tanh, relu,");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"activation", 3}}, c, "f"), "model.activation: expected a string");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"likelihood", "poisson"}}, c, "f"), "found 'poisson'");
  EXPECT_ERROR_CONTAINS(apply_json(json::array(), c, "f"), "f: model should be an object, found array");

  TrainConfig t;
  EXPECT_ERROR_CONTAINS(apply_json(json{{"optimizer", {{"kind", "rmsprop"}}}}, t, "f"),
                        "f: train.optimizer.kind: expected one of sgd, adagrad, adam, found 'rmsprop'");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"optimizer", {{"lr", nullptr}}}}, t, "f"),
                        "train.optimizer.lr: expected a number, found null");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"optimizer", 3}}, t, "f"), "train.optimizer should be an object");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"seed", -1}}, t, "f"), "train.seed: expected a non-negative integer");
  EXPECT_ERROR_CONTAINS(apply_json(json{{"objective", {{"estimator", "C"}}}}, t, "f"),
                        "train.objective.estimator: expected one of A, B, iw");
}

TEST(IoConfigJson, StrictJsonParsing) {
  EXPECT_ERROR_CONTAINS(parse_json_strict("{\"a\": 1, \"a\": 2}", "x.json"), "x.json: key 'a' appears twice");
  EXPECT_ERROR_CONTAINS(parse_json_strict("{\"m\": {\"b\": 1, \"b\": 2}}", "x.json"), "key 'b' appears twice");
  EXPECT_EQ(parse_json_strict("{\"m\": {\"b\": 1}, \"n\": {\"b\": 2}}", "x.json")["n"]["b"], 2);
  EXPECT_ERROR_CONTAINS(parse_json_strict("{\"a\": }", "x.json"), "x.json: invalid JSON (parse error at line 1");
}

TEST(IoConfigFile, JsonFile) {
  TempDir dir;
  const auto p = dir.write("c.json", R"({"model": {"hidden": [400, 200], "latent": 10},
                                        "train": {"optimizer": {"kind": "adam", "lr": 0.001}, "batch": 64},
                                        "epochs": 3})");
  const json j = load_config_file(p);
  EXPECT_EQ(j.at("epochs"), 3);
  const ModelConfig c = model_config_from_json(j.at("model"), p.string());
  EXPECT_EQ(c.hidden, (std::vector<std::size_t>{400, 200}));
  EXPECT_EQ(c.latent, 10u);
  const TrainConfig t = train_config_from_json(j.at("train"), p.string());
  EXPECT_EQ(t.optimizer.kind, OptimizerKind::adam);
  EXPECT_EQ(t.optimizer.lr, 0.001f);
  EXPECT_EQ(t.batch, 64u);
}

TEST(IoConfigFile, TomlFileHasTheSameSchema) {
  TempDir dir;
  const auto p = dir.write("c.toml", R"(# the paper's MNIST setup
epochs = 3
[model]
hidden = [400, 200]
latent = 10
activation = "relu"
sigmoid_mean = false
fixed_variance = 2

[train]
batch = 64
[train.optimizer]
kind = "adam"
lr = 0.001
[train.objective]
estimator = "A"
)");
  const json j = load_config_file(p);
  const auto p2 = dir.write("c.json", R"({"epochs": 3,
      "model": {"hidden": [400, 200], "latent": 10, "activation": "relu", "sigmoid_mean": false, "fixed_variance": 2},
      "train": {"batch": 64, "optimizer": {"kind": "adam", "lr": 0.001}, "objective": {"estimator": "A"}}})");
  EXPECT_EQ(j, load_config_file(p2));
  const ModelConfig c = model_config_from_json(j.at("model"), p.string());
  EXPECT_EQ(c.activation, Activation::relu);
  EXPECT_FALSE(c.sigmoid_mean);
  EXPECT_EQ(c.fixed_variance, 2.0f);
  const TrainConfig t = train_config_from_json(j.at("train"), p.string());
  EXPECT_EQ(t.objective.estimator, Estimator::A);
  EXPECT_EQ(t.optimizer.lr, 0.001f);
}

TEST(IoConfigFile, TomlErrors) {
  TempDir dir;
  const auto bad = dir.write("bad.toml", "[model]\nlatent = = 3\n");
  EXPECT_ERROR_CONTAINS(load_config_file(bad), bad.string() + ":2:");
  EXPECT_ERROR_CONTAINS(load_config_file(bad), "invalid TOML");
  const auto date = dir.write("date.toml", "[model]\ncreated = 2024-01-01\n");
  EXPECT_ERROR_CONTAINS(load_config_file(date), "model.created: dates and times are not config values");
  const auto nan = dir.write("nan.toml", "[train.optimizer]\nlr = nan\n");
  const json j = load_config_file(nan);
  TrainConfig t;
  EXPECT_ERROR_CONTAINS(apply_json(j.at("train"), t, nan.string()), "train.optimizer.lr: expected a finite float");
  const auto neg = dir.write("neg.toml", "[model]\nlatent = -3\n");
  ModelConfig c;
  EXPECT_ERROR_CONTAINS(apply_json(load_config_file(neg).at("model"), c, neg.string()),
                        "model.latent: expected a non-negative integer, found number -3");
}

TEST(IoConfigFile, FileErrors) {
  TempDir dir;
  EXPECT_ERROR_CONTAINS(load_config_file(dir.path / "missing.toml"), "cannot read");
  EXPECT_ERROR_CONTAINS(load_config_file(dir.path / "missing.toml"), "no such file");
  const auto yaml = dir.write("c.yaml", "a: 1\n");
  EXPECT_ERROR_CONTAINS(load_config_file(yaml), "expected a .json or .toml config file, found extension '.yaml'");
  const auto arr = dir.write("c.json", "[1, 2]");
  EXPECT_ERROR_CONTAINS(load_config_file(arr), "expected an object at the top level, found array");
  const auto dup = dir.write("d.json", R"({"model": {"latent": 2}, "model": {"latent": 3}})");
  EXPECT_ERROR_CONTAINS(load_config_file(dup), "key 'model' appears twice");
  const auto bad = dir.write("b.json", "{\"model\": {\"latent\": 2,}}");
  EXPECT_ERROR_CONTAINS(load_config_file(bad), bad.string() + ": invalid JSON");
}

}  // namespace
}  // namespace aevb
