// The explorer's PCA: Jacobi's eigen decomposition checked by its defining
// equations on a random symmetric matrix, and principal axes on points whose
// covariance is known in closed form.
#include "eval/pca.hpp"

#include <aevb/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace aevb {
namespace {

TEST(Pca, JacobiSatisfiesTheEigenEquationsOnARandomSymmetricMatrix) {
  const std::size_t n = 7;
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  std::vector<double> a(n * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = normal(rng);
  const SymmetricEigen e = symmetric_eigen(a, n);
  double trace = 0;
  for (std::size_t i = 0; i < n; ++i) trace += a[i * n + i];
  double sum = 0;
  for (std::size_t k = 0; k < n; ++k) {
    sum += e.values[k];
    if (k > 0) {
      EXPECT_GE(e.values[k - 1], e.values[k]);
    }
    const double* v = e.vectors.data() + k * n;
    std::size_t largest = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double av = 0;
      for (std::size_t j = 0; j < n; ++j) av += a[i * n + j] * v[j];
      EXPECT_NEAR(av, e.values[k] * v[i], 1e-10) << "eigenpair " << k << ", row " << i;
      if (std::abs(v[i]) > std::abs(v[largest])) largest = i;
    }
    EXPECT_GT(v[largest], 0.0) << "sign convention of vector " << k;
    for (std::size_t l = 0; l <= k; ++l) {
      double dot = 0;
      for (std::size_t i = 0; i < n; ++i) dot += v[i] * e.vectors[l * n + i];
      EXPECT_NEAR(dot, l == k ? 1.0 : 0.0, 1e-12) << "vectors " << k << " and " << l;
    }
  }
  EXPECT_NEAR(sum, trace, 1e-10);
}

// Four points c +- a u and c +- b w with u, w orthonormal: the mean is c, the
// covariance (a^2/2) u u^T + (b^2/2) w w^T, so the axes are u then w (a > b)
// with shares a^2 / (a^2 + b^2) and b^2 / (a^2 + b^2); a third axis asked of a
// 3-D set is the normal u x w with share 0, a fourth past the dimension is 0.
TEST(Pca, PrincipalAxesOfPointsWithAKnownCovariance) {
  const double s = 1.0 / std::sqrt(2.0);
  const double u[3] = {s, s, 0}, w[3] = {0, 0, 1}, c[3] = {1.5, -2.0, 0.25};
  const double a = 3.0, b = 1.0;
  std::vector<float> x;
  for (double sign : {1.0, -1.0})
    for (const auto& [len, dir] : {std::pair{a, u}, std::pair{b, w}})
      for (int j = 0; j < 3; ++j) x.push_back(static_cast<float>(c[j] + sign * len * dir[j]));
  const PrincipalAxes p = principal_axes({x.data(), 4, 3}, 4);
  ASSERT_EQ(p.axes.size(), 4u);
  for (int j = 0; j < 3; ++j) {
    EXPECT_NEAR(p.center[j], c[j], 1e-6);
    EXPECT_NEAR(p.axes[0][j], u[j], 1e-6);  // the sign rule: largest component positive
    EXPECT_NEAR(p.axes[1][j], w[j], 1e-6);
    EXPECT_NEAR(std::abs(p.axes[2][j]), j == 2 ? 0.0 : s, 1e-6);
    EXPECT_EQ(p.axes[3][j], 0.0);
  }
  EXPECT_NEAR(p.explained[0], a * a / (a * a + b * b), 1e-6);
  EXPECT_NEAR(p.explained[1], b * b / (a * a + b * b), 1e-6);
  EXPECT_NEAR(p.explained[2], 0.0, 1e-6);
  EXPECT_EQ(p.explained[3], 0.0);
}

TEST(Pca, PointsThatDoNotVaryHaveNoExplainedVariance) {
  const std::vector<float> same = {1, 2, 1, 2, 1, 2};
  const PrincipalAxes p = principal_axes({same.data(), 3, 2}, 2);
  EXPECT_EQ(p.explained[0], 0.0);
  EXPECT_EQ(p.center[1], 2.0);
  EXPECT_THROW(principal_axes({same.data(), 0, 2}, 2), InputError);
}

}  // namespace
}  // namespace aevb
