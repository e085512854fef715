#include "eval/latent_grid.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace aevb {
namespace {

// P. J. Acklam, "An algorithm for computing the inverse normal cumulative
// distribution function" (2003): rational approximations on the central
// region and on the tails.
constexpr double kA[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                         1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
constexpr double kB[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                         6.680131188771972e+01,  -1.328068155288572e+01};
constexpr double kC[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                         -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
constexpr double kD[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                         3.754408661907416e+00};
constexpr double kLowTail = 0.02425;

// Acklam's approximation for 0 < p <= 0.5 (the lower half; the upper half follows by symmetry).
double acklam_lower(double p) {
  if (p < kLowTail) {
    const double q = std::sqrt(-2.0 * std::log(p));
    return (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
           ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1.0);
  }
  const double q = p - 0.5, r = q * q;
  return (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
         (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1.0);
}

// Phi^{-1}(p) for 0 < p <= 0.5: one Halley step on f(x) = Phi(x) - p, with
// Phi(x) = erfc(-x / sqrt 2) / 2, accurate in the lower tail where x < 0.
double quantile_lower(double p) {
  const double x = acklam_lower(p);
  // Below the normal range the step's exp(x^2 / 2) overflows; Acklam alone is within 1.15e-9 there.
  if (p < std::numeric_limits<double>::min()) return x;
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1.0 + 0.5 * x * u);
}

}  // namespace

double normal_quantile(double p) {
  if (std::isnan(p)) return std::numeric_limits<double>::quiet_NaN();
  if (p <= 0.0) return -std::numeric_limits<double>::infinity();
  if (p >= 1.0) return std::numeric_limits<double>::infinity();
  if (p == 0.5) return 0.0;
  // 1 - p is exact for p in [0.5, 1) (Sterbenz), so the symmetry costs no precision.
  return p < 0.5 ? quantile_lower(p) : -quantile_lower(1.0 - p);
}

std::vector<double> manifold_coordinates(std::size_t steps) {
  std::vector<double> z(steps);
  for (std::size_t k = 0; k < steps; ++k) z[k] = normal_quantile((double(k) + 0.5) / double(steps));
  return z;
}

std::vector<float> manifold_latents(std::size_t latent, std::size_t steps, std::size_t dim_x, std::size_t dim_y) {
  if (steps == 0) throw InputError("manifold: the number of steps must be at least 1");
  if (latent < 2)
    throw InputError("manifold: the model has " + std::to_string(latent) +
                     " latent dimension; a manifold needs at least 2");
  for (std::size_t d : {dim_x, dim_y}) {
    if (d >= latent)
      throw InputError("manifold: latent dimension " + std::to_string(d) + " is out of range: the model has " +
                       std::to_string(latent) + " latent dimensions, 0 to " + std::to_string(latent - 1));
  }
  if (dim_x == dim_y)
    throw InputError("manifold: the two latent dimensions must differ, found " + std::to_string(dim_x) + " twice");
  const std::vector<double> coords = manifold_coordinates(steps);
  std::vector<float> z(steps * steps * latent, 0.0f);
  for (std::size_t r = 0; r < steps; ++r) {
    for (std::size_t c = 0; c < steps; ++c) {
      float* row = z.data() + (r * steps + c) * latent;
      row[dim_x] = static_cast<float>(coords[c]);
      row[dim_y] = static_cast<float>(coords[steps - 1 - r]);  // top row: the largest value
    }
  }
  return z;
}

std::vector<float> interpolation_latents(std::span<const float> from, std::span<const float> to, std::size_t steps,
                                         Interpolation path) {
  if (steps < 2) throw InputError("interpolate: the number of steps must be at least 2 (the two end points)");
  if (from.size() != to.size())
    throw InputError("interpolate: end points of different lengths " + std::to_string(from.size()) + " and " +
                     std::to_string(to.size()));
  const std::size_t n = from.size();
  double dot = 0, norm_a = 0, norm_b = 0;
  for (std::size_t j = 0; j < n; ++j) {
    dot += double(from[j]) * double(to[j]);
    norm_a += double(from[j]) * double(from[j]);
    norm_b += double(to[j]) * double(to[j]);
  }
  const double cos_angle = norm_a > 0 && norm_b > 0 ? std::clamp(dot / std::sqrt(norm_a * norm_b), -1.0, 1.0) : 1.0;
  const double angle = std::acos(cos_angle);
  const bool spherical = path == Interpolation::spherical && std::sin(angle) > 1e-6;
  std::vector<float> z(steps * n);
  for (std::size_t k = 0; k < steps; ++k) {
    const double t = double(k) / double(steps - 1);
    const double wa = spherical ? std::sin((1.0 - t) * angle) / std::sin(angle) : 1.0 - t;
    const double wb = spherical ? std::sin(t * angle) / std::sin(angle) : t;
    for (std::size_t j = 0; j < n; ++j) z[k * n + j] = static_cast<float>(wa * double(from[j]) + wb * double(to[j]));
  }
  // The ends exactly, whatever the rounding of the weights.
  std::copy(from.begin(), from.end(), z.begin());
  std::copy(to.begin(), to.end(), z.end() - static_cast<std::ptrdiff_t>(n));
  return z;
}

}  // namespace aevb
