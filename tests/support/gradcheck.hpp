#pragma once
// Central finite differences in double precision (the Caffe gradient checker's
// approach): perturb each coordinate by +-h, re-evaluate the scalar loss with
// all randomness held fixed, compare with the analytic derivative.
#include "core/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace aevb::testing {

/// Every parameter (biases too) drawn from N(0, scale^2), so that no ReLU
/// sits exactly on its kink and no gradient is trivially zero.
template <class Engine>
void randomize_parameters(Engine& engine, std::uint64_t seed, double scale = 0.5) {
  fill_normal(engine.params(), engine.param_count(), seed, 0);
  for (std::size_t i = 0; i < engine.param_count(); ++i) engine.params()[i] *= scale;
}

/// Checks analytic[i] against (f(x + h e_i) - f(x - h e_i)) / 2h for every i.
/// The truncation error is O(h^2 f''') ~ 1e-10 and the rounding error
/// ~ 1e-16 |f| / h ~ 1e-10 for |f| ~ 1, so 1e-6 relative leaves a wide margin
/// while any wrong term (typically O(1) relative) fails.
inline void expect_gradient(const std::function<double()>& f, double* x, std::size_t n, const double* analytic,
                            const std::string& what, double h = 1e-6, double tolerance = 1e-6) {
  std::size_t failures = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f();
    x[i] = saved - h;
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double error = std::abs(numeric - analytic[i]);
    if (error > tolerance * (1 + std::abs(numeric)) && failures++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: analytic " << analytic[i] << ", finite difference " << numeric;
    }
  }
  EXPECT_EQ(failures, 0u) << what << ": " << failures << " of " << n << " derivatives disagree";
}

}  // namespace aevb::testing
