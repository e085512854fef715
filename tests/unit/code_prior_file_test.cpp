// The code prior's file and its input checks (src/prior/code_prior.hpp): a
// saved prior loads back to bitwise the same log-probabilities, config and
// extra metadata; a truncated file, another aevb file, a tensor of the wrong
// shape, a config the tensors do not fit, a code >= K and a config with
// K = 0 each give one InputError saying what and where.
#include "support/rewrite_safetensors.hpp"
#include "support/scratch.hpp"

#include "core/rng.hpp"
#include "io/safetensors.hpp"
#include "prior/code_prior.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace aevb {
namespace {

constexpr CodePriorConfig kConfig{.codes = 6, .height = 3, .width = 4, .channels = 5, .layers = 2};

std::vector<std::uint32_t> random_grids(std::size_t n) {
  std::vector<std::uint32_t> codes(n * 12);
  CounterRng rng(51, 0);
  for (auto& c : codes) c = static_cast<std::uint32_t>(rng.below(kConfig.codes));
  return codes;
}

// A prior with parameters of its own (not the constructor's seed-1 draw),
// saved under `name`.
std::filesystem::path saved(const test::TempDir& dir, CodePrior& prior, const std::string& name = "prior.safetensors") {
  prior.initialize(52);
  const std::filesystem::path path = dir.path / name;
  save_code_prior(path, prior, {{"vq_model", "runs/vq/model.safetensors"}, {"vq_sha256", "0123abcd"}});
  return path;
}

TEST(CodePriorFile, RoundTripGivesBitwiseTheSameLogProbabilities) {
  const test::TempDir dir;
  CodePrior prior(kConfig);
  const std::filesystem::path path = saved(dir, prior);
  safetensors::Metadata extra;
  CodePrior loaded = load_code_prior(path, &extra);
  EXPECT_EQ(loaded.config(), kConfig);
  EXPECT_EQ(extra, (safetensors::Metadata{{"vq_model", "runs/vq/model.safetensors"}, {"vq_sha256", "0123abcd"}}));
  const std::vector<std::uint32_t> codes = random_grids(7);
  std::vector<double> before(7), after(7);
  prior.log_probabilities(codes, 7, before.data());
  loaded.log_probabilities(codes, 7, after.data());
  EXPECT_EQ(before, after);
  // The file is what it says: every tensor under its name, the config in the metadata.
  const safetensors::File file = safetensors::read_file(path);
  EXPECT_EQ(file.metadata.at("format"), "aevb-code-prior");
  EXPECT_EQ(file.metadata.at("code_prior_config"),
            R"({"channels":5,"codes":6,"height":3,"layers":2,"width":4})");
  ASSERT_NE(file.find("prior.layers.1.vertical.weight"), nullptr);
  EXPECT_EQ(file.find("prior.layers.1.vertical.weight")->shape, (std::vector<std::size_t>{10, 5, 2, 3}));
  EXPECT_EQ(file.tensors.size(), prior.parameter_table().size());
}

TEST(CodePriorFile, ReservedMetadataKeysAreRefused) {
  const test::TempDir dir;
  const CodePrior prior(kConfig);
  EXPECT_THROW(save_code_prior(dir.path / "p.safetensors", prior, {{"format", "mine"}}), std::invalid_argument);
}

TEST(CodePriorFile, ATruncatedFileIsAnInputErrorNamingIt) {
  const test::TempDir dir;
  CodePrior prior(kConfig);
  const std::filesystem::path path = saved(dir, prior);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::filesystem::path cut = dir.write("cut.safetensors", bytes.substr(0, bytes.size() - 100));
  EXPECT_ERROR_CONTAINS(load_code_prior(cut), cut.string());
}

TEST(CodePriorFile, AFileThatIsNotACodePriorSaysSo) {
  const test::TempDir dir;
  CodePrior prior(kConfig);
  const std::filesystem::path path = saved(dir, prior), other = dir.path / "other.safetensors";
  test::rewrite_safetensors(path, other, [](safetensors::File& f) { f.metadata["format"] = "aevb-vae"; });
  EXPECT_ERROR_CONTAINS(load_code_prior(other), other.string() + ": not a code prior: format is 'aevb-vae', expected 'aevb-code-prior'");
  test::rewrite_safetensors(path, other, [](safetensors::File& f) { f.metadata.clear(); });
  EXPECT_ERROR_CONTAINS(load_code_prior(other), "not a code prior: __metadata__ has no \"format\"");
  test::rewrite_safetensors(path, other, [](safetensors::File& f) { f.metadata["format_version"] = "7"; });
  EXPECT_ERROR_CONTAINS(load_code_prior(other), "format_version is '7'");
}

TEST(CodePriorFile, AWrongTensorShapeIsAnInputErrorNamingTheTensor) {
  const test::TempDir dir;
  CodePrior prior(kConfig);
  const std::filesystem::path path = saved(dir, prior), bad = dir.path / "bad.safetensors";
  test::rewrite_safetensors(path, bad, [](safetensors::File& f) {
    for (safetensors::Tensor& t : f.tensors)
      if (t.name == "prior.layers.1.vertical.weight") {
        t.shape = {10, 5, 3, 3};  // a masked 3 x 3 kernel where the prior has 2 x 3 taps
        t.data.resize(10 * 5 * 3 * 3);
      }
  });
  EXPECT_ERROR_CONTAINS(load_code_prior(bad), bad.string() + ": tensor 'prior.layers.1.vertical.weight' has shape "
                                                             "[10, 5, 3, 3], expected [10, 5, 2, 3] from the config");
  // A config the tensors do not fit: 7 codes, the embedding holds 6.
  test::rewrite_safetensors(path, bad, [](safetensors::File& f) {
    f.metadata["code_prior_config"] = R"({"channels":5,"codes":7,"height":3,"layers":2,"width":4})";
  });
  EXPECT_ERROR_CONTAINS(load_code_prior(bad), "tensor 'prior.embedding' has shape [6, 5], expected [7, 5]");
  test::rewrite_safetensors(path, bad, [](safetensors::File& f) {
    f.metadata["code_prior_config"] = R"({"channels":5,"codes":6,"height":3,"width":4})";
  });
  EXPECT_ERROR_CONTAINS(load_code_prior(bad), "code_prior_config has no \"layers\"");
  test::rewrite_safetensors(path, bad, [](safetensors::File& f) {
    f.metadata["code_prior_config"] = R"({"channels":5,"codes":0,"height":3,"layers":2,"width":4})";
  });
  EXPECT_ERROR_CONTAINS(load_code_prior(bad), bad.string() + " (__metadata__): code prior: codes (K) must be at least 1");
}

TEST(CodePriorFile, ACodeAtOrAboveKIsAnInputErrorNamingItsPlace) {
  CodePrior prior(kConfig);
  std::vector<std::uint32_t> codes = random_grids(3);
  codes[2 * 12 + 1 * 4 + 3] = 6;  // grid 2, position (1, 3)
  std::vector<double> out(3);
  const std::string expected = "grid 2, position (1, 3) holds code 6, expected a code below K = 6";
  EXPECT_ERROR_CONTAINS(prior.log_probabilities(codes, 3, out.data()), expected);
  EXPECT_ERROR_CONTAINS(prior.cross_entropy(codes, 3), expected);
  EXPECT_ERROR_CONTAINS(train_code_prior(prior, codes, 3, {}, 0, {}, nullptr),
                        "code prior training grids: " + expected);
  EXPECT_THROW(prior.log_probabilities(std::span(codes).first(30), 3, out.data()), std::invalid_argument);
}

TEST(CodePriorFile, BadConfigsAndTrainingSettingsAreInputErrors) {
  EXPECT_ERROR_CONTAINS(validate({.codes = 0, .height = 7, .width = 7, .channels = 64, .layers = 5}),
                        "code prior: codes (K) must be at least 1, found 0");
  EXPECT_ERROR_CONTAINS(CodePrior({.codes = 0, .height = 7, .width = 7, .channels = 64, .layers = 5}),
                        "codes (K) must be at least 1");
  EXPECT_ERROR_CONTAINS(validate({.codes = 8, .height = 7, .width = 0, .channels = 64, .layers = 5}), "width");
  EXPECT_ERROR_CONTAINS(validate({.codes = 8, .height = 7, .width = 7, .channels = 64, .layers = 0}), "layers");
  EXPECT_ERROR_CONTAINS(validate({.codes = 8, .height = 2048, .width = 1024, .channels = 64, .layers = 5}),
                        "more than 2^20 positions");
  CodePrior prior(kConfig);
  const std::vector<std::uint32_t> codes = random_grids(2);
  EXPECT_ERROR_CONTAINS(train_code_prior(prior, codes, 2, {}, 0, {.epochs = 1, .batch = 0}, nullptr),
                        "minibatch size must be at least 1");
  EXPECT_ERROR_CONTAINS(train_code_prior(prior, codes, 2, {}, 0, {.epochs = 1, .batch = 2, .lr = -1.0f}, nullptr),
                        "learning rate must be positive");
  EXPECT_ERROR_CONTAINS(train_code_prior(prior, {}, 0, {}, 0, {}, nullptr), "no training grids");
}

}  // namespace
}  // namespace aevb
