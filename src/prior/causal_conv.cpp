#include "prior/causal_conv.hpp"

#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cstddef>

namespace aevb::pixelcnn {
namespace {

// Where tap (a, b) lands on an H x W grid: output rows [row_lo, row_hi) and
// columns [col_lo, col_hi) read inside the grid, from input (i + dr, j + dc).
struct TapWindow {
  std::ptrdiff_t dr = 0, dc = 0;
  std::size_t row_lo = 0, row_hi = 0, col_lo = 0, col_hi = 0;
};

// [max(0, -d), min(n, n - d)), empty when |d| >= n.
void clip(std::ptrdiff_t d, std::size_t n, std::size_t& lo, std::size_t& hi) {
  const auto size = static_cast<std::ptrdiff_t>(n);
  const std::ptrdiff_t l = std::max<std::ptrdiff_t>(0, -d), h = std::min(size, size - d);
  lo = static_cast<std::size_t>(l);
  hi = static_cast<std::size_t>(std::max(l, h));
}

TapWindow window(GridShape grid, const Taps& taps, std::size_t tap) {
  TapWindow w;
  w.dr = taps.row0 + static_cast<std::ptrdiff_t>(tap / taps.kw);
  w.dc = taps.col0 + static_cast<std::ptrdiff_t>(tap % taps.kw);
  clip(w.dr, grid.height, w.row_lo, w.row_hi);
  clip(w.dc, grid.width, w.col_lo, w.col_hi);
  return w;
}

// Zeroes the entries of one gathered row [grids * positions] whose tap lies
// outside the grid. A grid's rows are W long and the grids contiguous, so a
// column outside [col_lo, col_hi) is every W-th entry of the whole row; a row
// outside [row_lo, row_hi) is a stretch at the top or bottom of each grid.
template <class T>
void zero_outside(GridShape grid, const TapWindow& w, std::size_t grids, T* row) {
  const std::size_t W = grid.width, P = grid.positions(), n = grids * P;
  for (std::size_t j = 0; j < W; ++j)
    if (j < w.col_lo || j >= w.col_hi)
      for (std::size_t k = j; k < n; k += W) row[k] = T(0);
  if (w.row_lo == 0 && w.row_hi == grid.height) return;
  for (std::size_t g = 0; g < grids; ++g) {
    T* o = row + g * P;
    for (std::size_t k = 0; k < w.row_lo * W; ++k) o[k] = T(0);
    for (std::size_t k = w.row_hi * W; k < P; ++k) o[k] = T(0);
  }
}

std::ptrdiff_t shift_of(const TapWindow& w, std::size_t W) { return w.dr * static_cast<std::ptrdiff_t>(W) + w.dc; }

}  // namespace

// Each row is the input channel shifted by dr * W + dc along the batch's
// columns: one long vectorized copy (a grid's neighbour fills its border),
// then the entries that read outside their own grid are zeroed. (Copied row
// by row within each grid instead, a 7-wide grid costs a library call per 7
// values.)
template <class T>
void gather_taps(GridShape grid, const Taps& taps, std::size_t channels, std::size_t grids, const T* x, T* cols) {
  const std::size_t n = grids * grid.positions(), rows = channels * taps.count();
  pool::for_ranges(
      rows,
      [&](std::size_t first, std::size_t last) {
        for (std::size_t r = first; r < last; ++r) {
          const TapWindow w = window(grid, taps, r % taps.count());
          const std::ptrdiff_t shift = shift_of(w, grid.width);
          const T* src = x + (r / taps.count()) * n;
          T* out = cols + r * n;
          // Columns [lo, hi) have their source col + shift in [0, n); every
          // other one reads outside its own grid, so zero_outside covers it.
          std::size_t lo = 0, hi = 0;
          clip(shift, n, lo, hi);
#pragma omp simd
          for (std::size_t col = lo; col < hi; ++col) out[col] = src[static_cast<std::ptrdiff_t>(col) + shift];
          std::fill(out, out + lo, T(0));
          std::fill(out + hi, out + n, T(0));
          zero_outside(grid, w, grids, out);
        }
      },
      rows * n >= kParallelElements);
}

template <class T>
void scatter_taps(GridShape grid, const Taps& taps, std::size_t channels, std::size_t grids, T* cols, T* dx,
                  bool accumulate) {
  const std::size_t n = grids * grid.positions();
  pool::for_ranges(
      channels,
      [&](std::size_t first, std::size_t last) {
        for (std::size_t c = first; c < last; ++c) {
          T* out = dx + c * n;
          if (!accumulate) std::fill_n(out, n, T(0));
          for (std::size_t t = 0; t < taps.count(); ++t) {
            const TapWindow w = window(grid, taps, t);
            const std::ptrdiff_t shift = shift_of(w, grid.width);
            T* in = cols + (c * taps.count() + t) * n;
            zero_outside(grid, w, grids, in);  // what gather_taps never read adds nothing
            std::size_t lo = 0, hi = 0;
            clip(shift, n, lo, hi);
#pragma omp simd
            for (std::size_t col = lo; col < hi; ++col) out[static_cast<std::ptrdiff_t>(col) + shift] += in[col];
          }
        }
      },
      channels * taps.count() * n >= kParallelElements);
}

template void gather_taps<float>(GridShape, const Taps&, std::size_t, std::size_t, const float*, float*);
template void gather_taps<double>(GridShape, const Taps&, std::size_t, std::size_t, const double*, double*);
template void scatter_taps<float>(GridShape, const Taps&, std::size_t, std::size_t, float*, float*, bool);
template void scatter_taps<double>(GridShape, const Taps&, std::size_t, std::size_t, double*, double*, bool);

}  // namespace aevb::pixelcnn
