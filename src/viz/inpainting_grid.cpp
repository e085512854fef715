#include "viz/inpainting_grid.hpp"

#include "aevb/error.hpp"

#include <string>
#include <vector>

namespace aevb::viz {

Image8 inpainting_grid(ConstMatrix originals, ConstMatrix inputs, const std::uint8_t* seen, ConstMatrix completions,
                       int per_row, int height, int width, int channels, const GridStyle& style) {
  const std::size_t n = originals.rows, d = originals.cols;
  if (per_row < 1 || inputs.rows != n || inputs.cols != d || completions.cols != d ||
      completions.rows != n * static_cast<std::size_t>(per_row))
    throw InputError("inpainting grid: expected as many inputs as originals and " + std::to_string(per_row) +
                     " completions of each, got " + std::to_string(inputs.rows) + " and " +
                     std::to_string(completions.rows) + " for " + std::to_string(n));
  const std::size_t pixels = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  if (channels < 1 || d != static_cast<std::size_t>(channels) * pixels)
    throw InputError("inpainting grid: expected images of " + std::to_string(channels) + " x " +
                     std::to_string(height) + "x" + std::to_string(width) + " values, got " + std::to_string(d));
  const std::size_t cols = 2 + static_cast<std::size_t>(per_row), rgb = 3 * pixels;
  std::vector<float> tiles(n * cols * rgb);
  // Tile `tile` of datapoint i from `image` (planar, `channels` planes), hidden pixels tinted when `tint`.
  const auto place = [&](std::size_t i, std::size_t tile, const float* image, bool tint) {
    float* out = tiles.data() + (i * cols + tile) * rgb;
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t p = 0; p < pixels; ++p) {
        const std::size_t source = (channels == 3 ? c : 0) * pixels + p;
        out[c * pixels + p] = tint && seen && !seen[i * d + source] ? kHiddenTint[c] : image[source];
      }
  };
  for (std::size_t i = 0; i < n; ++i) {
    place(i, 0, originals.row(i), false);
    place(i, 1, inputs.row(i), true);
    for (std::size_t k = 0; k < static_cast<std::size_t>(per_row); ++k)
      place(i, 2 + k, completions.row(i * static_cast<std::size_t>(per_row) + k), false);
  }
  return manifold_grid({tiles.data(), n * cols, rgb}, static_cast<int>(n), static_cast<int>(cols), height, width, 3,
                       style);
}

}  // namespace aevb::viz
