#include "viz/image_grid.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "aevb/error.hpp"

namespace aevb::viz {
namespace {

constexpr std::int64_t kMaxSide = 1000000;  // encode_png's limit
constexpr int kMaxScale = 16;

void check_common(ConstMatrix images, int height, int width, int channels, const GridStyle& style,
                  const char* what) {
  const std::string name = what;
  if (height <= 0 || width <= 0) {
    throw InputError(name + ": image size must be positive, got " + std::to_string(height) + "x" +
                     std::to_string(width));
  }
  if (channels != 1 && channels != 3) {
    throw InputError(name + ": expected 1 (grey) or 3 (RGB) channels, got " + std::to_string(channels));
  }
  if (images.rows == 0) throw InputError(name + ": no images to draw");
  if (images.data == nullptr) throw InputError(name + ": image data is missing");
  if (images.cols != static_cast<std::size_t>(channels) * static_cast<std::size_t>(height) *
                         static_cast<std::size_t>(width)) {
    throw InputError(name + ": expected images of " + (channels == 3 ? "3 channels of " : "") +
                     std::to_string(height) + "x" + std::to_string(width) + " = " +
                     std::to_string(static_cast<std::int64_t>(channels) * height * width) + " values, got " +
                     std::to_string(images.cols));
  }
  if (style.padding < 0 || style.padding > 1000) {
    throw InputError(name + ": padding must be in 0..1000, got " + std::to_string(style.padding));
  }
  if (style.scale < 1 || style.scale > kMaxScale) {
    throw InputError(name + ": scale must be in 1.." + std::to_string(kMaxScale) + ", got " +
                     std::to_string(style.scale));
  }
  if (style.columns < 0) {
    throw InputError(name + ": columns must be positive (or 0 for automatic), got " +
                     std::to_string(style.columns));
  }
}

// A canvas of the given size filled with the background, after checking that
// the (upscaled) result stays within PNG limits.
Image8 make_canvas(std::int64_t canvas_width, std::int64_t canvas_height, int channels, const GridStyle& style,
                   const char* what) {
  if (canvas_width * style.scale > kMaxSide || canvas_height * style.scale > kMaxSide) {
    throw InputError(std::string(what) + ": the grid would be " + std::to_string(canvas_width * style.scale) +
                     "x" + std::to_string(canvas_height * style.scale) + " pixels, more than " +
                     std::to_string(kMaxSide) + " on a side");
  }
  return Image8(static_cast<int>(canvas_width), static_cast<int>(canvas_height), channels,
                to_byte(style.background));
}

// One image of canvas.channels planes (planar source) at top-left (x0, y0)
// of the canvas (interleaved pixels).
void draw_tile(Image8& canvas, const float* src, int height, int width, int x0, int y0) {
  const std::size_t plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  const int channels = canvas.channels;
  for (int y = 0; y < height; ++y) {
    std::uint8_t* dst = &canvas.at(x0, y0 + y);
    for (int c = 0; c < channels; ++c) {
      const float* row =
          src + static_cast<std::size_t>(c) * plane + static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
      for (int x = 0; x < width; ++x) dst[x * channels + c] = to_byte(row[x]);
    }
  }
}

// Rows x cols tiles in reading order; cells past images.rows stay background.
Image8 grid_of(ConstMatrix images, int rows, int cols, int height, int width, int channels, const GridStyle& style,
               const char* what) {
  const std::int64_t pad = style.padding;
  const std::int64_t w = static_cast<std::int64_t>(cols) * (width + pad) + pad;
  const std::int64_t h = static_cast<std::int64_t>(rows) * (height + pad) + pad;
  Image8 canvas = make_canvas(w, h, channels, style, what);
  for (std::size_t i = 0; i < images.rows; ++i) {
    const int r = static_cast<int>(i / static_cast<std::size_t>(cols));
    const int c = static_cast<int>(i % static_cast<std::size_t>(cols));
    draw_tile(canvas, images.row(i), height, width, style.padding + c * (width + style.padding),
              style.padding + r * (height + style.padding));
  }
  return style.scale == 1 ? canvas : upscale(canvas, style.scale);
}

int auto_columns(double count) { return std::max(1, static_cast<int>(std::ceil(std::sqrt(count) - 1e-9))); }

}  // namespace

std::uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 1.0f) return 255;
  return static_cast<std::uint8_t>(std::lround(static_cast<double>(v) * 255.0));
}

Image8 tile_images(ConstMatrix images, int height, int width, int channels, const GridStyle& style) {
  check_common(images, height, width, channels, style, "image grid");
  const std::size_t n = images.rows;
  if (n > static_cast<std::size_t>(kMaxSide) * static_cast<std::size_t>(kMaxSide)) {
    throw InputError("image grid: too many images (" + std::to_string(n) + ")");
  }
  std::size_t cols = style.columns > 0 ? static_cast<std::size_t>(style.columns)
                                       : static_cast<std::size_t>(auto_columns(static_cast<double>(n)));
  cols = std::min(cols, n);
  const std::size_t rows = (n + cols - 1) / cols;
  if (rows > static_cast<std::size_t>(kMaxSide)) {
    throw InputError("image grid: " + std::to_string(rows) + " rows is too many");
  }
  return grid_of(images, static_cast<int>(rows), static_cast<int>(cols), height, width, channels, style,
                 "image grid");
}

Image8 sample_grid(ConstMatrix samples, int height, int width, int channels, const GridStyle& style) {
  return tile_images(samples, height, width, channels, style);
}

Image8 reconstruction_grid(ConstMatrix inputs, ConstMatrix reconstructions, int height, int width, int channels,
                           const GridStyle& style) {
  const char* what = "reconstruction grid";
  check_common(inputs, height, width, channels, style, what);
  check_common(reconstructions, height, width, channels, style, what);
  if (inputs.rows != reconstructions.rows) {
    throw InputError(std::string(what) + ": " + std::to_string(inputs.rows) + " inputs but " +
                     std::to_string(reconstructions.rows) + " reconstructions");
  }
  const std::size_t n = inputs.rows;
  if (n > static_cast<std::size_t>(kMaxSide)) {
    throw InputError(std::string(what) + ": too many images (" + std::to_string(n) + ")");
  }
  const int count = static_cast<int>(n);
  const int pairs_per_row = std::min(
      count, style.columns > 0 ? style.columns : auto_columns(static_cast<double>(count) / 2.0));
  const int rows = (count + pairs_per_row - 1) / pairs_per_row;
  const std::int64_t pad = style.padding;
  const std::int64_t pair_gap = 4 * pad;
  const std::int64_t pair_width = 2 * static_cast<std::int64_t>(width) + pad;
  const std::int64_t w = 2 * pad + pairs_per_row * pair_width + (pairs_per_row - 1) * pair_gap;
  const std::int64_t h = static_cast<std::int64_t>(rows) * (height + pad) + pad;
  Image8 canvas = make_canvas(w, h, channels, style, what);
  for (int i = 0; i < count; ++i) {
    const int r = i / pairs_per_row;
    const int c = i % pairs_per_row;
    const int x0 = static_cast<int>(pad + c * (pair_width + pair_gap));
    const int y0 = static_cast<int>(pad + r * (height + pad));
    draw_tile(canvas, inputs.row(static_cast<std::size_t>(i)), height, width, x0, y0);
    draw_tile(canvas, reconstructions.row(static_cast<std::size_t>(i)), height, width,
              x0 + width + style.padding, y0);
  }
  return style.scale == 1 ? canvas : upscale(canvas, style.scale);
}

Image8 manifold_grid(ConstMatrix images, int rows, int cols, int height, int width, int channels,
                     const GridStyle& style) {
  const char* what = "manifold grid";
  check_common(images, height, width, channels, style, what);
  if (rows <= 0 || cols <= 0 || rows > kMaxSide || cols > kMaxSide ||
      images.rows != static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols)) {
    throw InputError(std::string(what) + ": a " + std::to_string(rows) + "x" + std::to_string(cols) +
                     " arrangement needs " + std::to_string(static_cast<std::int64_t>(rows) * cols) +
                     " images, got " + std::to_string(images.rows));
  }
  return grid_of(images, rows, cols, height, width, channels, style, what);
}

Image8 interpolation_grid(ConstMatrix images, int paths, int steps, int height, int width, int channels,
                          const GridStyle& style) {
  const char* what = "interpolation grid";
  check_common(images, height, width, channels, style, what);
  if (paths <= 0 || steps <= 0 || paths > kMaxSide || steps > kMaxSide ||
      images.rows != static_cast<std::size_t>(paths) * static_cast<std::size_t>(steps)) {
    throw InputError(std::string(what) + ": " + std::to_string(paths) + " paths of " + std::to_string(steps) +
                     " steps need " + std::to_string(static_cast<std::int64_t>(paths) * steps) +
                     " images, got " + std::to_string(images.rows));
  }
  return grid_of(images, paths, steps, height, width, channels, style, what);
}

Image8 upscale(const Image8& image, int factor) {
  if (factor < 1 || factor > kMaxScale) {
    throw InputError("upscale: factor must be in 1.." + std::to_string(kMaxScale) + ", got " +
                     std::to_string(factor));
  }
  if (static_cast<std::int64_t>(image.width) * factor > kMaxSide ||
      static_cast<std::int64_t>(image.height) * factor > kMaxSide) {
    throw InputError("upscale: the result would exceed " + std::to_string(kMaxSide) + " pixels on a side");
  }
  if (factor == 1) return image;
  Image8 out(image.width * factor, image.height * factor, image.channels);
  const int ch = image.channels;
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      for (int c = 0; c < ch; ++c) out.at(x, y, c) = image.at(x / factor, y / factor, c);
    }
  }
  return out;
}

}  // namespace aevb::viz
