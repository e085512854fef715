#pragma once
// Points of the latent space that the figures decode: the paper's learned
// manifold (Kingma & Welling 2013, Fig. 4: "linearly spaced coordinates on the
// unit square were transformed through the inverse CDF of the Gaussian to
// produce values of the latent variables z"), and paths between two latent codes
// (interpolations: straight or spherical).
#include <cstddef>
#include <span>
#include <vector>

namespace aevb {

/// The standard normal quantile Phi^{-1}(p): Acklam's rational approximation
/// (relative error < 1.15e-9) followed by one Halley step on erfc, which brings
/// it to about machine precision. p <= 0 gives -inf, p >= 1 gives +inf, NaN
/// gives NaN. Symmetric: normal_quantile(1 - p) == -normal_quantile(p).
double normal_quantile(double p);

/// The manifold's coordinates along one axis: Phi^{-1}((k + 0.5) / steps) for
/// k = 0 ... steps - 1, the centres of `steps` equal cells of the open unit
/// interval (the ends 0 and 1 would map to infinity). Increasing.
std::vector<double> manifold_coordinates(std::size_t steps);

/// The latent points of a steps x steps manifold, one row of `latent` floats
/// per grid cell, row-major over the grid (cell (r, c) is row r * steps + c):
/// dimension dim_x varies along the grid's columns (increasing to the right),
/// dimension dim_y along its rows (increasing upwards, as on a plot: the top
/// row holds the largest value), every other dimension is 0 (the prior's
/// mean). Throws InputError when steps is 0, a dimension is out of range, or
/// dim_x == dim_y.
std::vector<float> manifold_latents(std::size_t latent, std::size_t steps, std::size_t dim_x, std::size_t dim_y);

/// How interpolation_latents travels between its two end points.
enum class Interpolation {
  linear,     // z_t = (1 - t) a + t b: a straight line
  spherical,  // slerp (White 2016, "Sampling generative networks"): z_t =
              // [sin((1 - t) W) a + sin(t W) b] / sin W, W the angle between a and b;
              // keeps the norm near that of the ends, where N(0, I) puts its mass
              // in many dimensions, while a straight line passes closer to the origin.
              // Linear when an end is 0 or the two are (anti)parallel (W undefined or sin W ~ 0).
};

/// `steps` points from `from` to `to` (same length), at t_k = k / (steps - 1):
/// the first point is `from` and the last is `to`, exactly. One row of
/// from.size() floats per point. Throws InputError when steps < 2 or the
/// lengths differ.
std::vector<float> interpolation_latents(std::span<const float> from, std::span<const float> to, std::size_t steps,
                                         Interpolation path = Interpolation::linear);

}  // namespace aevb
