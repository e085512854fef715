#pragma once
// The figure of `aevb inpaint`: one grid row per datapoint, left to right
// its original, its input as the model saw it (hidden pixels in
// kHiddenTint, noise included when denoising), then its completions (the
// posterior predictive mean, then any single-sample ones). The grid is RGB
// whatever the images' channels, so that the tint stands out on grey
// images; grey values become equal R, G and B. Layout as manifold_grid's.
#include "viz/image_grid.hpp"

#include <array>
#include <cstdint>

namespace aevb::viz {

/// The colour of a hidden pixel in the input column: a blue no grey image has.
constexpr std::array<float, 3> kHiddenTint{0.25f, 0.45f, 0.9f};

/// originals and inputs [n, channels * height * width]; seen as
/// Observation::seen (null: every pixel seen); completions [n * per_row,
/// same], datapoint i's at rows i * per_row ... The style's columns are
/// ignored. InputError as manifold_grid's.
Image8 inpainting_grid(ConstMatrix originals, ConstMatrix inputs, const std::uint8_t* seen, ConstMatrix completions,
                       int per_row, int height, int width, int channels, const GridStyle& style = {});

}  // namespace aevb::viz
