#pragma once
// 8-bit images and their PNG encoding (libpng), entirely in memory. The caller
// writes the bytes with aevb::write_file_atomic.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aevb::viz {

/// An 8-bit image, rows top to bottom, channels interleaved:
/// pixels[(y * width + x) * channels + c]. channels is 1 (grey) or 3 (RGB).
struct Image8 {
  int width = 0;
  int height = 0;
  int channels = 1;
  std::vector<std::uint8_t> pixels;

  Image8() = default;
  /// A width x height image with every byte set to `fill`.
  Image8(int w, int h, int c = 1, std::uint8_t fill = 0);

  std::uint8_t& at(int x, int y, int c = 0) { return pixels[index(x, y, c)]; }
  std::uint8_t at(int x, int y, int c = 0) const { return pixels[index(x, y, c)]; }

 private:
  std::size_t index(int x, int y, int c) const {
    return (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)) *
               static_cast<std::size_t>(channels) +
           static_cast<std::size_t>(c);
  }
};

/// Encodes `image` as an 8-bit grey or RGB PNG. Throws aevb::InputError when
/// the dimensions are not positive, exceed PNG limits, or do not match the
/// pixel buffer, or when libpng reports an error.
std::string encode_png(const Image8& image);

/// Decodes PNG bytes into 8-bit pixels: grey files (with or without alpha) give
/// channels = 1, colour files give channels = 3; alpha is composited onto
/// black, 16-bit samples are reduced to 8 bits. Throws aevb::InputError naming
/// the problem for bytes that are not a valid PNG or an image larger than
/// `max_pixels` (a header cannot make us allocate more than that).
Image8 decode_png(std::string_view bytes, std::size_t max_pixels = std::size_t{1} << 28);

}  // namespace aevb::viz
