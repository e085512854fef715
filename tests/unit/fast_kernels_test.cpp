// The fast float kernels against their simple reference versions (dev/ lab,
// issue 4): the vectorizable approximations of backend/cpu/vector_math.hpp
// in ulps against double-precision libm, each fused kernel against the plain
// libm loops it replaces, and the GEMM tiling's independence of the thread count.
#include "backend/cpu/vector_math.hpp"
#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "model/engine.hpp"
#include "nn/activation.hpp"
#include "optim/optimizer.hpp"
#include "prob/gaussian_posterior.hpp"
#include "prob/likelihood.hpp"
#include "support/kernel_inputs.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace aevb {
namespace {

// Distance from got to the exact value in units of the float spacing at the
// exact value (the float rounding of an exact result is within 0.5).
double ulps(float got, double exact) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : INFINITY;
  const double fmax = std::numeric_limits<float>::max();
  if (std::abs(exact) > fmax) exact = std::copysign(INFINITY, exact);  // overflows in float
  if (std::isinf(exact)) return got == exact ? 0 : INFINITY;
  const auto rounded = static_cast<float>(exact);
  double spacing = double(std::nextafter(std::abs(rounded), INFINITY)) - double(std::abs(rounded));
  if (!(spacing > 0) || !std::isfinite(spacing)) spacing = std::numeric_limits<float>::denorm_min();
  return std::abs(double(got) - exact) / spacing;
}

struct Worst {
  double ulps = 0;
  float at = 0;
};

// Every 509th float in [lo, hi] in bit-pattern order (a few million points:
// every binade is covered), plus the ends.
Worst scan(const std::function<float(float)>& fast, const std::function<double(double)>& exact, float lo, float hi) {
  Worst w;
  auto visit = [&](float x) {
    const double u = ulps(fast(x), exact(double(x)));
    if (u > w.ulps) w = {u, x};
  };
  auto walk = [&](float a, float b) {  // a <= b, same sign
    const bool negative = std::signbit(a) || std::signbit(b);
    std::uint32_t from = std::bit_cast<std::uint32_t>(negative ? -b : a), to = std::bit_cast<std::uint32_t>(negative ? -a : b);
    for (std::uint64_t bits = from; bits <= to; bits += 509) {
      const float v = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
      visit(negative ? -v : v);
    }
    visit(a);
    visit(b);
  };
  if (lo < 0) walk(lo, std::min(hi, -0.0f));
  if (hi > 0) walk(std::max(lo, 0.0f), hi);
  return w;
}

void expect_ulps(const char* name, const std::function<float(float)>& fast, const std::function<double(double)>& exact,
                 float lo, float hi, double bound) {
  const Worst w = scan(fast, exact, lo, hi);
  std::printf("[fast] %-10s on [%g, %g]: max %.2f ulp at %.9g (bound %.1f)\n", name, double(lo), double(hi), w.ulps,
              double(w.at), bound);
  EXPECT_LE(w.ulps, bound) << name << " at x = " << w.at;
}

double exact_softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double exact_sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

TEST(FastMath, ApproximationsAreWithinStatedUlps) {
  expect_ulps("exp", [](float x) { return vmath::exp(x); }, [](double x) { return std::exp(x); }, -110.0f, 89.0f, 2.0);
  expect_ulps("expm1", [](float x) { return vmath::expm1(x); }, [](double x) { return std::expm1(x); }, -40.0f, 89.0f,
              4.0);
  expect_ulps("log1p_unit", [](float x) { return vmath::log1p_unit(x); }, [](double x) { return std::log1p(x); },
              0.0f, 1.0f, 2.5);
  expect_ulps("tanh", [](float x) { return vmath::tanh(x); }, [](double x) { return std::tanh(x); }, -20.0f, 20.0f,
              2.0);
  expect_ulps("sigmoid", [](float x) { return vmath::sigmoid(x); }, exact_sigmoid, -110.0f, 50.0f, 4.0);
  expect_ulps("softplus", [](float x) { return vmath::softplus(x); }, exact_softplus, -110.0f, 110.0f, 4.0);
}

TEST(FastMath, SpecialValues) {
  const float inf = INFINITY, nan = NAN;
  for (float (*f)(float) : {+[](float x) { return vmath::exp(x); }, +[](float x) { return vmath::expm1(x); },
                            +[](float x) { return vmath::tanh(x); }, +[](float x) { return vmath::sigmoid(x); },
                            +[](float x) { return vmath::softplus(x); }})
    EXPECT_TRUE(std::isnan(f(nan)));
  EXPECT_EQ(vmath::exp(inf), inf);
  EXPECT_EQ(vmath::exp(-inf), 0.0f);
  EXPECT_EQ(vmath::exp(0.0f), 1.0f);
  EXPECT_EQ(vmath::exp(100.0f), inf);
  EXPECT_EQ(vmath::expm1(-inf), -1.0f);
  EXPECT_EQ(vmath::tanh(inf), 1.0f);
  EXPECT_EQ(vmath::tanh(-inf), -1.0f);
  EXPECT_TRUE(std::signbit(vmath::tanh(-0.0f)));
  EXPECT_EQ(vmath::sigmoid(inf), 1.0f);
  EXPECT_EQ(vmath::sigmoid(-inf), 0.0f);
  EXPECT_EQ(vmath::softplus(inf), inf);
  EXPECT_EQ(vmath::softplus(-inf), 0.0f);
  EXPECT_EQ(vmath::log1p_unit(0.0f), 0.0f);
}

// ---- Fused kernels: fast (float) against reference (float, libm loops).

using test::normals;
using test::relative_error;

// Odd sizes: vector bodies and scalar tails, more than one column block.
constexpr std::size_t kRows = 37, kCols = 133;

class FastActivation : public ::testing::TestWithParam<Act> {};

TEST_P(FastActivation, ForwardAndBackwardMatchReference) {
  const Act act = GetParam();
  const float slope = 0.1f;
  const std::vector<float> pre = normals(kRows * kCols, 1, 3.0f), bias = normals(kCols, 2, 1.0f);
  std::vector<float> fast = pre, ref = pre;
  bias_activation_forward<float>({fast.data(), kRows, kCols}, bias.data(), act, slope);
  reference::bias_activation_forward<float>({ref.data(), kRows, kCols}, bias.data(), act, slope);
  EXPECT_LE(relative_error(fast, ref), 1e-6) << "forward";

  const std::vector<float> upstream = normals(kRows * kCols, 3, 1.0f);
  std::vector<float> dfast = upstream, dref = upstream, dbfast(kCols, 0.5f), dbref(kCols, 0.5f);
  activation_backward<float>({dfast.data(), kRows, kCols}, {ref.data(), kRows, kCols}, act, slope, dbfast.data());
  reference::activation_backward<float>({dref.data(), kRows, kCols}, {ref.data(), kRows, kCols}, act, slope,
                                        dbref.data());
  EXPECT_LE(relative_error(dfast, dref), 1e-6) << "backward";
  EXPECT_LE(relative_error(dbfast, dbref), 1e-6) << "bias gradient";
}

INSTANTIATE_TEST_SUITE_P(Activations, FastActivation,
                         ::testing::Values(Act::identity, Act::tanh, Act::relu, Act::leaky_relu, Act::softplus,
                                           Act::sigmoid));

struct LikelihoodCase {
  Likelihood kind;
  bool sigmoid_mean;
};

class FastLikelihood : public ::testing::TestWithParam<LikelihoodCase> {};

TEST_P(FastLikelihood, ValuesAndGradientsMatchReference) {
  const std::size_t rows = 5, samples = 3, d = kCols;
  const LikelihoodSpec spec{GetParam().kind, GetParam().sigmoid_mean, 0.3, d};
  const std::size_t width = spec.output_width(), n = rows * samples;
  // Logits up to +-12 (both branches of the stable forms), grey data in [0, 1).
  const std::vector<float> out = normals(n * width, 4, 4.0f);
  std::vector<float> x(rows * d);
  fill_uniform(x.data(), x.size(), 5, 0);
  const std::vector<float> weight = normals(n, 6, 1.0f);
  std::vector<float> vfast(n), vref(n), vplain(n), dfast(n * width), dref(n * width);
  log_likelihood_grad<float>(spec, {out.data(), n, width}, {x.data(), rows, d}, samples, weight.data(), vfast.data(),
                             {dfast.data(), n, width});
  reference::log_likelihood_grad<float>(spec, {out.data(), n, width}, {x.data(), rows, d}, samples, weight.data(),
                                        vref.data(), {dref.data(), n, width});
  log_likelihood<float>(spec, {out.data(), n, width}, {x.data(), rows, d}, samples, vplain.data());
  for (std::size_t r = 0; r < n; ++r) {
    EXPECT_NEAR(vfast[r], vref[r], 2e-6 * std::abs(vref[r])) << "row " << r;
    EXPECT_EQ(vplain[r], vfast[r]) << "values alone and with the gradient differ, row " << r;
  }
  EXPECT_LE(relative_error(dfast, dref), 1e-6) << "gradient";
}

INSTANTIATE_TEST_SUITE_P(Kinds, FastLikelihood,
                         ::testing::Values(LikelihoodCase{Likelihood::bernoulli, false},
                                           LikelihoodCase{Likelihood::gaussian, true},
                                           LikelihoodCase{Likelihood::gaussian, false},
                                           LikelihoodCase{Likelihood::gaussian_fixed, true},
                                           LikelihoodCase{Likelihood::gaussian_fixed, false}));

// The float posterior (vector_math exp) against the double one (libm).
TEST(FastPosterior, MatchesDoublePrecision) {
  const std::size_t rows = 6, samples = 4, nz = 21, n = rows * samples;
  const std::vector<float> head = normals(rows * 2 * nz, 7, 1.5f), eps = normals(n * nz, 8, 1.0f);
  const std::vector<double> head_d(head.begin(), head.end()), eps_d(eps.begin(), eps.end());
  std::vector<float> z(n * nz), log_q(n), log_p(n), kl(rows);
  std::vector<double> z_d(n * nz), log_q_d(n), log_p_d(n), kl_d(rows);
  reparameterize<float>({head.data(), rows, 2 * nz}, samples, eps.data(), {z.data(), log_q.data(), log_p.data(), kl.data()});
  reparameterize<double>({head_d.data(), rows, 2 * nz}, samples, eps_d.data(),
                         {z_d.data(), log_q_d.data(), log_p_d.data(), kl_d.data()});
  auto as_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  EXPECT_LE(relative_error(z, as_float(z_d)), 1e-6);
  EXPECT_LE(relative_error(log_q, as_float(log_q_d)), 1e-6);
  EXPECT_LE(relative_error(log_p, as_float(log_p_d)), 1e-6);
  EXPECT_LE(relative_error(kl, as_float(kl_d)), 1e-6);

  const std::vector<float> dz = normals(n * nz, 9, 1.0f), pw = normals(n, 10, 1.0f), kw = normals(rows, 11, 1.0f);
  const std::vector<double> dz_d(dz.begin(), dz.end()), pw_d(pw.begin(), pw.end()), kw_d(kw.begin(), kw.end());
  std::vector<float> dhead(rows * 2 * nz);
  std::vector<double> dhead_d(rows * 2 * nz);
  reparameterize_backward<float>({head.data(), rows, 2 * nz}, samples, eps.data(), z.data(),
                                 {dz.data(), pw.data(), kw.data()}, {dhead.data(), rows, 2 * nz});
  reparameterize_backward<double>({head_d.data(), rows, 2 * nz}, samples, eps_d.data(), z_d.data(),
                                  {dz_d.data(), pw_d.data(), kw_d.data()}, {dhead_d.data(), rows, 2 * nz});
  EXPECT_LE(relative_error(dhead, as_float(dhead_d)), 2e-6);
}

// ---- The optimizer's vector loops against the same rule in double.

TEST(FastOptimizer, FloatStepsMatchDouble) {
  for (OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adagrad, OptimizerKind::adam}) {
    OptimizerConfig c;
    c.kind = kind;
    c.lr = 0.01f;
    c.weight_decay = 1e-3f;
    c.clip_norm = 5.0f;
    const std::size_t n = 40000 + 13;  // several blocks and a tail
    std::vector<float> p = normals(n, 12, 1.0f);
    std::vector<double> p_d(p.begin(), p.end());
    Optimizer<float> opt(c, n);
    Optimizer<double> opt_d(c, n);
    for (std::uint64_t step = 1; step <= 3; ++step) {
      const std::vector<float> g = normals(n, 12 + step, 0.1f);
      const std::vector<double> g_d(g.begin(), g.end());
      opt.apply(p.data(), g.data(), step);
      opt_d.apply(p_d.data(), g_d.data(), step);
    }
    EXPECT_LE(relative_error(p, std::vector<float>(p_d.begin(), p_d.end())), 1e-6) << to_string(kind);
  }
}

TEST(FastOptimizer, AllFiniteFindsInfAndNaN) {
  std::vector<float> g(100003, 0.25f);
  EXPECT_TRUE(all_finite(g.data(), g.size()));
  for (float bad : {INFINITY, -INFINITY, NAN}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{70000}, g.size() - 1}) {
      std::vector<float> h = g;
      h[at] = bad;
      EXPECT_FALSE(all_finite(h.data(), h.size())) << bad << " at " << at;
    }
  }
  EXPECT_TRUE(all_finite(g.data(), 0));
}

// ---- The trainer's backward writes the gradient (GradMode::overwrite) instead
// of zeroing the buffer and adding: the same bits, whatever the buffer held.

TEST(GradMode, OverwriteEqualsZeroGradThenAccumulate) {
  ModelConfig model;
  model.input_dim = 50;
  model.hidden = {32, 16};
  model.latent = 4;
  model.likelihood = Likelihood::gaussian;
  Engine<float> engine(model);
  engine.initialize(3);
  const std::size_t rows = 9;
  std::vector<float> x(rows * model.input_dim);
  fill_uniform(x.data(), x.size(), 4, 0);
  const std::vector<float> eps = normals(rows * 2 * model.latent, 5, 1.0f);
  const ObjectiveConfig objective{Estimator::A, 2, 0.7f};
  engine.zero_grad();
  engine.forward_backward({x.data(), rows, model.input_dim}, eps.data(), objective);
  const std::vector<float> added(engine.grads(), engine.grads() + engine.param_count());
  std::fill_n(engine.grads(), engine.param_count(), 12345.0f);  // garbage
  engine.forward_backward({x.data(), rows, model.input_dim}, eps.data(), objective, GradMode::overwrite);
  const std::vector<float> written(engine.grads(), engine.grads() + engine.param_count());
  EXPECT_EQ(written, added);
}

// ---- GEMM: the tiles cover C exactly, are balanced, and give the same bits
// with any thread count.

TEST(GemmTiles, CoverAndBalance) {
  const std::size_t shapes[][3] = {{128, 400, 784}, {400, 784, 128}, {128, 40, 400}, {5000, 784, 400},
                                   {100, 500, 784}, {7, 3, 5},       {2048, 2048, 2048}, {129, 1000, 64}};
  for (std::size_t procs : {1, 2, 16}) {
    for (const auto& s : shapes) {
      const backend::TilePlan plan = backend::TilePlan::of(s[0], s[1], s[2], procs);
      std::size_t next = 0, smallest = SIZE_MAX, largest = 0;
      for (std::size_t t = 0; t < plan.count; ++t) {
        EXPECT_EQ(plan.first(t), next);
        next += plan.size(t);
        if (t + 1 < plan.count) {
          smallest = std::min(smallest, plan.size(t));
          largest = std::max(largest, plan.size(t));
        }
      }
      EXPECT_EQ(next, plan.split_rows ? s[0] : s[1]) << s[0] << "x" << s[1] << "x" << s[2] << ", " << procs;
      if (plan.count > 2) {
        EXPECT_EQ(plan.count % 2, 0u);
        EXPECT_LE(largest - smallest, plan.unit);
      }
    }
  }
}

TEST(GemmTiles, SameBitsWithOneAndTwoThreads) {
  using backend::Trans;
  struct Case {
    Trans ta, tb;
    std::size_t m, n, k;
  };
  const Case cases[] = {{Trans::no, Trans::yes, 128, 400, 784}, {Trans::yes, Trans::no, 400, 784, 128},
                        {Trans::no, Trans::no, 128, 400, 40},   {Trans::no, Trans::yes, 1000, 300, 20},
                        {Trans::no, Trans::yes, 3, 5, 7}};
  for (const Case& c : cases) {
    const std::vector<float> a = normals(c.m * c.k, 13, 1.0f), b = normals(c.k * c.n, 14, 1.0f);
    const std::size_t lda = c.ta == Trans::no ? c.k : c.m, ldb = c.tb == Trans::no ? c.n : c.k;
    std::vector<float> results[2];
    for (int threads : {1, 2}) {
      set_threads(threads);
      std::vector<float> out = normals(c.m * c.n, 15, 1.0f);
      backend::gemm<float>(c.ta, c.tb, c.m, c.n, c.k, 1.0f, a.data(), lda, b.data(), ldb, 0.5f, out.data(), c.n);
      results[threads - 1] = out;
    }
    set_threads(0);
    EXPECT_EQ(results[0], results[1]) << c.m << "x" << c.n << "x" << c.k;
  }
}

}  // namespace
}  // namespace aevb
