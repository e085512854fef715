// The real datasets in ../shared/data (see its SOURCES.md for the reference
// numbers) through the short names, and the search path's error messages.
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::vector<fs::path> kExtra = {fs::path(AEVB_SOURCE_DIR) / ".." / "shared" / "data"};

std::array<int, 10> histogram(const std::vector<std::int32_t>& labels) {
  std::array<int, 10> h{};
  for (std::int32_t l : labels) {
    if (l >= 0 && l < 10) h[static_cast<std::size_t>(l)]++;
  }
  return h;
}

// Full MNIST train is loaded once per process and shared by the tests below.
class DataRealMnist : public ::testing::Test {
 protected:
  static const aevb::Dataset& train() {
    static const aevb::Dataset d = aevb::resolve_dataset("mnist", aevb::Split::train, kExtra);
    return d;
  }
};

TEST_F(DataRealMnist, TrainCountsLabelsAndPixels) {
  const aevb::Dataset& d = train();
  ASSERT_EQ(d.count, 60000u);
  EXPECT_EQ(d.dim, 784u);
  EXPECT_EQ(d.height, 28u);
  EXPECT_EQ(d.width, 28u);
  EXPECT_TRUE(d.is_bytes());
  EXPECT_FALSE(d.binary);
  ASSERT_EQ(d.labels.size(), 60000u);
  EXPECT_EQ(d.labels[0], 5);
  EXPECT_EQ(histogram(d.labels), (std::array<int, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  EXPECT_NEAR(aevb::mean_value(d), 0.130660, 2e-6);  // the usual normalisation constant 0.1307
  EXPECT_NE(d.source.find("mnist train"), std::string::npos) << d.source;
}

TEST_F(DataRealMnist, DynamicBinarizationMatchesTheGreyMean) {
  const aevb::Dataset& d = train();
  std::vector<std::uint32_t> rows(1000);
  for (std::uint32_t k = 0; k < rows.size(); ++k) rows[k] = k * 60;
  std::vector<float> out(rows.size() * d.dim);
  aevb::gather_batch(d, rows, aevb::Binarize::dynamic, 1, 0, out.data());
  double sample = 0, grey = 0, var = 0;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t p = 0; p < d.dim; ++p) {
      const double v = d.value(rows[r], p);
      grey += v;
      var += v * (1 - v);
      sample += out[r * d.dim + p];
    }
  }
  EXPECT_LT(std::fabs(sample - grey), 4 * std::sqrt(var)) << sample << " vs " << grey;
}

TEST(DataReal, MnistTest) {
  const aevb::Dataset d = aevb::resolve_dataset("mnist", aevb::Split::test, kExtra);
  ASSERT_EQ(d.count, 10000u);
  EXPECT_EQ(d.labels[0], 7);
  EXPECT_EQ(histogram(d.labels), (std::array<int, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
}

TEST(DataReal, FashionMnistLabelsAndTestImages) {
  const aevb::DataFiles train = aevb::locate_dataset("fashion-mnist", aevb::Split::train, kExtra);
  std::array<int, 10> six_thousand;
  six_thousand.fill(6000);
  EXPECT_EQ(histogram(aevb::read_idx_labels(train.labels)), six_thousand);
  const aevb::Dataset test = aevb::resolve_dataset("fashion-mnist", aevb::Split::test, kExtra);
  EXPECT_EQ(test.count, 10000u);
  EXPECT_EQ(test.dim, 784u);
  std::array<int, 10> thousand;
  thousand.fill(1000);
  EXPECT_EQ(histogram(test.labels), thousand);
}

TEST(DataReal, FreyFaces) {
  const aevb::Dataset d = aevb::resolve_dataset("frey", aevb::Split::train, kExtra);
  ASSERT_EQ(d.count, 1965u);
  EXPECT_EQ(d.height, 28u);
  EXPECT_EQ(d.width, 20u);
  EXPECT_EQ(d.dim, 560u);
  EXPECT_TRUE(d.labels.empty());
  EXPECT_NEAR(aevb::mean_value(d) * 255.0, 154.46, 0.005);
  const auto [lo, hi] = std::minmax_element(d.bytes.begin(), d.bytes.end());
  EXPECT_EQ(*lo, 8);
  EXPECT_EQ(*hi, 238);
  const std::string e = aevb::test::error_of([] { aevb::resolve_dataset("frey", aevb::Split::test, kExtra); });
  EXPECT_NE(e.find("frey has no test split"), std::string::npos) << e;
}

TEST(DataReal, NotFoundListsEveryPlaceAndWhatToDo) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::vector<fs::path> path = {dir / "one", dir / "two"};
  const std::string e = aevb::test::error_of([&] { aevb::locate_dataset("fashion-mnist", aevb::Split::test, path); });
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  for (const char* part : {"dataset 'fashion-mnist' (test) not found", "fashion-mnist/t10k-images-idx3-ubyte.gz", "scripts/fetch-data.sh",
                           "AEVB_DATA_DIR"}) {
    EXPECT_NE(e.find(part), std::string::npos) << part << " missing in: " << e;
  }
  EXPECT_NE(e.find((dir / "one").string()), std::string::npos) << e;
  EXPECT_NE(e.find((dir / "two").string()), std::string::npos) << e;
  // Images without their labels.
  fs::create_directories(dir / "one" / "mnist");
  std::ofstream(dir / "one" / "mnist" / "train-images-idx3-ubyte.gz") << "x";
  const std::string m = aevb::test::error_of([&] { aevb::locate_dataset("mnist", aevb::Split::train, path); });
  EXPECT_NE(m.find("labels are missing"), std::string::npos) << m;
  EXPECT_NE(m.find("train-labels-idx1-ubyte"), std::string::npos) << m;
  // Names and typos.
  EXPECT_NE(aevb::test::error_of([] { aevb::resolve_dataset("mnsit", aevb::Split::train); }).find("not a dataset name"), std::string::npos);
  EXPECT_NE(aevb::test::error_of([&] { aevb::locate_dataset("cifar", aevb::Split::train, path); }).find("unknown dataset name 'cifar'"),
            std::string::npos);
  EXPECT_TRUE(aevb::is_dataset_name("fashion-mnist"));
  EXPECT_FALSE(aevb::is_dataset_name("./mnist"));
}

TEST(DataReal, SearchPathOrderAndFirstMatchWins) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const char* old = std::getenv("AEVB_DATA_DIR");
  const std::string saved = old ? old : "";
  ::setenv("AEVB_DATA_DIR", (dir.string() + "::" + (dir / "b").string()).c_str(), 1);
  const std::vector<fs::path> got = aevb::data_search_path(kExtra);
  if (old) {
    ::setenv("AEVB_DATA_DIR", saved.c_str(), 1);
  } else {
    ::unsetenv("AEVB_DATA_DIR");
  }
  const std::vector<fs::path> want = {dir, dir / "b", "data", "../shared/data", kExtra[0]};
  EXPECT_EQ(got, want);
  // A raw (not gzipped) copy in an earlier directory is found first.
  fs::create_directories(dir / "frey");
  const std::string idx = std::string("\0\0\x08\x03", 4) + std::string("\0\0\0\1\0\0\0\1\0\0\0\2", 12) + "ab";
  std::ofstream(dir / "frey" / "frey-faces-idx3-ubyte", std::ios::binary).write(idx.data(), 18);
  const std::vector<fs::path> path = {dir, kExtra[0]};
  EXPECT_EQ(aevb::locate_dataset("frey", aevb::Split::train, path).images, dir / "frey" / "frey-faces-idx3-ubyte");
  EXPECT_EQ(aevb::read_idx_images(aevb::locate_dataset("frey", aevb::Split::train, path).images).count, 1u);
}

}  // namespace
