#include "eval/image_mask.hpp"

#include <aevb/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace aevb {
namespace {

constexpr const char* kExpected =
    "expected top, bottom, left, right, center, rect:R0:C0:R1:C1, random:FRACTION or none";

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

bool parse_index(std::string_view text, std::size_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc{} && end == text.data() + text.size() && !text.empty();
}

}  // namespace

ImageMask parse_image_mask(const std::string& spec, std::size_t height, std::size_t width) {
  const std::string quoted = "mask spec '" + spec + "': ";
  const std::string size = std::to_string(height) + "x" + std::to_string(width);
  ImageMask mask;
  mask.height = height;
  mask.width = width;
  const auto region = [&](std::size_t r0, std::size_t c0, std::size_t r1, std::size_t c1) {
    mask.kind = ImageMask::Kind::region;
    mask.row0 = r0, mask.col0 = c0, mask.row1 = r1, mask.col1 = c1;
    if (!(r0 < r1 && r1 <= height && c0 < c1 && c1 <= width))
      throw InputError(quoted + "expected a non-empty block within the model's " + size + " images (0 <= R0 < R1 <= " +
                       std::to_string(height) + ", 0 <= C0 < C1 <= " + std::to_string(width) + ")");
  };
  if (spec == "none") return mask;
  if (spec == "top") region(0, 0, height / 2, width);
  else if (spec == "bottom") region(height - height / 2, 0, height, width);
  else if (spec == "left") region(0, 0, height, width / 2);
  else if (spec == "right") region(0, width - width / 2, height, width);
  else if (spec == "center") region(height / 4, width / 4, height / 4 + height / 2, width / 4 + width / 2);
  else if (spec.starts_with("rect:")) {
    const std::vector<std::string_view> parts = split(std::string_view(spec).substr(5), ':');
    std::size_t v[4];
    if (parts.size() != 4 || !parse_index(parts[0], v[0]) || !parse_index(parts[1], v[1]) ||
        !parse_index(parts[2], v[2]) || !parse_index(parts[3], v[3]))
      throw InputError(quoted + "expected rect:R0:C0:R1:C1 with four whole numbers");
    region(v[0], v[1], v[2], v[3]);
  } else if (spec.starts_with("random:")) {
    const std::string number = spec.substr(7);
    char* end = nullptr;
    const double f = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(f > 0 && f <= 1))
      throw InputError(quoted + "expected random:FRACTION with a fraction of hidden pixels in (0, 1]");
    mask.kind = ImageMask::Kind::random;
    mask.fraction = f;
  } else {
    throw InputError(quoted + kExpected);
  }
  return mask;
}

void ImageMask::fill_seen(std::size_t channels, std::uint64_t seed, std::uint64_t index, std::uint8_t* seen) const {
  const std::size_t pixels = height * width;
  std::vector<float> u;
  if (kind == Kind::random) {
    u.resize(pixels);
    fill_uniform(u.data(), pixels, seed, inpaint_stream(index, InpaintDraw::mask));
  }
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x) {
      const std::size_t p = y * width + x;
      bool hidden = false;
      if (kind == Kind::region) hidden = y >= row0 && y < row1 && x >= col0 && x < col1;
      if (kind == Kind::random) hidden = double(u[p]) < fraction;  // u in [0, 1): F = 1 hides every pixel
      for (std::size_t c = 0; c < channels; ++c) seen[c * pixels + p] = hidden ? 0 : 1;
    }
}

}  // namespace aevb
