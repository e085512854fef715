// Colour to grey: Rec. 709 luminance with libpng's fixed-point weights, so a
// colour PNG read as grey has the values that libpng's own conversion gives.
#include <aevb/data.hpp>

#include "data/values.hpp"

namespace aevb {
namespace {

// Rec. 709 (0.2126, 0.7152, 0.0722) in 15-bit fixed point; they sum to 32768.
constexpr std::uint32_t kRed = 6968, kGreen = 23434, kBlue = 2366;
static_assert(kRed + kGreen + kBlue == 32768);

template <class T, class F>
void planar_to_grey(std::vector<T>& values, std::size_t count, std::size_t pixels, F grey) {
  // Row i moves from [3i * pixels, 3(i + 1) * pixels) to [i * pixels, (i + 1) *
  // pixels): every write lands at or before the reads still to come.
  for (std::size_t i = 0; i < count; ++i) {
    const T* src = values.data() + 3 * i * pixels;
    T* dst = values.data() + i * pixels;
    for (std::size_t p = 0; p < pixels; ++p) dst[p] = grey(src[p], src[pixels + p], src[2 * pixels + p]);
  }
  values.resize(count * pixels);
  values.shrink_to_fit();
}

}  // namespace

std::uint8_t rgb_to_grey(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((kRed * r + kGreen * g + kBlue * b + 16384) >> 15);
}

float rgb_to_grey(float r, float g, float b) {
  if (r == g && g == b) return r;  // exact, as the integer form is
  return (static_cast<float>(kRed) * r + static_cast<float>(kGreen) * g + static_cast<float>(kBlue) * b) / 32768.0f;
}

void convert_to_grey(Dataset& d) {
  if (d.channels != 3 || !d.is_image()) return;
  const std::size_t pixels = d.height * d.width;
  if (d.is_bytes()) {
    planar_to_grey(d.bytes, d.count, pixels,
                   [](std::uint8_t r, std::uint8_t g, std::uint8_t b) { return rgb_to_grey(r, g, b); });
  } else {
    planar_to_grey(d.floats, d.count, pixels, [](float r, float g, float b) { return rgb_to_grey(r, g, b); });
  }
  d.channels = 1;
  d.dim = pixels;
  if (d.is_bytes()) {
    data::detect_binary_bytes(d);
  } else {
    bool binary = true;
    for (float v : d.floats) binary = binary && (v == 0.0f || v == 1.0f);
    d.binary = binary;
  }
  d.source += " (colour read as grey)";
}

}  // namespace aevb
