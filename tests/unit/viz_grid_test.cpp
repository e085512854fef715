// Image grids: every tile pixel lands where the documented layout says, with
// value round(clamp(v) * 255), and everything else is background.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "aevb/error.hpp"
#include "support/scratch.hpp"
#include "viz/image_grid.hpp"

namespace aevb::viz {
namespace {

// n images of h x w with distinct values in [0, 1).
std::vector<float> distinct_images(int n, int h, int w) {
  std::vector<float> v(static_cast<std::size_t>(n * h * w));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i % 97) / 97.0f;
  return v;
}

std::uint8_t expected_byte(float v) { return static_cast<std::uint8_t>(std::lround(static_cast<double>(v) * 255.0)); }

// Checks image i of `values` at top-left (x0, y0) and marks its pixels.
void expect_tile(const Image8& img, const std::vector<float>& values, int i, int h, int w, int x0, int y0,
                 std::vector<bool>& covered) {
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const float v = values[static_cast<std::size_t>((i * h + y) * w + x)];
      ASSERT_EQ(img.at(x0 + x, y0 + y), expected_byte(v)) << "image " << i << " pixel (" << x << "," << y << ")";
      covered[static_cast<std::size_t>((y0 + y) * img.width + x0 + x)] = true;
    }
  }
}

void expect_rest_is_background(const Image8& img, const std::vector<bool>& covered, std::uint8_t bg) {
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      if (!covered[static_cast<std::size_t>(y * img.width + x)]) {
        ASSERT_EQ(img.at(x, y), bg) << "background at (" << x << "," << y << ")";
      }
    }
  }
}

TEST(VizGrid, ToByteRoundsAndClamps) {
  EXPECT_EQ(to_byte(0.0f), 0);
  EXPECT_EQ(to_byte(1.0f), 255);
  EXPECT_EQ(to_byte(0.5f), 128);  // 127.5 rounds up
  EXPECT_EQ(to_byte(0.2f), 51);
  EXPECT_EQ(to_byte(100.0f / 255.0f), 100);
  EXPECT_EQ(to_byte(-0.3f), 0);
  EXPECT_EQ(to_byte(7.0f), 255);
  EXPECT_EQ(to_byte(std::numeric_limits<float>::quiet_NaN()), 0);
  EXPECT_EQ(to_byte(std::numeric_limits<float>::infinity()), 255);
}

TEST(VizGrid, TilesInReadingOrderWithPadding) {
  const int n = 5, h = 3, w = 4;
  const std::vector<float> values = distinct_images(n, h, w);
  GridStyle style;
  style.padding = 2;
  style.background = 0.25f;
  const Image8 img = tile_images(ConstMatrix{values.data(), n, h * w}, h, w, 1, style);
  // ceil(sqrt(5)) = 3 columns, 2 rows.
  EXPECT_EQ(img.channels, 1);
  EXPECT_EQ(img.width, 3 * (w + 2) + 2);
  EXPECT_EQ(img.height, 2 * (h + 2) + 2);
  std::vector<bool> covered(static_cast<std::size_t>(img.width * img.height), false);
  for (int i = 0; i < n; ++i) {
    expect_tile(img, values, i, h, w, 2 + (i % 3) * (w + 2), 2 + (i / 3) * (h + 2), covered);
  }
  expect_rest_is_background(img, covered, 64);  // round(0.25 * 255) = 64
}

TEST(VizGrid, ExplicitColumnsAndClamping) {
  const int n = 4, h = 2, w = 2;
  std::vector<float> values = distinct_images(n, h, w);
  values[0] = -5.0f;
  values[1] = 5.0f;
  values[2] = std::numeric_limits<float>::quiet_NaN();
  GridStyle style;
  style.columns = 1;
  style.padding = 0;
  const Image8 img = tile_images(ConstMatrix{values.data(), n, h * w}, h, w, 1, style);
  EXPECT_EQ(img.width, 2);
  EXPECT_EQ(img.height, 8);
  EXPECT_EQ(img.at(0, 0), 0);
  EXPECT_EQ(img.at(1, 0), 255);
  EXPECT_EQ(img.at(0, 1), 0);
  EXPECT_EQ(img.at(1, 7), expected_byte(values[15]));
  // More columns than images: one row, no empty cells.
  style.columns = 10;
  const Image8 wide = tile_images(ConstMatrix{values.data(), n, h * w}, h, w, 1, style);
  EXPECT_EQ(wide.width, 8);
  EXPECT_EQ(wide.height, 2);
}

TEST(VizGrid, ScaleEnlargesEveryPixelToABlock) {
  const int n = 2, h = 2, w = 3;
  const std::vector<float> values = distinct_images(n, h, w);
  GridStyle style;
  style.padding = 1;
  const Image8 base = tile_images(ConstMatrix{values.data(), n, h * w}, h, w, 1, style);
  style.scale = 3;
  const Image8 big = tile_images(ConstMatrix{values.data(), n, h * w}, h, w, 1, style);
  ASSERT_EQ(big.width, base.width * 3);
  ASSERT_EQ(big.height, base.height * 3);
  for (int y = 0; y < big.height; ++y) {
    for (int x = 0; x < big.width; ++x) ASSERT_EQ(big.at(x, y), base.at(x / 3, y / 3));
  }
}

TEST(VizGrid, ReconstructionsSitBesideTheirInputs) {
  const int n = 3, h = 2, w = 2;
  const std::vector<float> inputs = distinct_images(n, h, w);
  std::vector<float> recons(inputs.size());
  for (std::size_t i = 0; i < recons.size(); ++i) recons[i] = 1.0f - inputs[i] * 0.5f;
  GridStyle style;
  style.padding = 1;
  style.background = 1.0f;
  const Image8 img = reconstruction_grid(ConstMatrix{inputs.data(), n, h * w}, ConstMatrix{recons.data(), n, h * w},
                                         h, w, 1, style);
  // ceil(sqrt(3 / 2)) = 2 pairs per row, 2 rows; a pair is 2 + 1 + 2 = 5 wide, 4 pixels between pairs.
  EXPECT_EQ(img.width, 1 + 5 + 4 + 5 + 1);
  EXPECT_EQ(img.height, 2 * (h + 1) + 1);
  std::vector<bool> covered(static_cast<std::size_t>(img.width * img.height), false);
  for (int i = 0; i < n; ++i) {
    const int x0 = 1 + (i % 2) * 9, y0 = 1 + (i / 2) * 3;
    expect_tile(img, inputs, i, h, w, x0, y0, covered);
    expect_tile(img, recons, i, h, w, x0 + 3, y0, covered);
  }
  expect_rest_is_background(img, covered, 255);

  std::vector<float> fewer(inputs.begin(), inputs.begin() + 2 * h * w);
  EXPECT_THROW(reconstruction_grid(ConstMatrix{inputs.data(), n, h * w}, ConstMatrix{fewer.data(), 2, h * w}, h, w, 1),
               InputError);
}

TEST(VizGrid, ManifoldIsAnExplicitRowsByColsArrangement) {
  const int rows = 2, cols = 3, h = 2, w = 3;
  const std::vector<float> values = distinct_images(rows * cols, h, w);
  GridStyle style;
  style.padding = 0;
  style.columns = 1;  // ignored
  const Image8 img = manifold_grid(ConstMatrix{values.data(), rows * cols, h * w}, rows, cols, h, w, 1, style);
  EXPECT_EQ(img.width, cols * w);
  EXPECT_EQ(img.height, rows * h);
  std::vector<bool> covered(static_cast<std::size_t>(img.width * img.height), false);
  for (int i = 0; i < rows * cols; ++i) expect_tile(img, values, i, h, w, (i % cols) * w, (i / cols) * h, covered);
  EXPECT_THROW(manifold_grid(ConstMatrix{values.data(), rows * cols, h * w}, 2, 2, h, w, 1), InputError);
  EXPECT_THROW(manifold_grid(ConstMatrix{values.data(), rows * cols, h * w}, 0, 6, h, w, 1), InputError);
}

TEST(VizGrid, InterpolationRowsGoLeftToRight) {
  const int paths = 2, steps = 4, h = 1, w = 2;
  const std::vector<float> values = distinct_images(paths * steps, h, w);
  GridStyle style;
  style.padding = 1;
  style.background = 0.0f;
  const Image8 img = interpolation_grid(ConstMatrix{values.data(), paths * steps, h * w}, paths, steps, h, w, 1, style);
  EXPECT_EQ(img.width, steps * (w + 1) + 1);
  EXPECT_EQ(img.height, paths * (h + 1) + 1);
  std::vector<bool> covered(static_cast<std::size_t>(img.width * img.height), false);
  for (int i = 0; i < paths * steps; ++i) {
    expect_tile(img, values, i, h, w, 1 + (i % steps) * (w + 1), 1 + (i / steps) * (h + 1), covered);
  }
  expect_rest_is_background(img, covered, 0);
  EXPECT_THROW(interpolation_grid(ConstMatrix{values.data(), paths * steps, h * w}, 3, 4, h, w, 1), InputError);
}

TEST(VizGrid, RefusesBadShapesAndStyles) {
  std::vector<float> values(12, 0.5f);
  EXPECT_THROW(tile_images(ConstMatrix{values.data(), 0, 12}, 3, 4, 1), InputError);   // no images
  EXPECT_THROW(tile_images(ConstMatrix{values.data(), 1, 12}, 3, 5, 1), InputError);   // 12 != 15
  EXPECT_THROW(tile_images(ConstMatrix{values.data(), 1, 12}, 0, 12, 1), InputError);  // empty image
  GridStyle style;
  style.scale = 0;
  EXPECT_THROW(tile_images(ConstMatrix{values.data(), 1, 12}, 3, 4, 1, style), InputError);
  style.scale = 1;
  style.padding = -1;
  EXPECT_THROW(tile_images(ConstMatrix{values.data(), 1, 12}, 3, 4, 1, style), InputError);
  // A grid too large for a PNG is refused before allocating it.
  std::vector<float> dots(2000, 0.5f);
  style.padding = 1000;
  style.columns = 2000;  // 2000 * 1001 + 1000 pixels wide
  EXPECT_THROW(tile_images(ConstMatrix{dots.data(), 2000, 1}, 1, 1, 1, style), InputError);
  style.columns = 900;
  EXPECT_NO_THROW(tile_images(ConstMatrix{dots.data(), 2, 1}, 1, 1, 1, style));
  try {
    tile_images(ConstMatrix{values.data(), 1, 12}, 3, 5, 1);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("3x5"), std::string::npos) << e.what();
  }
}

// Image i of `values` (3 planes of h x w) at top-left (x0, y0) of an RGB grid.
void expect_rgb_tile(const Image8& img, const std::vector<float>& values, int i, int h, int w, int x0, int y0,
                     std::vector<bool>& covered) {
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = values[static_cast<std::size_t>(((i * 3 + c) * h + y) * w + x)];
        ASSERT_EQ(img.at(x0 + x, y0 + y, c), expected_byte(v))
            << "image " << i << " channel " << c << " pixel (" << x << "," << y << ")";
      }
      covered[static_cast<std::size_t>((y0 + y) * img.width + x0 + x)] = true;
    }
  }
}

TEST(VizGrid, ColourImagesTileAsRgb) {
  const int n = 5, h = 2, w = 3;
  const std::vector<float> values = distinct_images(n * 3, h, w);  // n images of 3 planes
  GridStyle style;
  style.padding = 1;
  style.background = 0.25f;
  const Image8 img = tile_images(ConstMatrix{values.data(), n, 3 * h * w}, h, w, 3, style);
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.width, 3 * (w + 1) + 1);
  EXPECT_EQ(img.height, 2 * (h + 1) + 1);
  std::vector<bool> covered(static_cast<std::size_t>(img.width * img.height), false);
  for (int i = 0; i < n; ++i) expect_rgb_tile(img, values, i, h, w, 1 + (i % 3) * (w + 1), 1 + (i / 3) * (h + 1), covered);
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      if (covered[static_cast<std::size_t>(y * img.width + x)]) continue;
      for (int c = 0; c < 3; ++c) ASSERT_EQ(img.at(x, y, c), 64) << "background at (" << x << "," << y << ")";
    }
  }

  // Through PNG: an RGB file whose pixel (x, y) of tile 4 (row 1, column 1) is image 4's three channels.
  const Image8 back = decode_png(encode_png(img));
  ASSERT_EQ(back.channels, 3);
  EXPECT_EQ(back.pixels, img.pixels);
  const int x = 2, y = 1, x0 = 1 + (w + 1), y0 = 1 + (h + 1);
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(back.at(x0 + x, y0 + y, c), expected_byte(values[static_cast<std::size_t>(((4 * 3 + c) * h + y) * w + x)]));

  // The other grids draw the same way.
  std::vector<float> recons(values.size());
  for (std::size_t k = 0; k < recons.size(); ++k) recons[k] = 1.0f - values[k];
  style.background = 1.0f;
  const Image8 rec = reconstruction_grid(ConstMatrix{values.data(), n, 3 * h * w}, ConstMatrix{recons.data(), n, 3 * h * w},
                                         h, w, 3, style);
  ASSERT_EQ(rec.channels, 3);
  // ceil(sqrt(5 / 2)) = 2 pairs per row; a pair is 3 + 1 + 3 = 7 wide, 4 pixels between pairs.
  std::vector<bool> rec_covered(static_cast<std::size_t>(rec.width * rec.height), false);
  for (int i = 0; i < n; ++i) {
    const int px = 1 + (i % 2) * 11, py = 1 + (i / 2) * (h + 1);
    expect_rgb_tile(rec, values, i, h, w, px, py, rec_covered);
    expect_rgb_tile(rec, recons, i, h, w, px + w + 1, py, rec_covered);
  }
  const Image8 manifold = manifold_grid(ConstMatrix{values.data(), 4, 3 * h * w}, 2, 2, h, w, 3, style);
  std::vector<bool> m_covered(static_cast<std::size_t>(manifold.width * manifold.height), false);
  for (int i = 0; i < 4; ++i) expect_rgb_tile(manifold, values, i, h, w, 1 + (i % 2) * (w + 1), 1 + (i / 2) * (h + 1), m_covered);
  const Image8 line = interpolation_grid(ConstMatrix{values.data(), 4, 3 * h * w}, 1, 4, h, w, 3, style);
  std::vector<bool> l_covered(static_cast<std::size_t>(line.width * line.height), false);
  for (int i = 0; i < 4; ++i) expect_rgb_tile(line, values, i, h, w, 1 + i * (w + 1), 1, l_covered);
  const Image8 big = sample_grid(ConstMatrix{values.data(), n, 3 * h * w}, h, w, 3, GridStyle{0, 1, 0.25f, 2});
  ASSERT_EQ(big.channels, 3);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(big.at(2 * (x0 + x) + 1, 2 * (y0 + y) + 1, c), img.at(x0 + x, y0 + y, c));

  // Only 1 or 3 channels, and rows of channels * h * w values.
  EXPECT_ERROR_CONTAINS(tile_images(ConstMatrix{values.data(), 1, 2 * h * w}, h, w, 2), "1 (grey) or 3 (RGB) channels");
  EXPECT_ERROR_CONTAINS(tile_images(ConstMatrix{values.data(), 1, h * w}, h, w, 3), "3 channels of 2x3 = 18 values, got 6");
}

TEST(VizGrid, GridEncodesToPngAndBack) {
  const int n = 7, h = 5, w = 4;
  const std::vector<float> values = distinct_images(n, h, w);
  const Image8 img = sample_grid(ConstMatrix{values.data(), n, h * w}, h, w, 1);
  const Image8 back = decode_png(encode_png(img));
  EXPECT_EQ(back.width, img.width);
  EXPECT_EQ(back.height, img.height);
  EXPECT_EQ(back.pixels, img.pixels);
}

}  // namespace
}  // namespace aevb::viz
