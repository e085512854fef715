// End-to-end: aevb inpaint on a small MNIST model (the grid's layout, the
// seen pixels kept, the completions, the scores against the mean image)
// and aevb inpaint --denoise on the linear-Gaussian model. Its error rows
// are in cli_errors_test.cpp.
#include "support/cli_run_fixture.hpp"
#include "support/linear_gaussian.hpp"

#include "eval/image_mask.hpp"
#include "io/model_file.hpp"
#include "viz/inpainting_grid.hpp"
#include "viz/png.hpp"

#include <aevb/data.hpp>
#include <aevb/vae.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace aevb {
namespace {

namespace fs = std::filesystem;

class CliInpaint : public test::CliRunTest {};

std::uint8_t byte_of(float v) { return static_cast<std::uint8_t>(std::lround(double(v) * 255.0)); }

TEST_F(CliInpaint, FillsTheHiddenHalfKeepsTheSeenOneAndBeatsTheMeanImage) {
  const fs::path run_dir = dir_ / "run";
  const auto trained = run(small_run(run_dir, {"--epochs", "5", "--no-report"}));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const std::string png = (dir_ / "inpaint.png").string(), npy = (dir_ / "completions.npy").string();
  const std::size_t count = 20, offset = 3, dim = 784;
  const auto r = run({"inpaint", "--model", (run_dir / "model.safetensors").string(), "--data", "mnist", "--mask",
                      "bottom", "--count", "20", "--offset", "3", "--samples", "20", "--burn-in", "50", "--show", "2",
                      "--out", png, "--npy", npy, "--json", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scored"], "hidden");
  EXPECT_EQ(j["binarize"], "fixed") << "a model trained on binarized data sees the fixed sample";
  EXPECT_GT(j["acceptance"].get<double>(), 0.4);
  const auto& ll = j["log_likelihood"];
  EXPECT_GT(ll["difference"].get<double>(), 3 * ll["difference_stderr"].get<double>()) << ll.dump();
  EXPECT_NEAR(ll["difference"].get<double>(), ll["completion"].get<double>() - ll["mean_image"].get<double>(), 1e-9);
  EXPECT_LT(j["squared_error"]["completion"].get<double>(), j["squared_error"]["mean_image"].get<double>());

  // The truth as the CLI saw it: test images 3..22, the fixed binarization sample under seed 1.
  const fs::path data_dir = AEVB_SOURCE_DIR "/../shared/data";
  const Dataset test = resolve_dataset("mnist", Split::test, {&data_dir, 1});
  std::vector<std::uint32_t> rows(count);
  for (std::size_t i = 0; i < count; ++i) rows[i] = std::uint32_t(offset + i);
  std::vector<float> truth(count * dim);
  gather_batch(test, rows, Binarize::fixed, 1, 0, truth.data());

  // The completions: the top 14 rows exactly the input, the bottom ones probabilities, not the truth.
  const Table completions = read_table(npy);
  ASSERT_EQ(completions.values.size(), count * dim);
  double changed = 0;
  for (std::size_t k = 0; k < count * dim; ++k) {
    const float v = completions.values[k];
    if ((k % dim) / 28 < 14) {
      ASSERT_EQ(v, truth[k]) << "seen value " << k;
    } else {
      ASSERT_TRUE(v >= 0 && v <= 1) << v;
      changed += std::abs(v - truth[k]) > 1e-3;
    }
  }
  EXPECT_GT(changed, 0.5 * count * dim / 2) << "the hidden half is inferred, not copied";

  // The grid: per row original | input | completion | 2 samples, RGB, 28-pixel tiles and 1-pixel padding.
  const viz::Image8 grid = viz::decode_png(test::read_text_file(png));
  ASSERT_EQ(grid.width, 1 + 5 * 29);
  ASSERT_EQ(grid.height, int(1 + count * 29));
  ASSERT_EQ(grid.channels, 3);
  for (std::size_t i = 0; i < count; ++i)
    for (int y = 0; y < 28; ++y)
      for (int x = 0; x < 28; ++x) {
        const std::size_t k = i * dim + std::size_t(y * 28 + x);
        const int y0 = 1 + int(i) * 29 + y;
        ASSERT_EQ(grid.at(1 + x, y0, 1), byte_of(truth[k]));
        ASSERT_EQ(grid.at(30 + x, y0, 2), y < 14 ? byte_of(truth[k]) : byte_of(viz::kHiddenTint[2]));
        ASSERT_EQ(grid.at(59 + x, y0, 0), byte_of(completions.values[k]));
      }
}

// --denoise on the linear-Gaussian model (as 2x3 images): the denoised
// values are closer to the clean ones than the noisy input is, every value
// is scored, and nothing is kept from the noisy input.
TEST_F(CliInpaint, DenoisesAGaussianModel) {
  namespace lg = test::linear_gaussian;
  Vae linear = lg::linear_gaussian_vae(1.0);
  ModelConfig c = linear.config();
  c.image_height = 2;
  c.image_width = 3;
  Vae images(c, 1);
  std::copy(linear.parameters().begin(), linear.parameters().end(), images.parameters().begin());
  save_model(dir_ / "linear.safetensors", images);
  const std::vector<float> x = lg::data_from_the_model();
  const std::array<std::size_t, 2> shape{lg::kRows, lg::kD};
  std::ofstream(dir_ / "x.npy", std::ios::binary) << npy_bytes(x, shape);
  const std::string npy = (dir_ / "denoised.npy").string();
  const auto r = run({"inpaint", "--model", (dir_ / "linear.safetensors").string(), "--data",
                      (dir_ / "x.npy").string(), "--scaling", "none", "--denoise", "1.0", "--count", "200",
                      "--samples", "30", "--out", (dir_ / "d.png").string(), "--npy", npy, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["scored"], "all");
  EXPECT_FALSE(j.contains("log_likelihood")) << "a Bernoulli score only";
  const double denoised = j["squared_error"]["completion"].get<double>(),
               noisy = j["squared_error"]["noisy_input"].get<double>();
  EXPECT_NEAR(noisy, 1.0, 0.15) << "noise of sd 1";
  EXPECT_LT(denoised, 0.6 * noisy);
  EXPECT_EQ(read_table(npy).values.size(), lg::kRows * lg::kD);
}

}  // namespace
}  // namespace aevb
