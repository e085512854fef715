// The update rules against hand-computed steps (PyTorch's conventions).
// Hyperparameters are float in the config: the expectations use the same
// float values (0.1f, not 0.1).
#include "optim/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace aevb {
namespace {

OptimizerConfig make(OptimizerKind kind, float lr, float decay = 0, float clip = 0) {
  OptimizerConfig c;
  c.kind = kind;
  c.lr = lr;
  c.weight_decay = decay;
  c.clip_norm = clip;
  c.momentum = 0;
  return c;
}

TEST(Optimizer, SgdWithMomentum) {
  OptimizerConfig c = make(OptimizerKind::sgd, 0.1f);
  c.momentum = 0.5f;
  Optimizer<double> opt(c, 2);
  const double lr = 0.1f;
  std::vector<double> p = {1.0, -2.0};
  const std::vector<double> g1 = {0.4, 1.0}, g2 = {0.2, -1.0};
  opt.apply(p.data(), g1.data(), 1);  // buf = g1
  EXPECT_NEAR(p[0], 1.0 - lr * 0.4, 1e-15);
  opt.apply(p.data(), g2.data(), 2);  // buf = 0.5 g1 + g2
  EXPECT_NEAR(p[0], 1.0 - lr * 0.4 - lr * (0.5 * 0.4 + 0.2), 1e-15);
  EXPECT_NEAR(p[1], -2.0 - lr * 1.0 - lr * (0.5 * 1.0 - 1.0), 1e-15);
}

TEST(Optimizer, AdagradAccumulatesSquares) {
  Optimizer<double> opt(make(OptimizerKind::adagrad, 0.02f), 1);
  std::vector<double> p = {0.5};
  const std::vector<double> g1 = {3.0}, g2 = {4.0};
  opt.apply(p.data(), g1.data(), 1);
  EXPECT_NEAR(p[0], 0.5 - 0.02 * 3.0 / 3.0, 1e-9);
  opt.apply(p.data(), g2.data(), 2);
  EXPECT_NEAR(p[0], 0.5 - 0.02 - 0.02 * 4.0 / 5.0, 1e-9);
  EXPECT_NEAR(opt.state()[0], 25.0, 1e-12);
}

TEST(Optimizer, AdamBiasCorrectedSteps) {
  Optimizer<double> opt(make(OptimizerKind::adam, 0.001f), 1);
  const double lr = 0.001f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  std::vector<double> p = {0.0};
  const std::vector<double> g1 = {2.0}, g2 = {-1.0};
  opt.apply(p.data(), g1.data(), 1);
  // First step: m_hat = g, v_hat = g^2, so the step is lr * g / (|g| + eps).
  EXPECT_NEAR(p[0], -lr * 2.0 / (2.0 + eps), 1e-15);
  opt.apply(p.data(), g2.data(), 2);
  const double m = b1 * (1 - b1) * 2.0 + (1 - b1) * -1.0, v = b2 * (1 - b2) * 4.0 + (1 - b2) * 1.0;
  const double m_hat = m / (1 - b1 * b1), v_hat = v / (1 - b2 * b2);
  EXPECT_NEAR(p[0], -lr * 2.0 / (2.0 + eps) - lr * m_hat / (std::sqrt(v_hat) + eps), 1e-12);
}

TEST(Optimizer, WeightDecayIsTheGaussianPriorGradient) {
  Optimizer<double> opt(make(OptimizerKind::sgd, 0.5f, 0.1f), 1);
  std::vector<double> p = {2.0};
  const std::vector<double> g = {0.0};
  opt.apply(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], 2.0 - 0.5 * double(0.1f) * 2.0, 1e-15);  // d/dp of 0.1/2 p^2
}

TEST(Optimizer, ClippingBoundsTheGradientNorm) {
  Optimizer<double> opt(make(OptimizerKind::sgd, 1.0f, 0, 1.0f), 2);
  std::vector<double> p = {0.0, 0.0};
  const std::vector<double> g = {3.0, 4.0};  // norm 5 -> scaled to norm 1
  opt.apply(p.data(), g.data(), 1);
  EXPECT_NEAR(p[0], -0.6, 1e-6);
  EXPECT_NEAR(p[1], -0.8, 1e-6);
  const std::vector<double> small = {0.3, 0.4};  // norm 0.5: untouched
  opt.apply(p.data(), small.data(), 2);
  EXPECT_NEAR(p[0], -0.9, 1e-6);  // the first step was scaled by 1 / (5 + 1e-6)
}

}  // namespace
}  // namespace aevb
