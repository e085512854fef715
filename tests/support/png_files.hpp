#pragma once
// PNG files for the tests of readers and commands that take PNG folders,
// written with libpng's simplified API (independent of aevb's PNG code).
#include <gtest/gtest.h>
#include <png.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace aevb::test {

/// Writes `pixels` (`format`: PNG_FORMAT_GRAY, _RGB, _RGBA, _LINEAR_Y, or a
/// _COLORMAP format with `colormap`) as a PNG file.
inline void write_png(const std::filesystem::path& path, png_uint_32 width, png_uint_32 height, png_uint_32 format,
                      const void* pixels, const void* colormap = nullptr, png_uint_32 colormap_entries = 0) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = format;
  image.colormap_entries = colormap_entries;
  ASSERT_NE(png_image_write_to_file(&image, path.c_str(), 0, pixels, 0, colormap), 0) << image.message;
}

/// The RGB image `i` of write_rgb_folder, interleaved: a square of one
/// colour on a background of another, both and the square's place depending on i.
inline std::vector<std::uint8_t> rgb_test_image(int i, int width, int height) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(width * height * 3));
  const int side = std::max(1, std::min(width, height) / 2);
  const int x0 = i % (width - side + 1), y0 = (i / 3) % (height - side + 1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const bool in = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
      for (int c = 0; c < 3; ++c)
        px[static_cast<std::size_t>((y * width + x) * 3 + c)] =
            static_cast<std::uint8_t>(in ? (60 * i + 90 * c + 40) % 256 : (25 * i + 70 * (2 - c)) % 200);
    }
  return px;
}

/// `count` RGB images of width x height in `dir` (created), named 000.png, 001.png, ...
inline void write_rgb_folder(const std::filesystem::path& dir, int count, int width, int height) {
  std::filesystem::create_directories(dir);
  for (int i = 0; i < count; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "%03d.png", i);
    const std::vector<std::uint8_t> px = rgb_test_image(i, width, height);
    write_png(dir / name, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), PNG_FORMAT_RGB, px.data());
  }
}

}  // namespace aevb::test
