// Binarization, minibatch gathering, epoch order, subsets, the validation
// split and the NPY / CSV writers, on small in-memory datasets.
#include <aevb/data.hpp>
#include <aevb/error.hpp>

#include "core/rng.hpp"

#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// count x dim grey bytes covering 0..255, labels = row index.
aevb::Dataset grey_bytes(std::size_t count, std::size_t dim) {
  aevb::Dataset d;
  d.count = count;
  d.dim = dim;
  d.bytes.resize(count * dim);
  for (std::size_t k = 0; k < d.bytes.size(); ++k) d.bytes[k] = static_cast<std::uint8_t>((k * 37 + k / 7) % 256);
  d.labels.resize(count);
  std::iota(d.labels.begin(), d.labels.end(), 0);
  d.source = "test bytes";
  return d;
}

aevb::Dataset grey_floats(std::size_t count, std::size_t dim) {
  aevb::Dataset d = grey_bytes(count, dim);
  d.floats.resize(d.bytes.size());
  for (std::size_t k = 0; k < d.bytes.size(); ++k) d.floats[k] = static_cast<float>(k % 1000) / 999.0f;
  d.bytes.clear();
  return d;
}

std::vector<std::uint32_t> all_rows(std::size_t n) {
  std::vector<std::uint32_t> rows(n);
  std::iota(rows.begin(), rows.end(), 0u);
  return rows;
}

std::vector<float> gather(const aevb::Dataset& d, const std::vector<std::uint32_t>& rows, aevb::Binarize mode,
                          std::uint64_t seed, std::uint64_t epoch) {
  std::vector<float> out(rows.size() * d.dim, -7.0f);
  aevb::gather_batch(d, rows, mode, seed, epoch, out.data());
  return out;
}

TEST(DataBinarize, NamesRoundTripAndUnknownIsAnError) {
  for (auto b : {aevb::Binarize::none, aevb::Binarize::dynamic, aevb::Binarize::fixed}) {
    EXPECT_EQ(aevb::parse_binarize(aevb::to_string(b)), b);
  }
  EXPECT_EQ(aevb::to_string(aevb::Binarize::dynamic), "dynamic");
  for (auto s : {aevb::Scaling::unit, aevb::Scaling::minmax, aevb::Scaling::none}) {
    EXPECT_EQ(aevb::parse_scaling(aevb::to_string(s)), s);
  }
  EXPECT_EQ(aevb::parse_split("test"), aevb::Split::test);
  try {
    aevb::parse_binarize("random");
    ADD_FAILURE() << "no error";
  } catch (const aevb::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'random'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("none, dynamic, fixed"), std::string::npos) << e.what();
  }
  EXPECT_THROW(aevb::parse_split("valid"), aevb::InputError);
}

TEST(DataBatch, NoneGivesTheValuesOfTheListedRows) {
  const aevb::Dataset b = grey_bytes(10, 6);
  const std::vector<std::uint32_t> rows = {7, 2, 7};
  const std::vector<float> out = gather(b, rows, aevb::Binarize::none, 1, 0);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    for (std::size_t p = 0; p < 6; ++p) {
      EXPECT_EQ(out[r * 6 + p], static_cast<float>(b.bytes[rows[r] * 6 + p]) / 255.0f);
    }
  }
  EXPECT_EQ(out[0 * 6 + 0], b.value(7, 0));
  const aevb::Dataset f = grey_floats(10, 6);
  const std::vector<float> fo = gather(f, rows, aevb::Binarize::none, 1, 0);
  for (std::size_t p = 0; p < 6; ++p) EXPECT_EQ(fo[6 + p], f.floats[2 * 6 + p]);
  std::vector<float> one(6);
  const std::uint32_t bad = 10;
  EXPECT_THROW(aevb::gather_batch(b, std::span(&bad, 1), aevb::Binarize::none, 1, 0, one.data()), std::out_of_range);
}

TEST(DataBatch, DynamicFollowsTheDefinition) {
  // pixel p of datapoint i in epoch e is 1 iff u < value, u = uniform (i*dim + p)
  // of stream rng_stream(binarize, e).
  const aevb::Dataset b = grey_bytes(20, 13);
  const std::uint64_t seed = 42, epoch = 3;
  const std::vector<std::uint32_t> rows = {19, 0, 5};
  const std::vector<float> out = gather(b, rows, aevb::Binarize::dynamic, seed, epoch);
  std::vector<float> u(13);
  for (std::size_t r = 0; r < rows.size(); ++r) {
    aevb::fill_uniform(u.data(), 13, seed, aevb::rng_stream(aevb::RngPurpose::binarize, epoch), std::uint64_t{rows[r]} * 13);
    for (std::size_t p = 0; p < 13; ++p) {
      EXPECT_EQ(out[r * 13 + p], u[p] < b.value(rows[r], p) ? 1.0f : 0.0f) << "row " << rows[r] << " pixel " << p;
    }
  }
}

TEST(DataBatch, DynamicMeanMatchesGreyMeanWithinStandardErrors) {
  for (const aevb::Dataset& d : {grey_bytes(400, 250), grey_floats(400, 250)}) {
    const std::vector<float> out = gather(d, all_rows(d.count), aevb::Binarize::dynamic, 7, 0);
    double grey = 0, var = 0, sample = 0;
    for (std::size_t i = 0; i < d.count; ++i) {
      for (std::size_t p = 0; p < d.dim; ++p) {
        const double v = d.value(i, p);
        grey += v;
        var += v * (1 - v);
        sample += out[i * d.dim + p];
        ASSERT_TRUE(out[i * d.dim + p] == 0.0f || out[i * d.dim + p] == 1.0f);
        if (v == 0.0) {
          ASSERT_EQ(out[i * d.dim + p], 0.0f);
        }
        if (v == 1.0) {
          ASSERT_EQ(out[i * d.dim + p], 1.0f);
        }
      }
    }
    const double se = std::sqrt(var);  // of the sum
    EXPECT_LT(std::fabs(sample - grey), 4 * se) << d.source << ": sum " << sample << " vs " << grey << ", se " << se;
    EXPECT_GT(se, 100.0);  // the test has power: 100000 draws
  }
}

TEST(DataBatch, DynamicIndependentOfBatchCompositionAndNewEachEpoch) {
  const aevb::Dataset d = grey_bytes(50, 100);
  const std::vector<float> batch = gather(d, {3, 41, 17}, aevb::Binarize::dynamic, 9, 2);
  const std::vector<float> alone = gather(d, {41}, aevb::Binarize::dynamic, 9, 2);
  EXPECT_TRUE(std::equal(alone.begin(), alone.end(), batch.begin() + 100));
  EXPECT_EQ(gather(d, {41}, aevb::Binarize::dynamic, 9, 2), alone);  // deterministic
  // Another epoch or seed is another sample: for grey pixels about 2 v (1 - v) of them differ.
  const std::vector<float> all2 = gather(d, all_rows(50), aevb::Binarize::dynamic, 9, 2);
  const std::vector<float> all3 = gather(d, all_rows(50), aevb::Binarize::dynamic, 9, 3);
  const std::vector<float> seed8 = gather(d, all_rows(50), aevb::Binarize::dynamic, 8, 2);
  std::size_t differ = 0, differ_seed = 0;
  double expected = 0;
  for (std::size_t k = 0; k < all2.size(); ++k) {
    const double v = d.bytes[k] / 255.0;
    expected += 2 * v * (1 - v);
    differ += all2[k] != all3[k];
    differ_seed += all2[k] != seed8[k];
  }
  EXPECT_NEAR(static_cast<double>(differ), expected, 5 * std::sqrt(expected));
  EXPECT_NEAR(static_cast<double>(differ_seed), expected, 5 * std::sqrt(expected));
}

TEST(DataBatch, FixedIsTheSameEveryEpochAndEqualsTheStoredSample) {
  aevb::Dataset d = grey_bytes(30, 40);
  const std::vector<std::uint32_t> rows = all_rows(30);
  const std::vector<float> e0 = gather(d, rows, aevb::Binarize::fixed, 5, 0);
  EXPECT_EQ(gather(d, rows, aevb::Binarize::fixed, 5, 17), e0);
  EXPECT_NE(gather(d, rows, aevb::Binarize::dynamic, 5, 0), e0);  // its own stream
  EXPECT_NE(gather(d, rows, aevb::Binarize::fixed, 6, 0), e0);
  double mean = 0;
  for (float v : e0) mean += v;
  EXPECT_NEAR(mean / static_cast<double>(e0.size()), aevb::mean_value(d), 0.03);
  // Stored once: the same values, now as bytes 0/255, with no sampling per batch.
  aevb::binarize_fixed(d, 5);
  EXPECT_TRUE(d.binary);
  ASSERT_TRUE(d.is_bytes());
  for (std::uint8_t b : d.bytes) ASSERT_TRUE(b == 0 || b == 255);
  EXPECT_EQ(gather(d, rows, aevb::Binarize::none, 5, 0), e0);
  EXPECT_EQ(gather(d, rows, aevb::Binarize::fixed, 5, 3), e0);
  EXPECT_EQ(gather(d, rows, aevb::Binarize::dynamic, 5, 3), e0);  // binary data is its own sample
  // Float storage follows the same rule.
  aevb::Dataset f = grey_floats(30, 40);
  const std::vector<float> fe = gather(f, rows, aevb::Binarize::fixed, 5, 0);
  aevb::binarize_fixed(f, 5);
  EXPECT_EQ(gather(f, rows, aevb::Binarize::none, 5, 0), fe);
}

TEST(DataShuffle, PermutationDeterministicAndNewEachEpoch) {
  const auto a = aevb::shuffled_indices(1000, 3, 0);
  std::vector<std::uint32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, all_rows(1000));
  EXPECT_EQ(aevb::shuffled_indices(1000, 3, 0), a);
  EXPECT_NE(aevb::shuffled_indices(1000, 3, 1), a);
  EXPECT_NE(aevb::shuffled_indices(1000, 4, 0), a);
  std::vector<std::uint32_t> into(1000, 99);
  aevb::shuffle_indices(into, 3, 0);
  EXPECT_EQ(into, a);
  EXPECT_TRUE(aevb::shuffled_indices(0, 1, 0).empty());
  EXPECT_EQ(aevb::shuffled_indices(1, 1, 0), std::vector<std::uint32_t>{0});
  EXPECT_NE(a, all_rows(1000));
}

TEST(DataShuffle, EveryPositionIsEquallyLikely) {
  // Where element 0 lands, over 4000 epochs of n = 5: a chi-square test (4 dof, 0.1% level 18.47).
  const int epochs = 4000;
  std::vector<int> where(5, 0);
  for (int e = 0; e < epochs; ++e) {
    const auto order = aevb::shuffled_indices(5, 11, static_cast<std::uint64_t>(e));
    where[std::find(order.begin(), order.end(), 0u) - order.begin()]++;
  }
  double chi2 = 0;
  for (int c : where) chi2 += (c - epochs / 5.0) * (c - epochs / 5.0) / (epochs / 5.0);
  EXPECT_LT(chi2, 18.47);
}

TEST(DataSplit, DisjointCoveringOrderedAndSeeded) {
  const aevb::Dataset d = grey_bytes(1000, 3);
  const aevb::ValidationSplit s = aevb::split_validation(d, 0.1, 21);
  ASSERT_EQ(s.validation.count, 100u);
  ASSERT_EQ(s.train.count, 900u);
  std::set<std::int32_t> seen;
  for (const aevb::Dataset* part : {&s.train, &s.validation}) {
    EXPECT_TRUE(std::is_sorted(part->labels.begin(), part->labels.end()));
    for (std::size_t r = 0; r < part->count; ++r) {
      const auto i = static_cast<std::size_t>(part->labels[r]);  // labels are original row numbers
      EXPECT_TRUE(seen.insert(part->labels[r]).second) << "row " << i << " twice";
      for (std::size_t p = 0; p < 3; ++p) ASSERT_EQ(part->bytes[r * 3 + p], d.bytes[i * 3 + p]);
    }
  }
  EXPECT_EQ(seen.size(), 1000u);
  // Spread over the whole set, not a block.
  EXPECT_LT(s.validation.labels.front(), 100);
  EXPECT_GT(s.validation.labels.back(), 900);
  EXPECT_EQ(aevb::split_validation(d, 0.1, 21).validation.labels, s.validation.labels);
  EXPECT_NE(aevb::split_validation(d, 0.1, 22).validation.labels, s.validation.labels);
  EXPECT_EQ(aevb::split_validation(d, 250, 21).validation.count, 250u);
  const aevb::ValidationSplit none = aevb::split_validation(d, 0, 21);
  EXPECT_EQ(none.validation.count, 0u);
  EXPECT_EQ(none.train.bytes, d.bytes);
}

TEST(DataSplit, SizesThatLeaveNothingAreErrors) {
  const aevb::Dataset d = grey_bytes(10, 2);
  EXPECT_THROW(aevb::split_validation(d, 10, 1), aevb::InputError);
  EXPECT_THROW(aevb::split_validation(d, 1.5, 1), aevb::InputError);
  EXPECT_THROW(aevb::split_validation(d, -0.1, 1), aevb::InputError);
  EXPECT_ERROR_CONTAINS(aevb::split_validation(d, 12, 1), "leaves nothing to train on");
}

TEST(DataSubset, SelectAndFirstRowsKeepValuesLabelsAndShape) {
  aevb::Dataset d = grey_floats(8, 4);
  d.height = 2;
  d.width = 2;
  const aevb::Dataset s = aevb::select_rows(d, std::vector<std::uint32_t>{6, 1});
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.height, 2u);
  EXPECT_EQ(s.labels, (std::vector<std::int32_t>{6, 1}));
  for (std::size_t p = 0; p < 4; ++p) EXPECT_EQ(s.value(0, p), d.value(6, p));
  const aevb::Dataset f = aevb::first_rows(d, 3);
  EXPECT_EQ(f.count, 3u);
  EXPECT_EQ(f.floats.size(), 12u);
  EXPECT_EQ(f.labels, (std::vector<std::int32_t>{0, 1, 2}));
  EXPECT_EQ(aevb::first_rows(d, 100).count, 8u);
  const aevb::Dataset b = grey_bytes(3, 2);
  double sum = 0;
  for (std::uint8_t v : b.bytes) sum += v / 255.0;
  EXPECT_NEAR(aevb::mean_value(b), sum / 6, 1e-12);
}

TEST(DataWriters, NpyRoundTripAndAlignment) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::vector<float> v = {1.5f, -2.25f, 3e-8f, 0.0f, 7.0f, -0.5f};
  const std::size_t shape[2] = {2, 3};
  const std::string bytes = aevb::npy_bytes(v, shape);
  const std::size_t header_end = bytes.find('\n') + 1;
  EXPECT_EQ(header_end % 64, 0u);
  EXPECT_EQ(bytes.size(), header_end + 24);
  EXPECT_NE(bytes.find("'descr': '<f4'"), std::string::npos);
  EXPECT_NE(bytes.find("'shape': (2, 3)"), std::string::npos);
  scratch.write("z.npy", bytes);
  const aevb::Table t = aevb::read_table(dir / "z.npy");
  EXPECT_EQ(t.rows, 2u);
  EXPECT_EQ(t.cols, 3u);
  EXPECT_EQ(t.values, v);
  const std::size_t flat[1] = {6};
  EXPECT_NE(aevb::npy_bytes(v, flat).find("(6,)"), std::string::npos);
  EXPECT_THROW(aevb::npy_bytes(v, std::vector<std::size_t>{4}), std::invalid_argument);
}

TEST(DataWriters, CsvRoundTripIsExact) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  const std::vector<float> v = {0.1f, -1e-7f, 123456.78f, 1.0f / 3.0f, -0.0f, 2.5f};
  const std::vector<std::string> names = {"mu_0", "mu_1"};
  const std::string text = aevb::csv_bytes(v, 2, names);
  EXPECT_EQ(text.substr(0, 10), "mu_0,mu_1\n");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  scratch.write("z.csv", text);
  const aevb::Table t = aevb::read_table(dir / "z.csv");
  EXPECT_EQ(t.rows, 3u);
  EXPECT_EQ(t.cols, 2u);
  EXPECT_EQ(t.values, v);
  EXPECT_EQ(aevb::csv_bytes(std::vector<float>{0.5f, 1.0f}, 1), "0.5\n1\n");
  EXPECT_THROW(aevb::csv_bytes(v, 4), std::invalid_argument);
}

TEST(DataWriters, TableKeepsValuesAsTheyAre) {
  const aevb::test::TempDir scratch;
  const fs::path& dir = scratch.path;
  scratch.write("t.csv", "-3,400\n0.5,2\n");
  const aevb::Table t = aevb::read_table(dir / "t.csv");
  EXPECT_EQ(t.values, (std::vector<float>{-3.0f, 400.0f, 0.5f, 2.0f}));
  scratch.write("bad.csv", "1,x\n");
  EXPECT_THROW(aevb::read_table(dir / "bad.csv"), aevb::InputError);
}

}  // namespace
