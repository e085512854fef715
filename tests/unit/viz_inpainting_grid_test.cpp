// The figure of aevb inpaint (src/viz/inpainting_grid.hpp): one row per
// datapoint, original | input with hidden pixels tinted | completions,
// always RGB, grey values as equal channels; colour images keep theirs.
#include "viz/inpainting_grid.hpp"

#include "aevb/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace aevb::viz {
namespace {

std::uint8_t byte_of(float v) { return static_cast<std::uint8_t>(std::lround(double(v) * 255.0)); }

TEST(InpaintingGrid, RowsHoldOriginalTintedInputAndCompletions) {
  const int n = 2, h = 2, w = 3, per_row = 2;
  const std::size_t d = h * w;
  std::vector<float> originals(n * d), inputs(n * d), completions(n * per_row * d);
  for (std::size_t i = 0; i < originals.size(); ++i) originals[i] = float(i) / 20.0f, inputs[i] = 0.9f - float(i) / 30.0f;
  for (std::size_t i = 0; i < completions.size(); ++i) completions[i] = float(i) / 40.0f;
  std::vector<std::uint8_t> seen(n * d, 1);
  seen[1] = seen[d + 5] = 0;  // datapoint 0's pixel (0, 1), datapoint 1's (1, 2)
  const Image8 img = inpainting_grid({originals.data(), n, d}, {inputs.data(), n, d}, seen.data(),
                                     {completions.data(), n * per_row, d}, per_row, h, w, 1);
  ASSERT_EQ(img.channels, 3);
  EXPECT_EQ(img.width, 1 + 4 * (w + 1));
  EXPECT_EQ(img.height, 1 + n * (h + 1));
  for (int r = 0; r < n; ++r)
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const std::size_t p = std::size_t(r) * d + std::size_t(y * w + x);
        const int y0 = 1 + r * (h + 1) + y;
        for (int c = 0; c < 3; ++c) {
          EXPECT_EQ(img.at(1 + x, y0, c), byte_of(originals[p]));
          const float in = seen[p] ? inputs[p] : kHiddenTint[std::size_t(c)];
          EXPECT_EQ(img.at(1 + (w + 1) + x, y0, c), byte_of(in)) << "datapoint " << r << " (" << x << "," << y << ")";
          for (int k = 0; k < per_row; ++k)
            EXPECT_EQ(img.at(1 + (2 + k) * (w + 1) + x, y0, c),
                      byte_of(completions[(std::size_t(r) * per_row + std::size_t(k)) * d + std::size_t(y * w + x)]));
        }
      }
  EXPECT_NE(img.at(1 + (w + 1) + 1, 1, 0), img.at(1 + (w + 1) + 1, 1, 2)) << "the tint is a colour";
  EXPECT_THROW(inpainting_grid({originals.data(), n, d}, {inputs.data(), 1, d}, nullptr,
                               {completions.data(), n * per_row, d}, per_row, h, w, 1),
               InputError);
}

TEST(InpaintingGrid, ColourImagesKeepTheirChannels) {
  const std::size_t d = 3 * 4;  // 3 planes of 2x2
  std::vector<float> image(d);
  for (std::size_t i = 0; i < d; ++i) image[i] = float(i) / 12.0f;
  const Image8 img = inpainting_grid({image.data(), 1, d}, {image.data(), 1, d}, nullptr, {image.data(), 1, d}, 1, 2,
                                     2, 3);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(img.at(1 + 1, 1 + 1, c), byte_of(image[std::size_t(c) * 4 + 3]));
}

}  // namespace
}  // namespace aevb::viz
