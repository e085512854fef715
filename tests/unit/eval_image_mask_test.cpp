// The masks of aevb inpaint (src/eval/image_mask.hpp): each spec hides the
// pixels it names, in every channel; random masks hide about the fraction
// asked, per datapoint from the seed; malformed specs say what was expected.
#include "eval/image_mask.hpp"
#include "support/scratch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace aevb {
namespace {

// The hidden pixels of a 1-channel mask as a picture: '#' hidden, '.' seen.
std::string picture(const std::string& spec, std::size_t h, std::size_t w) {
  std::vector<std::uint8_t> seen(h * w);
  parse_image_mask(spec, h, w).fill_seen(1, 1, 0, seen.data());
  std::string out;
  for (std::size_t y = 0; y < h; ++y) {
    for (std::size_t x = 0; x < w; ++x) out += seen[y * w + x] ? '.' : '#';
    out += '\n';
  }
  return out;
}

TEST(ImageMask, RegionsHideWhatTheyName) {
  EXPECT_EQ(picture("top", 5, 4), "####\n####\n....\n....\n....\n");
  EXPECT_EQ(picture("bottom", 5, 4), "....\n....\n....\n####\n####\n");
  EXPECT_EQ(picture("left", 2, 5), "##...\n##...\n");
  EXPECT_EQ(picture("right", 2, 5), "...##\n...##\n");
  EXPECT_EQ(picture("center", 4, 4), "....\n.##.\n.##.\n....\n");
  EXPECT_EQ(picture("rect:1:0:2:3", 3, 4), "....\n###.\n....\n");
  EXPECT_EQ(picture("none", 2, 2), "..\n..\n");
}

TEST(ImageMask, HidesEveryChannelOfAPixel) {
  std::vector<std::uint8_t> seen(3 * 4);
  parse_image_mask("rect:0:1:1:2", 2, 2).fill_seen(3, 1, 0, seen.data());
  EXPECT_EQ(seen, (std::vector<std::uint8_t>{1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1}));
}

// random:0.3 on 784 pixels of 50 datapoints: the hidden share within 4
// binomial standard errors of 0.3; datapoints differ; the same seed and
// index give the same mask, another seed another.
TEST(ImageMask, RandomHidesTheFractionPerDatapoint) {
  const ImageMask mask = parse_image_mask("random:0.3", 28, 28);
  std::vector<std::uint8_t> a(784), b(784);
  std::size_t hidden = 0;
  for (std::size_t r = 0; r < 50; ++r) {
    mask.fill_seen(1, 5, r, a.data());
    for (auto v : a) hidden += v == 0;
  }
  EXPECT_NEAR(double(hidden) / (50 * 784), 0.3, 4 * std::sqrt(0.3 * 0.7 / (50 * 784)));
  mask.fill_seen(1, 5, 3, a.data());
  mask.fill_seen(1, 5, 3, b.data());
  EXPECT_EQ(a, b);
  mask.fill_seen(1, 5, 4, b.data());
  EXPECT_NE(a, b);
  mask.fill_seen(1, 6, 3, b.data());
  EXPECT_NE(a, b);
  parse_image_mask("random:1", 28, 28).fill_seen(1, 5, 0, a.data());
  EXPECT_EQ(a, std::vector<std::uint8_t>(784, 0));
}

TEST(ImageMask, MalformedSpecsSayWhatWasExpected) {
  EXPECT_ERROR_CONTAINS(parse_image_mask("diagonal", 28, 28),
                        "mask spec 'diagonal': expected top, bottom, left, right, center, rect:R0:C0:R1:C1, "
                        "random:FRACTION or none");
  EXPECT_ERROR_CONTAINS(parse_image_mask("rect:0:0:30:10", 28, 28),
                        "mask spec 'rect:0:0:30:10': expected a non-empty block within the model's 28x28 images");
  EXPECT_ERROR_CONTAINS(parse_image_mask("rect:5:5:5:9", 28, 28), "non-empty block");
  EXPECT_ERROR_CONTAINS(parse_image_mask("rect:1:2:3", 28, 28), "expected rect:R0:C0:R1:C1 with four whole numbers");
  EXPECT_ERROR_CONTAINS(parse_image_mask("rect:-1:0:3:3", 28, 28), "four whole numbers");
  EXPECT_ERROR_CONTAINS(parse_image_mask("random:0", 28, 28), "a fraction of hidden pixels in (0, 1]");
  EXPECT_ERROR_CONTAINS(parse_image_mask("random:1.5", 28, 28), "(0, 1]");
  EXPECT_ERROR_CONTAINS(parse_image_mask("random:half", 28, 28), "(0, 1]");
  EXPECT_ERROR_CONTAINS(parse_image_mask("top", 1, 28), "non-empty block");  // half of 1 row is none
}

}  // namespace
}  // namespace aevb
