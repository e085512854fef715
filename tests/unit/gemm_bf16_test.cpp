// bfloat16 products on AMX or AVX512-BF16 (src/backend/cpu/gemm_bf16.cpp).
//
// The kernel rounds each operand to bfloat16 (to nearest even) and sums the
// products in float32, so it is checked against a double-precision product of
// the same rounded operands: any packing mistake (a wrong pair, a wrong
// transpose, a lost edge) is an O(1) error, while the float32 sums stay within
// k * 2^-24 of sum |x y|. The kernel tests run on every kernel the machine
// has (forced by ScopedBf16Kernel), the others on the one it uses by default;
// every test is skipped on machines with neither.
#include "backend/cpu/gemm_bf16.hpp"
#include "backend/gemm.hpp"
#include "core/rng.hpp"
#include "core/thread_pool.hpp"
#include "eval/evaluation.hpp"
#include "model/engine.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <cstdio>
#include <ostream>
#include <string>
#include <vector>

namespace aevb {
namespace {

using backend::Trans;

#define SKIP_WITHOUT_BF16()                                                                  \
  if (!backend::bf16_products_available())                                                   \
  GTEST_SKIP() << "no bfloat16 kernel on this machine (neither AMX-BF16 nor AVX512-BF16)"

// Runs `body` once per available kernel, forced, its name in the trace.
template <class Body>
void for_each_kernel(Body body) {
  for (const backend::Bf16Kernel kernel : backend::bf16_kernels_available()) {
    SCOPED_TRACE(std::string("kernel ") + std::string(backend::to_string(kernel)));
    const backend::ScopedBf16Kernel use(kernel);
    body();
  }
}

// Round to the nearest bfloat16, ties to even (finite inputs).
double to_bf16(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  u = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
  float y;
  std::memcpy(&y, &u, sizeof y);
  return y;
}

struct Shape {
  Trans ta, tb;
  std::size_t m, n, k;
  std::size_t pad;  // extra columns in every leading dimension
};

void PrintTo(const Shape& s, std::ostream* os) {
  *os << (s.ta == Trans::yes ? "A^T " : "A ") << (s.tb == Trans::yes ? "B^T " : "B ") << s.m << "x" << s.n << "x"
      << s.k << " pad " << s.pad;
}

struct Operands {
  std::size_t lda, ldb, ldc;
  std::vector<float> a, b, c;
};

Operands operands(const Shape& s, std::uint64_t seed) {
  Operands o;
  const std::size_t a_rows = s.ta == Trans::no ? s.m : s.k, a_cols = s.ta == Trans::no ? s.k : s.m;
  const std::size_t b_rows = s.tb == Trans::no ? s.k : s.n, b_cols = s.tb == Trans::no ? s.n : s.k;
  o.lda = a_cols + s.pad;
  o.ldb = b_cols + s.pad;
  o.ldc = s.n + s.pad;
  o.a.resize(a_rows * o.lda);
  o.b.resize(b_rows * o.ldb);
  o.c.resize(s.m * o.ldc);
  fill_normal(o.a.data(), o.a.size(), seed, 1);
  fill_normal(o.b.data(), o.b.size(), seed, 2);
  fill_normal(o.c.data(), o.c.size(), seed, 3);
  return o;
}

// Worst |got - want| / (|alpha| sum |x y| + |beta c| + tiny) over C, with
// want computed in double from the bfloat16-rounded operands.
double worst_error(const Shape& s, const Operands& o, const std::vector<float>& c_before, float alpha, float beta) {
  double worst = 0;
  for (std::size_t i = 0; i < s.m; ++i) {
    for (std::size_t j = 0; j < s.n; ++j) {
      double sum = 0, magnitude = 0;
      for (std::size_t kk = 0; kk < s.k; ++kk) {
        const double x = to_bf16(s.ta == Trans::no ? o.a[i * o.lda + kk] : o.a[kk * o.lda + i]);
        const double y = to_bf16(s.tb == Trans::no ? o.b[kk * o.ldb + j] : o.b[j * o.ldb + kk]);
        sum += x * y;
        magnitude += std::fabs(x * y);
      }
      const double c0 = beta == 0 ? 0.0 : double(c_before[i * o.ldc + j]);
      const double want = alpha * sum + beta * c0;
      const double scale = std::fabs(alpha) * magnitude + std::fabs(beta * c0) + 1e-30;
      worst = std::max(worst, std::fabs(double(o.c[i * o.ldc + j]) - want) / scale);
    }
  }
  return worst;
}

class GemmBf16 : public ::testing::TestWithParam<Shape> {};

TEST_P(GemmBf16, MatchesTheRoundedOperandsProductInDouble) {
  SKIP_WITHOUT_BF16();
  const Shape s = GetParam();
  for_each_kernel([&] {
    for (const auto& [alpha, beta] : {std::pair{1.0f, 0.0f}, std::pair{-1.5f, 0.5f}}) {
      Operands o = operands(s, 7);
      const std::vector<float> before = o.c;
      backend::gemm_bf16(s.ta, s.tb, s.m, s.n, s.k, alpha, o.a.data(), o.lda, o.b.data(), o.ldb, beta, o.c.data(),
                         o.ldc);
      // float32 sums of k terms: within about k * 2^-24 of sum |x y| (plus one rounding of alpha, beta).
      const double tolerance = double(s.k + 4) * std::ldexp(1.0, -24);
      EXPECT_LE(worst_error(s, o, before, alpha, beta), tolerance) << "alpha " << alpha << ", beta " << beta;
      // The padding columns of C are never written.
      for (std::size_t i = 0; i < s.m; ++i)
        for (std::size_t j = s.n; j < o.ldc; ++j) ASSERT_EQ(o.c[i * o.ldc + j], before[i * o.ldc + j]);
    }
  });
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemmBf16,
    ::testing::Values(Shape{Trans::no, Trans::yes, 128, 400, 784, 0},  // forward: X W^T
                      Shape{Trans::yes, Trans::no, 400, 784, 128, 0},  // weight gradient: dY^T X
                      Shape{Trans::no, Trans::no, 128, 784, 400, 0},   // input gradient: dY W
                      Shape{Trans::yes, Trans::yes, 33, 47, 65, 3},    // every edge at once
                      Shape{Trans::no, Trans::yes, 1, 1, 1, 0}, Shape{Trans::no, Trans::no, 17, 15, 33, 5},
                      Shape{Trans::yes, Trans::no, 31, 20, 7, 1}, Shape{Trans::no, Trans::yes, 100, 40, 500, 0}));

TEST(GemmBf16, BetaZeroIgnoresWhatCHeld) {
  SKIP_WITHOUT_BF16();
  for_each_kernel([] {
    const Shape s{Trans::no, Trans::no, 20, 20, 40, 0};
    Operands o = operands(s, 9);
    std::fill(o.c.begin(), o.c.end(), std::numeric_limits<float>::quiet_NaN());
    backend::gemm_bf16(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(),
                       o.ldc);
    for (float v : o.c) ASSERT_TRUE(std::isfinite(v));
  });
}

TEST(GemmBf16, RoundsOperandsToNearestEven) {
  SKIP_WITHOUT_BF16();
  // 1 + 2^-8 lies halfway between the bfloat16s 1 and 1 + 2^-7: to even gives 1.
  // 1 + 3 * 2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: to even gives 1 + 2^-6.
  for_each_kernel([] {
    const float a[2] = {1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8)};
    const float b[2] = {1.0f, 0.0f}, b2[2] = {0.0f, 1.0f};
    float c = 0;
    backend::gemm_bf16(Trans::no, Trans::no, 1, 1, 2, 1.0f, a, 2, b, 1, 0.0f, &c, 1);
    EXPECT_EQ(c, 1.0f);
    backend::gemm_bf16(Trans::no, Trans::no, 1, 1, 2, 1.0f, a, 2, b2, 1, 0.0f, &c, 1);
    EXPECT_EQ(c, 1.0f + std::ldexp(1.0f, -6));
  });
}

// The threads split the larger operand (B in the first shape, A in the
// second); three threads split it unevenly.
TEST(GemmBf16, ProductsAreBitwiseTheSameOnOneTwoAndThreeThreads) {
  SKIP_WITHOUT_BF16();
  for_each_kernel([] {
  for (const Shape s : {Shape{Trans::yes, Trans::no, 400, 784, 128, 0}, Shape{Trans::no, Trans::yes, 300, 40, 64, 0}}) {
    auto run = [&](int threads) {
      pool::set_threads(threads);
      Operands o = operands(s, 11);
      const backend::ScopedMatmulPrecision precision(MatmulPrecision::bfloat16);
      backend::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(),
                           o.ldc);
      pool::set_threads(0);
      return o.c;
    };
    const std::vector<float> one = run(1);
    EXPECT_EQ(one, run(2)) << s.m << " x " << s.n << " x " << s.k;
    EXPECT_EQ(one, run(3)) << s.m << " x " << s.n << " x " << s.k;
    // And the scope really chose bfloat16: float32 products differ.
    Operands o = operands(s, 11);
    backend::gemm<float>(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(),
                         o.ldc);
    EXPECT_NE(o.c, one);
  }
  });
}

// Both kernels, where a machine has both (an AMX Xeon), forced in turn: the
// check that forcing takes effect, and how the two kernels' sums compare.
// Each adds a k-pair's two products to its float32 sum per instruction, pairs
// in the same order, so any difference is in the last bits.
TEST(GemmBf16, TheKernelsAgreeWhereAMachineHasBoth) {
  const auto kernels = backend::bf16_kernels_available();
  if (kernels.size() < 2) GTEST_SKIP() << "this machine has only one bfloat16 kernel";
  const Shape s{Trans::no, Trans::yes, 128, 400, 784, 0};
  std::vector<std::vector<float>> results;
  for (const backend::Bf16Kernel kernel : kernels) {
    const backend::ScopedBf16Kernel use(kernel);
    EXPECT_EQ(backend::bf16_kernel(), kernel);
    Operands o = operands(s, 13);
    backend::gemm_bf16(s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(),
                       o.ldc);
    results.push_back(o.c);
  }
  std::size_t differ = 0;
  double worst = 0;
  for (std::size_t i = 0; i < results[0].size(); ++i) {
    differ += results[0][i] != results[1][i];
    worst = std::max(worst, std::fabs(double(results[0][i]) - results[1][i]) / (1 + std::fabs(results[0][i])));
  }
  EXPECT_LE(worst, double(s.k) * std::ldexp(1.0, -23));
  std::printf("amx and avx512 kernels: %zu of %zu products differ, worst relative difference %.2e\n", differ,
              results[0].size(), worst);
}

// One training step's gradient with bfloat16 products against float32. The
// yardstick is the float32 gradient after rounding only the parameters to
// bfloat16: bfloat16 products round those same weights, plus the activations
// and back-propagated gradients that meet them, so their change to the
// gradient is of the same order (measured: 2.0e-2 against 1.6e-2 for this
// model at the paper's initialization, the gradients' cancellations amplifying
// both); three times the yardstick still catches a wrong product, whose error
// is of order 1.
TEST(GemmBf16, TrainingGradientIsAsCloseToFloat32AsRoundingTheWeights) {
  SKIP_WITHOUT_BF16();
  ModelConfig model;
  model.hidden = {400};
  model.activation = Activation::relu;
  ObjectiveConfig objective;
  const std::size_t batch = 64;
  std::vector<float> x(batch * model.input_dim), eps(batch * model.latent);
  fill_uniform(x.data(), x.size(), 5, 0);
  fill_normal(eps.data(), eps.size(), 5, 1);
  auto gradient = [&](MatmulPrecision p, bool round_parameters, Bound& bound) {
    Vae vae(model, 3);
    Engine<float>& engine = vae.engine();
    if (round_parameters)
      for (std::size_t i = 0; i < engine.param_count(); ++i) engine.params()[i] = float(to_bf16(engine.params()[i]));
    engine.plan(batch, 1);
    const backend::ScopedMatmulPrecision precision(p);
    bound = engine.forward_backward({x.data(), batch, model.input_dim}, eps.data(), objective, GradMode::overwrite);
    return std::vector<float>(engine.grads(), engine.grads() + engine.param_count());
  };
  Bound b32, b16, rounded_bound;
  const std::vector<float> g32 = gradient(MatmulPrecision::float32, false, b32);
  const std::vector<float> g16 = gradient(MatmulPrecision::bfloat16, false, b16);
  const std::vector<float> rounded = gradient(MatmulPrecision::float32, true, rounded_bound);
  auto distance = [&](const std::vector<float>& g) {
    double diff = 0, norm = 0;
    for (std::size_t i = 0; i < g32.size(); ++i) {
      diff += (double(g[i]) - g32[i]) * (double(g[i]) - g32[i]);
      norm += double(g32[i]) * g32[i];
    }
    return std::sqrt(diff / norm);
  };
  const double products = distance(g16), yardstick = distance(rounded);
  EXPECT_GT(products, 0.0) << "bfloat16 products were not used";
  EXPECT_LT(products, 3 * yardstick) << "rounding the parameters alone moves the gradient by " << yardstick;
  EXPECT_LT(std::fabs(b16.bound - b32.bound), 3 * std::fabs(rounded_bound.bound - b32.bound) + 1e-4);
}

// Evaluation with bfloat16 products: the importance-sampled log-likelihood
// may move by far less than its own standard error over the datapoints, the
// uncertainty every reported value carries anyway (measured here, an
// untrained model: 2e-6 nats against a standard error of 0.012; on the
// paper's trained MNIST model, 3e-3 against 2.0).
TEST(GemmBf16, EvaluationMovesTheLogLikelihoodFarLessThanItsStandardError) {
  SKIP_WITHOUT_BF16();
  ModelConfig model;  // the paper's 784-500-20
  const Vae vae(model, 6);
  const std::size_t n = 100;
  std::vector<float> x(n * model.input_dim);
  fill_uniform(x.data(), x.size(), 12, 0);
  for (float& v : x) v = v < 0.2f ? 1.0f : 0.0f;  // MNIST-like: a fifth of the pixels on
  EvalOptions options;
  options.iw_samples = 500;
  const EvalResult f32 = evaluate_model(vae, {x.data(), n, model.input_dim}, options);
  options.matmul_precision = MatmulPrecision::bfloat16;
  const EvalResult b16 = evaluate_model(vae, {x.data(), n, model.input_dim}, options);
  EXPECT_NE(b16.log_likelihood, f32.log_likelihood) << "bfloat16 products were not used";
  EXPECT_LT(std::fabs(b16.log_likelihood - f32.log_likelihood), 0.05 * f32.log_likelihood_stderr);
  EXPECT_NEAR(b16.elbo.bound, f32.elbo.bound, 0.05 * f32.log_likelihood_stderr);
}

}  // namespace
}  // namespace aevb
