#pragma once
// The masked convolutions of the gated PixelCNN (code_prior.hpp) as
// rectangles of taps, on activations laid out channel-major over a batch of
// grids: X [channels, grids * H * W], column g * H * W + i * W + j. That is
// the layout of a product W X, so no layer ever transposes, and a
// convolution is one GEMM on the columns that gather_taps writes (im2col).
//
// Why not nn/conv.hpp's Conv2d: its kernels are square with symmetric
// padding, so these causal kernels would be 3 x 3 with most taps masked to
// zero (9 products where the vertical kernel needs 6 and the horizontal one
// 2), and its NCHW rows would cost a transposition around every product.
#include <cstddef>

namespace aevb::pixelcnn {

/// A kh x kw kernel whose tap (a, b) reads the input at offset
/// (row0 + a, col0 + b) from the output's position; zero outside the grid.
/// Weight [out, in, kh, kw] (nn.Conv2d's layout): row c * kh * kw + a * kw + b
/// of the gathered columns is input channel c at tap (a, b).
struct Taps {
  std::size_t kh = 1, kw = 1;
  int row0 = 0, col0 = 0;
  std::size_t count() const { return kh * kw; }
};

struct GridShape {
  std::size_t height = 0, width = 0;
  std::size_t positions() const { return height * width; }
};

/// cols [channels * taps.count(), grids * positions]: row (c, a, b), column
/// (g, i, j) holds x[c, g, i + row0 + a, j + col0 + b], or 0 outside the grid.
/// Parallel over rows.
template <class T>
void gather_taps(GridShape grid, const Taps& taps, std::size_t channels, std::size_t grids, const T* x, T* cols);

/// The adjoint: dx[c, g, i', j'] = the sum, over the taps in order, of every
/// cols entry that gather_taps read from there; written over dx, or added to
/// it with `accumulate`. cols is scratch: its entries for taps outside the
/// grid are zeroed. Parallel over channels, each summed by one thread in that
/// fixed order: the same numbers on any thread count.
template <class T>
void scatter_taps(GridShape grid, const Taps& taps, std::size_t channels, std::size_t grids, T* cols, T* dx,
                  bool accumulate);

}  // namespace aevb::pixelcnn
