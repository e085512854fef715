#pragma once
// Which pixels of an image inpainting hides (the paper's sec. 2.1, marginal
// inference), from a spec the user writes:
//   top, bottom, left, right   that half of the image: floor(H/2) rows or floor(W/2) columns
//   center                     the middle block of half the height and width: rows
//                              [floor(H/4), floor(H/4) + floor(H/2)), columns likewise
//   rect:R0:C0:R1:C1           rows R0 .. R1-1 and columns C0 .. C1-1 (0-based, end excluded)
//   random:F                   each pixel with probability F in (0, 1], independently,
//                              drawn per datapoint from (seed, its index)
//   none                       none (for denoising alone)
// A hidden pixel hides all of its channels. The masks are what
// Observation::seen reads: [D] bytes per datapoint, 1 seen, 0 hidden.
#include "core/rng.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace aevb {

/// Inpainting's own random draws per datapoint: a random mask's uniforms,
/// and the noise denoising adds.
enum class InpaintDraw : std::uint64_t { mask = 0, noise = 1 };
constexpr std::uint64_t inpaint_stream(std::uint64_t datapoint, InpaintDraw draw) {
  return rng_stream(RngPurpose::inpaint, 2 * datapoint + static_cast<std::uint64_t>(draw));
}

struct ImageMask {
  enum class Kind { none, region, random };
  Kind kind = Kind::none;
  std::size_t height = 0, width = 0;                    // of the images it masks
  std::size_t row0 = 0, col0 = 0, row1 = 0, col1 = 0;  // region: the hidden block
  double fraction = 0;                                  // random: each pixel's chance of being hidden

  /// seen [channels * height * width] of datapoint `index` (planar, as
  /// aevb::Dataset stores images): 0 where hidden, 1 elsewhere.
  void fill_seen(std::size_t channels, std::uint64_t seed, std::uint64_t index, std::uint8_t* seen) const;
};

/// The mask `spec` says, for height x width images; InputError naming the
/// spec and what was expected when it is malformed or falls outside the image.
ImageMask parse_image_mask(const std::string& spec, std::size_t height, std::size_t width);

}  // namespace aevb
