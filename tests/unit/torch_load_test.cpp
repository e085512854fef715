// End-to-end: models trained by `aevb train` load into PyTorch with
// load_state_dict(strict=True) (tools/torch_load_model.py, the module of
// docs/model-format.md), and the PyTorch module computes what `aevb encode`
// and `aevb decode` compute. Needs /usr/bin/python3 with torch and numpy;
// skips with the reason otherwise.
//
// The comparison and its tolerance are the script's (its docstring): the
// module runs in float64 from the file's float32 weights, and each element of
// aevb's float32 mu, log sigma^2 and E[x|z] must be within twice a rounding
// error bound propagated alongside (gamma_K |W| |x| per layer, K the longest
// dot product, u = 2^-24): what any float32 summation order can produce, far
// below what a layout mistake produces. The script exits 1 on a mismatch and
// prints each comparison, which the test shows when it fails.
//
// The models are tiny (1 epoch on 300 images) and cover the layer kinds, both
// families, the three likelihoods and colour: a conv VAE with the mirrored
// decoder (Bernoulli, ReLU), the MLP VAE (tanh), a conv autoencoder with a
// declared decoder of a deconv, a residual block and a conv output layer
// (learned-variance Gaussian, two conv heads, leaky-relu), an MLP with a
// fixed-variance Gaussian whose mean has no sigmoid (softplus), and a conv VAE
// on 3-channel 12 x 10 images whose mirror has a residual block and a deconv
// with output padding 1.
#include "support/cli_run_fixture.hpp"
#include "support/rewrite_safetensors.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

class TorchLoad : public test::CliRunTest {
 protected:
  void SetUp() override {
    test::CliRunTest::SetUp();
    if (IsSkipped()) return;
    const test::CliResult r = test::run_cli(kPython, {"-c", "import torch, numpy"}, dir_);
    if (r.exit_code != 0) {
      std::string why = r.err.substr(0, r.err.find_last_not_of('\n') + 1);  // the exception, or why it did not start
      why = why.substr(why.find_last_of('\n') + 1);
      GTEST_SKIP() << "PyTorch and numpy are not importable by " << kPython
                   << " (scripts/install-deps.sh --with-torch): "
                   << (why.empty() ? "exit code " + std::to_string(r.exit_code) : why);
    }
  }

  // Trains a tiny model with `flags` into dir_/name; returns its model file.
  fs::path train(const std::string& name, const std::vector<std::string>& flags) {
    const fs::path out = dir_ / name;
    const auto r = run(test::concat({"train", "--data", "mnist", "--limit", "300", "--validation", "100",
                                     "--test-eval", "0", "--epochs", "1", "--batch", "50", "--optimizer", "adam",
                                     "--lr", "0.003", "--no-report", "--threads", "2", "--out", out.string()},
                                    flags));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out / "model.safetensors";
  }

  test::CliResult load(const fs::path& model, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {std::string(AEVB_SOURCE_DIR) + "/tools/torch_load_model.py", model.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return test::run_cli(kPython, args, dir_);
  }
  test::CliResult check(const fs::path& model) { return load(model, {"--check", "--aevb", cli_, "--rows", "40"}); }

  void expect_agreement(const fs::path& model, const std::vector<std::string>& compared) {
    ASSERT_TRUE(fs::exists(model));
    const test::CliResult r = check(model);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("loaded strictly"), std::string::npos) << r.out;
    for (const std::string& name : compared)
      EXPECT_NE(r.out.find("  " + name + " "), std::string::npos) << "no comparison of " << name << ":\n" << r.out;
    EXPECT_EQ(r.out.find("MISMATCH"), std::string::npos) << r.out;
    std::printf("%s", r.out.substr(r.out.find("check against")).c_str());
  }
};

TEST_F(TorchLoad, ConvVaeWithTheMirroredDecoder) {
  const fs::path m = train("conv", {"--encoder", "conv:8:4:2:1,conv:16:4:2:1,dense:32", "--latent", "4",
                                    "--activation", "relu", "--init", "he", "--binarize", "dynamic"});
  expect_agreement(m, {"mu", "logvar", "E[x|z]"});
}

TEST_F(TorchLoad, MlpVae) {
  const fs::path m = train("mlp", {"--hidden", "64", "32", "--latent", "4", "--init", "glorot", "--binarize", "dynamic"});
  expect_agreement(m, {"mu", "logvar", "E[x|z]"});
}

TEST_F(TorchLoad, ConvAutoencoderWithLearnedVarianceConvHeads) {
  const fs::path m = train("ae", {"--family", "autoencoder", "--likelihood", "gaussian", "--activation",
                                  "leaky-relu", "--encoder", "conv:8:3:2:1,residual:4,dense:16", "--decoder",
                                  "dense:392,unflatten:8:7:7,deconv:6:4:4:0,residual:3,conv:1:3:1:1",
                                  "--latent", "3", "--init", "he"});
  expect_agreement(m, {"z", "variance", "E[x|z]"});
}

TEST_F(TorchLoad, MlpWithFixedVarianceAndNoSigmoid) {
  const fs::path cfg = dir_ / "model.toml";
  std::ofstream(cfg) << "[model]\nsigmoid_mean = false\n";
  const fs::path m = train("fixed", {"--config", cfg.string(), "--likelihood", "gaussian-fixed", "--activation",
                                     "softplus", "--hidden", "48", "--latent", "3", "--variance", "0.5",
                                     "--init", "glorot"});
  expect_agreement(m, {"mu", "logvar", "E[x|z]"});
}

// A decoder-only model (Monte Carlo EM's) loads without an encoder and is
// checked on decode alone; its checkpoint loads too (the optimizer's and the
// chains' state left out).
TEST_F(TorchLoad, DecoderOnlyMcemModelAndItsCheckpoint) {
  const fs::path out = dir_ / "mcem";
  const auto r = run({"train", "--data", "mnist", "--limit", "300", "--validation", "0", "--test-eval", "0",
                      "--epochs", "2", "--algorithm", "mcem", "--hidden", "32", "--latent", "3", "--no-report",
                      "--threads", "2", "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_agreement(out / "model.safetensors", {"E[x|z]"});
  const test::CliResult ck = load(out / "checkpoint.safetensors");
  EXPECT_EQ(ck.exit_code, 0) << ck.out << ck.err;
  EXPECT_NE(ck.out.find("loaded strictly, 4 tensors"), std::string::npos) << ck.out;
}

// Colour: 3 planar channels of a non-square image, a residual block, and the
// mirror's deconv with output padding 1 (12 x 10 -> 6 x 5 -> back).
TEST_F(TorchLoad, ColourConvVaeWithAResidualBlock) {
  const fs::path npy = dir_ / "colour.npy";
  const test::CliResult made = test::run_cli(
      kPython,
      {"-c", "import numpy as np; r = np.random.default_rng(3); "
             "np.save('" + npy.string() + "', r.integers(0, 256, (300, 3, 12, 10), dtype=np.uint8))"},
      dir_);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const fs::path out = dir_ / "colour";
  const auto r = run({"train", "--data", npy.string(), "--validation", "100", "--epochs", "1", "--batch", "50",
                      "--encoder", "conv:6:3:2:1,residual:4,dense:16", "--latent", "3", "--activation", "tanh",
                      "--init", "glorot", "--optimizer", "adam", "--lr", "0.003", "--no-report", "--threads", "2",
                      "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_agreement(out / "model.safetensors", {"mu", "logvar", "E[x|z]"});
}

// The two halves can fail: a file with a tensor PyTorch's module does not
// have is refused by the strict load, and a model whose weights differ from
// the file aevb reads (one tensor scaled by 1 + 1e-3, a far smaller change
// than any layout mistake) is a mismatch.
TEST_F(TorchLoad, StrictLoadAndCheckCatchDifferences) {
  const fs::path m = train("conv", {"--encoder", "conv:8:4:2:1,dense:16", "--latent", "3", "--activation", "relu",
                                    "--init", "he"});
  ASSERT_TRUE(fs::exists(m));
  const fs::path extra = dir_ / "extra.safetensors";
  test::rewrite_safetensors(m, extra, [](safetensors::File& f) {
    safetensors::Tensor t = f.tensors.front();
    t.name = "encoder.9.weight";
    f.tensors.push_back(t);
  });
  const test::CliResult strict = load(extra);
  EXPECT_EQ(strict.exit_code, 2) << strict.out << strict.err;
  EXPECT_NE(strict.err.find("encoder.9.weight"), std::string::npos) << strict.err;

  // PyTorch reads `scaled`; the aevb it runs is given the original file.
  const fs::path scaled = dir_ / "scaled.safetensors";
  test::rewrite_safetensors(m, scaled, [](safetensors::File& f) {
    for (auto& t : f.tensors)
      if (t.name == "encoder.0.weight")
        for (float& v : t.data) v *= 1.001f;
  });
  const fs::path fake = dir_ / "aevb_original.sh";
  std::ofstream(fake) << "#!/bin/sh\n# aevb, on the original model whatever --model says\nexe=" << cli_
                      << "\ncmd=$1; shift\nfor a; do shift; [ \"$a\" = " << scaled.string() << " ] && a=" << m.string()
                      << "; set -- \"$@\" \"$a\"; done\nexec \"$exe\" \"$cmd\" \"$@\"\n";
  fs::permissions(fake, fs::perms::owner_all);
  const test::CliResult r = load(scaled, {"--check", "--aevb", fake.string(), "--rows", "20"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("mu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MISMATCH"), std::string::npos) << r.out;
  std::printf("%s", r.out.substr(r.out.find("check against")).c_str());
}

// docs/model-format.md shows the script's module code as the loading snippet:
// the two must not drift apart (no Python needed).
TEST(TorchLoadDocs, SnippetIsTheScriptsModuleCode) {
  const std::string script = test::read_text_file(std::string(AEVB_SOURCE_DIR) + "/tools/torch_load_model.py");
  const std::string docs = test::read_text_file(std::string(AEVB_SOURCE_DIR) + "/docs/model-format.md");
  const std::size_t begin = script.find("def read_safetensors(path):");
  const std::size_t end = script.find("# ----------------------------------------------------------------", begin);
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string core = script.substr(begin, end - begin);
  core.erase(core.find_last_not_of('\n') + 1);
  EXPECT_NE(docs.find(core), std::string::npos)
      << "docs/model-format.md's loading snippet is not tools/torch_load_model.py's module code (from "
         "read_safetensors to the check); copy it over";
}

}  // namespace
}  // namespace aevb
