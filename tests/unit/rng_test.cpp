#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace aevb {
namespace {

// Known-answer vectors of Philox4x32-10 from Random123 (kat_vectors):
// counter (c0..c3), key (k0, k1) -> output.
TEST(Philox, MatchesRandom123KnownAnswers) {
  EXPECT_EQ(philox4x32(0, 0, 0), (std::array<std::uint32_t, 4>{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}));
  EXPECT_EQ(philox4x32(~0ull, ~0ull, ~0ull),
            (std::array<std::uint32_t, 4>{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}));
  EXPECT_EQ(philox4x32(0x299f31d0a4093822ull, 0x0370734413198a2eull, 0x85a308d3243f6a88ull),
            (std::array<std::uint32_t, 4>{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}));
}

TEST(FillNormal, AnyOffsetGivesTheSameStream) {
  std::vector<float> whole(103), tail(90);
  fill_normal(whole.data(), whole.size(), 7, rng_stream(RngPurpose::eps, 3));
  fill_normal(tail.data(), tail.size(), 7, rng_stream(RngPurpose::eps, 3), 13);
  for (std::size_t i = 0; i < tail.size(); ++i) EXPECT_EQ(tail[i], whole[13 + i]) << i;
}

TEST(FillNormal, DifferentStreamsAndSeedsDiffer) {
  std::vector<float> a(8), b(8), c(8);
  fill_normal(a.data(), 8, 1, rng_stream(RngPurpose::eps, 0));
  fill_normal(b.data(), 8, 1, rng_stream(RngPurpose::eps, 1));
  fill_normal(c.data(), 8, 2, rng_stream(RngPurpose::eps, 0));
  EXPECT_NE(a, b);
  EXPECT_NE(a, c);
}

// Moments of N(0,1) from n = 200000 draws: the standard error of the mean is
// 1/sqrt(n) = 0.0022, of the variance sqrt(2/n) = 0.0032, of the fourth
// moment sqrt(96/n) = 0.022; 5 standard errors each.
TEST(FillNormal, HasStandardNormalMoments) {
  const std::size_t n = 200000;
  std::vector<double> v(n);
  fill_normal(v.data(), n, 42, rng_stream(RngPurpose::eval_eps, 0));
  double m1 = 0, m2 = 0, m4 = 0;
  for (double x : v) {
    m1 += x;
    m2 += x * x;
    m4 += x * x * x * x;
  }
  m1 /= n;
  m2 /= n;
  m4 /= n;
  EXPECT_NEAR(m1, 0.0, 5 / std::sqrt(double(n)));
  EXPECT_NEAR(m2, 1.0, 5 * std::sqrt(2.0 / n));
  EXPECT_NEAR(m4, 3.0, 5 * std::sqrt(96.0 / n));
}

// Uniform on [0,1): mean 1/2 with standard error sqrt(1/12/n).
TEST(FillUniform, IsUniformOnUnitInterval) {
  const std::size_t n = 100000;
  std::vector<float> u(n);
  fill_uniform(u.data(), n, 3, rng_stream(RngPurpose::binarize, 0));
  double mean = 0;
  std::size_t below_tenth = 0;
  for (float x : u) {
    ASSERT_GE(x, 0.0f);
    ASSERT_LT(x, 1.0f);
    mean += x;
    below_tenth += x < 0.1f;
  }
  EXPECT_NEAR(mean / n, 0.5, 5 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(double(below_tenth) / n, 0.1, 5 * std::sqrt(0.09 / n));
}

TEST(CounterRng, BelowIsInRangeAndCoversIt) {
  CounterRng rng(9, rng_stream(RngPurpose::shuffle, 0));
  std::vector<int> counts(7, 0);
  for (int i = 0; i < 70000; ++i) {
    const auto v = rng.below(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  // Each count ~ Binomial(70000, 1/7): sd = sqrt(70000 * 1/7 * 6/7) = 92.6.
  for (int c : counts) EXPECT_NEAR(c, 10000, 5 * 92.6);
}

}  // namespace
}  // namespace aevb
