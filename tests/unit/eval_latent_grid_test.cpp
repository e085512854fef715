// The latent points the figures decode: the inverse Gaussian CDF against known
// quantiles and against erfc, the manifold's layout, interpolation end points.
#include "eval/latent_grid.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>
#include <vector>

namespace aevb {
namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

TEST(LatentGrid, NormalQuantileMatchesKnownValues) {
  // Reference values from Python's statistics.NormalDist().inv_cdf (Wichura's AS241).
  struct Known {
    double p, x;
  };
  const Known known[] = {
      {0.5, 0.0},
      {0.975, 1.959963984540054},
      {0.025, -1.959963984540054},
      {0.95, 1.6448536269514722},
      {0.05, -1.6448536269514722},
      {0.75, 0.6744897501960817},
      {0.25, -0.6744897501960817},
      {0.8413447460685429, 1.0},
      {0.999, 3.090232306167813},
      {0.001, -3.090232306167813},
      {0.02425, -1.9729610513118845},  // the edge between Acklam's regions
      {1e-10, -6.361340902404056},
      {1e-300, -37.0470962993612},
      {0.9, 1.2815515655446004},
      {0.1, -1.2815515655446004},
  };
  for (const Known& k : known) {
    const double x = normal_quantile(k.p);
    EXPECT_NEAR(x, k.x, 1e-13 * std::max(1.0, std::abs(k.x))) << "p = " << k.p;
  }
}

TEST(LatentGrid, NormalQuantileInvertsTheCdf) {
  double worst = 0;
  for (int i = 1; i < 2048; ++i) {
    const double p = i / 2048.0;  // 1 - p is exact, so the symmetry can be exact
    const double x = normal_quantile(p);
    worst = std::max(worst, std::abs(normal_cdf(x) - p) / std::min(p, 1 - p));
    EXPECT_EQ(normal_quantile(1 - p), -x) << p;  // exactly symmetric
  }
  EXPECT_LT(worst, 1e-14);
  // In the tail, Phi'(x) / Phi(x) ~ |x|: an x correct to a few ulps moves Phi(x) by ~ x^2 ulps, relatively.
  for (double p = 1e-300; p < 1e-3; p *= 7.3) {
    const double x = normal_quantile(p);
    EXPECT_NEAR(normal_cdf(x) / p, 1.0, 1e-15 * (1 + x * x)) << p;
  }
}

TEST(LatentGrid, NormalQuantileEdges) {
  EXPECT_EQ(normal_quantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(1.0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(normal_quantile(-0.5), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(normal_quantile(std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(normal_quantile(0.5), 0.0);
  // Subnormal probabilities: finite, ordered, near the true values.
  const double tiny = normal_quantile(1e-310), tinier = normal_quantile(5e-324);
  EXPECT_TRUE(std::isfinite(tiny));
  EXPECT_TRUE(std::isfinite(tinier));
  EXPECT_LT(tinier, tiny);
  EXPECT_NEAR(tinier, -38.47, 0.05);  // Phi^{-1}(4.9e-324)
}

TEST(LatentGrid, ManifoldCoordinatesAreCellCentresThroughTheInverseCdf) {
  const std::vector<double> c = manifold_coordinates(4);
  ASSERT_EQ(c.size(), 4u);
  EXPECT_NEAR(c[0], normal_quantile(0.125), 0);
  EXPECT_NEAR(c[3], -c[0], 1e-15);
  EXPECT_NEAR(c[1], -0.3186393639643752, 1e-13);  // Phi^{-1}(0.375)
  for (std::size_t k = 1; k < c.size(); ++k) EXPECT_LT(c[k - 1], c[k]);
  EXPECT_EQ(manifold_coordinates(1), std::vector<double>{0.0});
}

TEST(LatentGrid, ManifoldLatentsVaryTheChosenPairOnly) {
  const std::size_t latent = 4, steps = 3;
  const std::vector<float> z = manifold_latents(latent, steps, 3, 1);
  ASSERT_EQ(z.size(), steps * steps * latent);
  const std::vector<double> c = manifold_coordinates(steps);
  for (std::size_t r = 0; r < steps; ++r) {
    for (std::size_t col = 0; col < steps; ++col) {
      const float* row = z.data() + (r * steps + col) * latent;
      EXPECT_EQ(row[3], static_cast<float>(c[col]));               // x: left to right
      EXPECT_EQ(row[1], static_cast<float>(c[steps - 1 - r]));     // y: bottom to top
      EXPECT_EQ(row[0], 0.0f);
      EXPECT_EQ(row[2], 0.0f);
    }
  }
  EXPECT_THROW(manifold_latents(4, 3, 4, 1), InputError);
  EXPECT_THROW(manifold_latents(4, 3, 1, 1), InputError);
  EXPECT_THROW(manifold_latents(4, 0, 0, 1), InputError);
  EXPECT_THROW(manifold_latents(1, 3, 0, 0), InputError);
}

TEST(LatentGrid, InterpolationHitsBothEndsExactly) {
  const std::vector<float> a = {0.1f, -2.0f, 3.3f}, b = {1.7f, 0.25f, -0.9f};
  const std::vector<float> z = interpolation_latents(a, b, 5);
  ASSERT_EQ(z.size(), 15u);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(z[j], a[j]);
    EXPECT_EQ(z[12 + j], b[j]);
    EXPECT_FLOAT_EQ(z[6 + j], 0.5f * (a[j] + b[j]));
  }
  EXPECT_THROW(interpolation_latents(a, b, 1), InputError);
  EXPECT_THROW(interpolation_latents(a, std::vector<float>{1.0f}, 3), InputError);
}

// Slerp between two orthogonal vectors of different norms: the ends exactly,
// every point in their plane and where the closed form puts it; on the unit
// circle the middle stays on the circle; parallel ends fall back to the line.
TEST(LatentGrid, SphericalInterpolationTurnsAtAConstantRate) {
  const std::vector<float> a = {2.0f, 0.0f, 0.0f}, b = {0.0f, 1.0f, 1.0f};
  const std::size_t steps = 7;
  const std::vector<float> z = interpolation_latents(a, b, steps, Interpolation::spherical);
  ASSERT_EQ(z.size(), steps * 3);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(z[j], a[j]);
    EXPECT_EQ(z[(steps - 1) * 3 + j], b[j]);
  }
  const double angle = std::acos(0.0);  // a and b are orthogonal
  for (std::size_t k = 0; k + 1 < steps; ++k) {
    EXPECT_NEAR(z[k * 3 + 1], z[k * 3 + 2], 1e-6) << "point " << k << " left the plane of a and b";
    // The closed form with W = pi/2: the direction turns by W/(steps-1) per step.
    const double t = double(k) / double(steps - 1);
    const double wa = std::sin((1 - t) * angle) / std::sin(angle), wb = std::sin(t * angle) / std::sin(angle);
    EXPECT_NEAR(z[k * 3], wa * 2.0, 1e-6);
    EXPECT_NEAR(z[k * 3 + 1], wb * 1.0, 1e-6);
  }
  const std::vector<float> c = {1.0f, 1.0f}, d = {1.0f, 1.0f};
  const std::vector<float> u = {1.0f, 1.0f, 1.0f}, v = {-1.0f, 2.0f, 0.5f};
  const std::vector<float> e = {1.0f, 0.0f}, f = {0.0f, 1.0f};
  const std::vector<float> ze = interpolation_latents(e, f, 3, Interpolation::spherical);
  EXPECT_NEAR(ze[2], std::sqrt(0.5), 1e-6);  // halfway on the unit circle, not (0.5, 0.5)
  EXPECT_NEAR(ze[3], std::sqrt(0.5), 1e-6);
  // Parallel ends (and a zero end) have no plane: the straight line.
  EXPECT_EQ(interpolation_latents(c, d, 3, Interpolation::spherical), interpolation_latents(c, d, 3));
  const std::vector<float> zero = {0.0f, 0.0f, 0.0f};
  EXPECT_EQ(interpolation_latents(zero, v, 4, Interpolation::spherical), interpolation_latents(zero, v, 4));
  EXPECT_NE(interpolation_latents(u, v, 4, Interpolation::spherical), interpolation_latents(u, v, 4));
}

}  // namespace
}  // namespace aevb
