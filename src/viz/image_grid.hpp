#pragma once
// Image grids for the CLI's figures: prior samples, reconstructions, the
// paper's latent manifold (Fig. 4) and interpolations. Inputs are float images
// with values in [0, 1] (others are clamped, NaN shows as 0), one image per
// matrix row, each row an image of `channels` planes (1: grey, 3: RGB; planar
// as aevb::Dataset stores them: value (c * height + y) * width + x) of height x
// width pixels. The result is an 8-bit image of the same channels (grey or
// RGB) for encode_png; the padding is grey in every channel.
//
// Layout: tiles are separated by `padding` background pixels, and the same
// padding surrounds the whole grid. Tile (row r, column c) has its top-left
// pixel at (x, y) = (padding + c * (width + padding), padding + r * (height + padding)),
// before the optional integer upscaling.
#include "aevb/matrix.hpp"
#include "viz/png.hpp"

namespace aevb::viz {

struct GridStyle {
  int columns = 0;          ///< tiles per row; 0 picks ceil(sqrt(count)).
  int padding = 1;          ///< background pixels between tiles and around the grid.
  float background = 0.5f;  ///< grey level of the padding, in [0, 1].
  int scale = 1;            ///< nearest-neighbour upscaling of the finished grid (1..16).
};

/// The grey level v in [0, 1] as a byte: round(clamp(v, 0, 1) * 255); NaN gives 0.
std::uint8_t to_byte(float v);

/// Tiles images.rows images left to right, top to bottom, `style.columns` per
/// row; unused cells of the last row stay background. Throws aevb::InputError
/// when there are no images, channels is not 1 or 3, images.cols != channels *
/// height * width, the style is out of range, or the result would exceed 10^6
/// pixels on a side.
Image8 tile_images(ConstMatrix images, int height, int width, int channels, const GridStyle& style = {});

/// Prior samples as a grid: the same as tile_images.
Image8 sample_grid(ConstMatrix samples, int height, int width, int channels, const GridStyle& style = {});

/// Inputs beside their reconstructions: each input i is followed on its right
/// by reconstruction i, forming a pair; `style.columns` counts pairs per row
/// (0 picks ceil(sqrt(count / 2)), which makes the grid roughly square), and
/// pairs are separated by 4 * padding pixels so that they read as pairs.
/// inputs and reconstructions must have the same shape.
Image8 reconstruction_grid(ConstMatrix inputs, ConstMatrix reconstructions, int height, int width, int channels,
                           const GridStyle& style = {});

/// An explicit rows x cols arrangement (the latent manifold of the paper's
/// Fig. 4): image r * cols + c goes to grid row r, column c; images.rows must
/// equal rows * cols. style.columns is ignored.
Image8 manifold_grid(ConstMatrix images, int rows, int cols, int height, int width, int channels,
                     const GridStyle& style = {});

/// Interpolations, one per grid row: row r holds images r * steps ... r * steps +
/// steps - 1, from the start point on the left to the end point on the right.
/// images.rows must equal paths * steps. style.columns is ignored.
Image8 interpolation_grid(ConstMatrix images, int paths, int steps, int height, int width, int channels,
                          const GridStyle& style = {});

/// Each pixel becomes a factor x factor block (factor 1..16).
Image8 upscale(const Image8& image, int factor);

}  // namespace aevb::viz
