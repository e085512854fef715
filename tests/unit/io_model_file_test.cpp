// Model files: save/load round trips exactly, and a file that does not hold
// exactly the network its config describes is refused with a clear line.
#include "io/model_file.hpp"

#include "io/config_json.hpp"
#include "io/safetensors.hpp"

#include <aevb/error.hpp>
#include <aevb/vae.hpp>

#include "support/rewrite_safetensors.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;
namespace st = safetensors;
using json = nlohmann::json;

using test::rewrite_safetensors;
using test::TempDir;

using test::error_of;

// rewrite_safetensors with `edit` applied to the model config stored as JSON.
template <class Edit>
void rewrite_config(const fs::path& from, const fs::path& to, Edit&& edit) {
  rewrite_safetensors(from, to, [&](st::File& f) {
    json c = json::parse(f.metadata["aevb_config"]);
    edit(c);
    f.metadata["aevb_config"] = c.dump();
  });
}

ModelConfig small_config(Likelihood likelihood = Likelihood::bernoulli) {
  ModelConfig c;
  c.input_dim = 12;
  c.hidden = {8, 5};
  c.latent = 3;
  c.likelihood = likelihood;
  c.image_height = 3;
  c.image_width = 4;
  return c;
}

TEST(IoModelFile, RoundTripIsExact) {
  TempDir dir;
  for (Likelihood lik : {Likelihood::bernoulli, Likelihood::gaussian, Likelihood::gaussian_fixed}) {
    ModelConfig c = small_config(lik);
    c.activation = Activation::leaky_relu;
    c.leaky_slope = 0.2f;
    c.sigmoid_mean = false;
    c.fixed_variance = 0.25f;
    const Vae model(c, 11);
    save_model(dir.path / "m.safetensors", model, {{"trained_epochs", "3"}});
    const Vae loaded = load_model(dir.path / "m.safetensors");
    EXPECT_EQ(to_json(loaded.config()), to_json(c));
    ASSERT_EQ(loaded.parameters().size(), model.parameters().size());
    EXPECT_EQ(std::memcmp(loaded.parameters().data(), model.parameters().data(), model.parameters().size() * 4), 0);

    // Same function: decode a few latents with both.
    std::vector<float> z = {0.1f, -0.4f, 1.3f, 2.0f, 0.0f, -1.0f};
    std::vector<float> a(2 * c.input_dim), b(2 * c.input_dim);
    model.decode({z.data(), 2, c.latent}, {a.data(), 2, c.input_dim});
    loaded.decode({z.data(), 2, c.latent}, {b.data(), 2, c.input_dim});
    EXPECT_EQ(a, b);

    const ModelFileInfo info = inspect_model(dir.path / "m.safetensors");
    EXPECT_EQ(info.format, "aevb-vae");
    EXPECT_EQ(info.metadata.at("trained_epochs"), "3");
    EXPECT_EQ(info.parameter_count, model.parameters().size());
    ASSERT_EQ(info.tensors.size(), model.parameter_table().size());
    for (std::size_t k = 0; k < info.tensors.size(); ++k) EXPECT_EQ(info.tensors[k].name, model.parameter_table()[k].name);
  }
}

TEST(IoModelFile, SaveIsAtomicAndReportsUnwritableTargets) {
  TempDir dir;
  const Vae model(small_config(), 1);
  save_model(dir.path / "m.safetensors", model);
  save_model(dir.path / "m.safetensors", model);  // overwrite
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
  EXPECT_EQ(files, 1u) << "a temporary file was left behind";
  EXPECT_ERROR_CONTAINS(save_model(dir.path / "missing" / "m.safetensors", model), "cannot write");
  EXPECT_THROW(save_model(dir.path / "x.safetensors", model, {{"format", "other"}}), std::invalid_argument);
}

TEST(IoModelFile, MissingExtraAndMisshapenTensors) {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors", bad = dir.path / "bad.safetensors";
  save_model(good, Vae(small_config(), 2));

  rewrite_safetensors(good, bad, [](st::File& f) {
    std::erase_if(f.tensors, [](const st::Tensor& t) { return t.name == "decoder.logits.bias"; });
  });
  EXPECT_ERROR_CONTAINS(load_model(bad), bad.string() + ": tensor 'decoder.logits.bias' is missing");

  rewrite_safetensors(good, bad, [](st::File& f) { f.tensors.push_back({"decoder.extra.weight", {2}, {1, 2}}); });
  EXPECT_ERROR_CONTAINS(load_model(bad), "unexpected tensor 'decoder.extra.weight'");

  rewrite_safetensors(good, bad, [](st::File& f) {
    for (auto& t : f.tensors)
      if (t.name == "encoder.1.weight") t.shape = {8, 5};  // transposed: [out, in] is [5, 8]
  });
  EXPECT_ERROR_CONTAINS(load_model(bad), "tensor 'encoder.1.weight' has shape [8, 5], expected [5, 8] from the config");

  rewrite_safetensors(good, bad, [](st::File& f) { f.tensors[3].data[2] = std::numeric_limits<float>::quiet_NaN(); });
  EXPECT_ERROR_CONTAINS(load_model(bad), "holds a non-finite value at index 2");

  // The config says gaussian, the tensors are Bernoulli's.
  rewrite_config(good, bad, [](json& c) { c["likelihood"] = "gaussian"; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "tensor 'decoder.mean.weight' is missing");
}

TEST(IoModelFile, BadMetadata) {
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors", bad = dir.path / "bad.safetensors";
  save_model(good, Vae(small_config(), 2));

  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata.erase("format"); });
  EXPECT_ERROR_CONTAINS(load_model(bad), "not an aevb file: __metadata__ has no \"format\"");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata.clear(); });
  EXPECT_ERROR_CONTAINS(load_model(bad), "not an aevb file");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata["format"] = "pytorch"; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "format is 'pytorch', expected 'aevb-vae' or 'aevb-checkpoint'");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata["format_version"] = "2"; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "format_version is '2'; this aevb reads version 1");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata.erase("aevb_config"); });
  EXPECT_ERROR_CONTAINS(load_model(bad), "__metadata__ has no \"aevb_config\"");
  rewrite_safetensors(good, bad, [](st::File& f) { f.metadata["aevb_config"] = "{\"latent\": 3"; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "invalid JSON");
  rewrite_config(good, bad, [](json& c) { c["latnet"] = 3; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "unknown key 'aevb_config.latnet'");
  rewrite_config(good, bad, [](json& c) { c["latent"] = 0; });
  EXPECT_ERROR_CONTAINS(load_model(bad), "latent must be positive");
}

TEST(IoModelFile, HugeConfigIsRefusedBeforeAllocating) {
  // A config that would need petabytes, with tiny tensors: the tensors are
  // checked against the config before the network is built.
  TempDir dir;
  const fs::path good = dir.path / "good.safetensors", bad = dir.path / "bad.safetensors";
  save_model(good, Vae(small_config(), 2));
  rewrite_config(good, bad, [](json& c) {
    c["input_dim"] = 1000000000ull;
    c["image_height"] = 0;
    c["image_width"] = 0;
    c["hidden"] = {1000000000ull};
  });
  EXPECT_ERROR_CONTAINS(load_model(bad), "tensor 'encoder.0.weight' has shape [8, 12], expected [1000000000, 1000000000]");
  rewrite_config(good, bad, [](json& c) {
    c["input_dim"] = 18446744073709551615ull;
    c["image_height"] = 0;
    c["image_width"] = 0;
    c["hidden"] = {18446744073709551615ull};
  });
  EXPECT_ERROR_CONTAINS(load_model(bad), "parameter count overflows");
}

TEST(IoModelFile, NotAModelFile) {
  TempDir dir;
  const fs::path text = dir.path / "notes.safetensors";
  std::ofstream(text) << "hello, this is not a model file at all\n";
  EXPECT_ERROR_CONTAINS(load_model(text), text.string() + ": not a valid safetensors file");
  EXPECT_ERROR_CONTAINS(load_model(dir.path / "nope.safetensors"), "cannot read");
  // A valid safetensors file from elsewhere, without aevb metadata.
  const std::vector<float> w = {1, 2};
  std::vector<st::TensorRef> refs = {{"fc.weight", {1, 2}, w}};
  st::write_file(dir.path / "other.safetensors", refs);
  EXPECT_ERROR_CONTAINS(load_model(dir.path / "other.safetensors"), "not an aevb file");
}

}  // namespace
}  // namespace aevb
