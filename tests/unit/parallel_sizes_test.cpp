// The pool-parallel kernels at the sizes where they split their work (issue
// 10): M = 100 datapoints, L = 1 and 5 samples, Nz = 20, D = 784, 500 hidden
// units, each checked against plain double-precision loops (written here, or
// the serial reference:: loops) on 1 thread and on 2. Below their thresholds
// the kernels run on the caller alone, so the small-size tests of
// fast_kernels_test never reach the split. Each kernel's threshold, and the
// size here above it:
//   reparameterization    M*L*Nz >= 1 << 10                 100 * 1 * 20 = 2000
//   likelihoods           M*L*D >= 1 << 15                  100 * 784 = 78400
//   activations           rows*cols >= 1 << 13 (tanh, sigmoid, softplus),
//                         1 << 14 (identity, relu, leaky)   100 * 500, 500 * 784
//                         (backward: 64-column blocks, 8 and 13 of them)
//   optimizers            4 blocks of 1 << 14               815824 parameters (784-500-20)
//   GEMM                  2e6 flops, tiles by the machine's processor count
//                         (not the thread count)            2 * 100 * 500 * 784 = 78e6
//
// Tolerances are first-order forward error bounds in units of float's unit
// roundoff u = 2^-24: a float operation rounds within u of its result, and
// each vector_math approximation is within 4 ulp (8 u of its result,
// FastMath.ApproximationsAreWithinStatedUlps). An error that a broken split
// makes (a row, a block or a chunk skipped or misplaced) is O(1) relative.
#include "backend/gemm.hpp"
#include "core/scalar_math.hpp"
#include "model/engine.hpp"
#include "nn/activation.hpp"
#include "optim/optimizer.hpp"
#include "prob/gaussian_posterior.hpp"
#include "prob/likelihood.hpp"
#include "support/kernel_inputs.hpp"

#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <string>
#include <vector>

namespace aevb {
namespace {

using test::normals;

constexpr double u = 0x1p-24;  // float's unit roundoff
constexpr std::size_t kM = 100, kNz = 20, kD = 784, kHidden = 500;

std::vector<double> widen(const std::vector<float>& v) { return {v.begin(), v.end()}; }

// Expects |got[i] - exact[i]| <= bound[i] for every i; names the first misses.
void expect_within(const std::vector<float>& got, const std::vector<double>& exact, const std::vector<double>& bound,
                   const std::string& what) {
  ASSERT_EQ(got.size(), exact.size()) << what;
  std::size_t misses = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double error = std::abs(double(got[i]) - exact[i]);
    if (!(error <= bound[i]) && misses++ < 3)
      ADD_FAILURE() << what << "[" << i << "]: " << got[i] << ", exact " << exact[i] << ", bound " << bound[i];
  }
  EXPECT_EQ(misses, 0u) << what << ": " << misses << " of " << got.size() << " outside the bound";
}

// Each test runs with the parameter's thread count: 1 (the serial path at
// these sizes) and 2 (the split).
class ParallelSizes : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { set_threads(GetParam()); }
  void TearDown() override { set_threads(0); }
};

INSTANTIATE_TEST_SUITE_P(Threads, ParallelSizes, ::testing::Values(1, 2),
                         [](const auto& threads) { return std::to_string(threads.param) + "thread"; });

// ---- Reparameterization (z = mu + exp(logvar / 2) eps, log q, log p, KL) and
// its backward, against double loops on the same float inputs.

TEST_P(ParallelSizes, PosteriorMatchesDoubleLoops) {
  for (const std::size_t samples : {std::size_t{1}, std::size_t{5}}) {
    const std::size_t n = kM * samples;
    const std::vector<float> head = normals(kM * 2 * kNz, 1, 1.5f), eps = normals(n * kNz, 2, 1.0f);
    std::vector<float> z(n * kNz), log_q(n), log_p(n), kl(kM);
    reparameterize<float>({head.data(), kM, 2 * kNz}, samples, eps.data(),
                          {z.data(), log_q.data(), log_p.data(), kl.data()});

    std::vector<double> z_x(n * kNz), z_b(n * kNz), q_x(n), q_b(n), p_x(n), p_b(n), kl_x(kM), kl_b(kM);
    for (std::size_t m = 0; m < kM; ++m) {
      const float* mu = head.data() + m * 2 * kNz;
      const float* logvar = mu + kNz;
      double sum = 0, size = 0;
      for (std::size_t j = 0; j < kNz; ++j) {
        const double t = -0.5 * (1.0 + logvar[j] - double(mu[j]) * mu[j] - std::exp(double(logvar[j])));
        sum += t;
        size += std::abs(t);
      }
      // Summed in double through libm: only the final rounding to float (2u: the double sum's error is far less).
      kl_x[m] = sum;
      kl_b[m] = 2 * u * size;
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        double q = 0, q_size = 0, p = 0, p_size = 0, p_from_z = 0;
        for (std::size_t j = 0; j < kNz; ++j) {
          const std::size_t i = r * kNz + j;
          const double sigma_e = std::exp(0.5 * logvar[j]) * eps[i];
          z_x[i] = mu[j] + sigma_e;
          // exp (8u of sigma), the product and the sum: within 8u of |mu| + |sigma eps|.
          z_b[i] = 8 * u * (std::abs(mu[j]) + std::abs(sigma_e));
          const double tq = -0.5 * (kLog2Pi + logvar[j] + double(eps[i]) * eps[i]);
          const double tp = -0.5 * (kLog2Pi + z_x[i] * z_x[i]);
          q += tq;
          q_size += std::abs(tq);
          p += tp;
          p_size += std::abs(tp);
          p_from_z += std::abs(z_x[i]) * z_b[i];  // d log p / dz = -z times z's error
        }
        q_x[r] = q;
        q_b[r] = 2 * u * q_size;
        p_x[r] = p;
        p_b[r] = 2 * u * p_size + 2 * p_from_z;  // 2: first order, and z's error squared besides
      }
    }
    const std::string at = " (L = " + std::to_string(samples) + ")";
    expect_within(z, z_x, z_b, "z" + at);
    expect_within(log_q, q_x, q_b, "log q" + at);
    expect_within(log_p, p_x, p_b, "log p" + at);
    expect_within(kl, kl_x, kl_b, "KL" + at);

    const std::vector<float> dz = normals(n * kNz, 3, 1.0f), pw = normals(n, 4, 1.0f), kw = normals(kM, 5, 1.0f);
    std::vector<float> dhead(kM * 2 * kNz);
    reparameterize_backward<float>({head.data(), kM, 2 * kNz}, samples, eps.data(), z.data(),
                                   {dz.data(), pw.data(), kw.data()}, {dhead.data(), kM, 2 * kNz});
    // Each gradient sums samples + 1 float terms (within (samples + 1) u of
    // their absolute sum), each term within 16u (expm1 and exp at 8u, three
    // roundings): (samples + 16) u times the absolute sum bounds both.
    const double k = double(samples + 16) * u;
    std::vector<double> dhead_x(kM * 2 * kNz), dhead_b(kM * 2 * kNz);
    for (std::size_t m = 0; m < kM; ++m) {
      const float* mu = head.data() + m * 2 * kNz;
      const float* logvar = mu + kNz;
      for (std::size_t j = 0; j < kNz; ++j) {
        double dmu = double(kw[m]) * mu[j], dmu_size = std::abs(dmu);
        double dlv = double(kw[m]) * 0.5 * std::expm1(double(logvar[j])), dlv_size = std::abs(dlv);
        for (std::size_t s = 0; s < samples; ++s) {
          const std::size_t r = m * samples + s, i = r * kNz + j;
          const double gz = double(dz[i]) - double(pw[r]) * z[i];  // the forward's float z, as the kernel reads it
          const double gz_size = std::abs(double(dz[i])) + std::abs(double(pw[r]) * z[i]);
          const double half_sigma_e = 0.5 * std::exp(0.5 * logvar[j]) * eps[i];
          dmu += gz;
          dmu_size += gz_size;
          dlv += gz * half_sigma_e + 0.5 * pw[r];
          dlv_size += gz_size * std::abs(half_sigma_e) + 0.5 * std::abs(pw[r]);
        }
        const std::size_t i = m * 2 * kNz + j;
        dhead_x[i] = dmu;
        dhead_b[i] = k * dmu_size;
        dhead_x[i + kNz] = dlv;
        dhead_b[i + kNz] = k * dlv_size;
      }
    }
    expect_within(dhead, dhead_x, dhead_b, "d(mu | logvar)" + at);
  }
}

// ---- Likelihoods: values and gradients against double loops. Per term the
// float path takes at most 4 roundings and 2 approximations, so it is within
// 4u + 16u = 20u (32u here) of the magnitudes it rounds: for a value, the
// term's parts (|x l| and softplus(l); |log var| and (x - m)^2 / var), for a
// gradient, its factors' product; the sigmoid mean's own error (8u m) enters
// through d/dm = 2 (x - m) / var (`from_m`). The double sum of the D terms
// adds far less than u.

struct Exact {
  double value = 0, value_bound = 0;
  std::vector<double> grad, grad_bound;  // [width]
};

Exact likelihood_row(const LikelihoodSpec& spec, const float* out, const float* x, double w) {
  constexpr double k = 32 * u;
  const std::size_t d = spec.dim;
  Exact e;
  e.grad.resize(spec.output_width());
  e.grad_bound.resize(spec.output_width());
  for (std::size_t i = 0; i < d; ++i) {
    if (spec.kind == Likelihood::bernoulli) {
      const double l = out[i], s = 1 / (1 + std::exp(-l));
      e.value += x[i] * l - softplus(l);
      e.value_bound += k * (std::abs(x[i] * l) + softplus(l));
      e.grad[i] = w * (x[i] - s);
      e.grad_bound[i] = k * std::abs(w) * (s + std::abs(x[i] - s));
      continue;
    }
    const bool learned = spec.kind == Likelihood::gaussian;
    const double pre = out[i], m = spec.sigmoid_mean ? 1 / (1 + std::exp(-pre)) : pre;
    const double logvar = learned ? double(out[d + i]) : std::log(spec.fixed_variance);
    const double inv_var = learned ? std::exp(-logvar) : 1 / spec.fixed_variance;
    const double diff = x[i] - m, sq = diff * diff * inv_var, from_m = 2 * std::abs(diff) * std::abs(m) * inv_var;
    e.value += -0.5 * (kLog2Pi + logvar + sq);
    e.value_bound += k * ((learned ? std::abs(logvar) : 0.0) + sq + from_m);
    const double slope = spec.sigmoid_mean ? m * (1 - m) : 1.0;
    e.grad[i] = w * diff * inv_var * slope;
    // m(1 - m) <= 1/4 and m <= 1 with the sigmoid, m exact without it.
    e.grad_bound[i] = k * std::abs(w) * inv_var * (std::abs(diff) + std::abs(m));
    if (learned) {
      e.grad[d + i] = w * 0.5 * (sq - 1);
      e.grad_bound[d + i] = k * std::abs(w) * (1 + sq + from_m);
    }
  }
  e.value_bound += u * std::abs(e.value);  // the rounding to float
  return e;
}

struct LikelihoodCase {
  Likelihood kind;
  bool sigmoid_mean;
};

TEST_P(ParallelSizes, LikelihoodsMatchDoubleLoops) {
  const LikelihoodCase cases[] = {{Likelihood::bernoulli, false}, {Likelihood::gaussian, true},
                                  {Likelihood::gaussian, false},  {Likelihood::gaussian_fixed, true},
                                  {Likelihood::gaussian_fixed, false}};
  std::vector<float> x(kM * kD);
  fill_uniform(x.data(), x.size(), 6, 0);  // grey data in [0, 1)
  for (const LikelihoodCase& c : cases) {
    for (const std::size_t samples : {std::size_t{1}, std::size_t{5}}) {
      const LikelihoodSpec spec{c.kind, c.sigmoid_mean, 0.3, kD};
      const std::size_t width = spec.output_width(), n = kM * samples;
      const std::vector<float> out = normals(n * width, 7, 4.0f), weight = normals(n, 8, 1.0f);
      std::vector<float> values(n), values_alone(n), dout(n * width);
      log_likelihood_grad<float>(spec, {out.data(), n, width}, {x.data(), kM, kD}, samples, weight.data(),
                                 values.data(), {dout.data(), n, width});
      log_likelihood<float>(spec, {out.data(), n, width}, {x.data(), kM, kD}, samples, values_alone.data());

      std::vector<double> v_x(n), v_b(n), d_x, d_b;
      for (std::size_t r = 0; r < n; ++r) {
        const Exact e = likelihood_row(spec, out.data() + r * width, x.data() + r / samples * kD, weight[r]);
        v_x[r] = e.value;
        v_b[r] = e.value_bound;
        d_x.insert(d_x.end(), e.grad.begin(), e.grad.end());
        d_b.insert(d_b.end(), e.grad_bound.begin(), e.grad_bound.end());
      }
      const std::string what = std::string(to_string(c.kind)) + (c.sigmoid_mean ? " sigmoid" : "") +
                               ", L = " + std::to_string(samples);
      expect_within(values, v_x, v_b, "log p(x|z) " + what);
      expect_within(values_alone, v_x, v_b, "log p(x|z) without gradient " + what);
      expect_within(dout, d_x, d_b, "d log p(x|z) " + what);
    }
  }
}

// ---- Activations, fused with the bias add and its gradient, against the
// serial reference:: loops in double (no pool).

TEST_P(ParallelSizes, ActivationsMatchReferenceLoops) {
  const float slope = 0.1f;
  // A hidden layer of M = 100, and the decoder's output width at M * L = 500.
  const std::size_t shapes[][2] = {{kM, kHidden}, {5 * kM, kD}};
  for (const auto& [rows, cols] : shapes) {
    const std::vector<float> pre = normals(rows * cols, 9, 3.0f), bias = normals(cols, 10, 1.0f);
    const std::vector<float> upstream = normals(rows * cols, 11, 1.0f);
    for (const Act act : {Act::identity, Act::tanh, Act::relu, Act::leaky_relu, Act::softplus, Act::sigmoid}) {
      const std::string what = std::to_string(rows) + "x" + std::to_string(cols) + " act " +
                               std::to_string(static_cast<int>(act));
      std::vector<float> y = pre;
      bias_activation_forward<float>({y.data(), rows, cols}, bias.data(), act, slope);
      std::vector<double> y_x = widen(pre), y_b(rows * cols);
      const std::vector<double> bias_d = widen(bias);
      reference::bias_activation_forward<double>({y_x.data(), rows, cols}, bias_d.data(), act, slope);
      // The bias add rounds within u of v = pre + bias; every activation has
      // |f'| <= 1 and is within 8u of its value: u |v| + 8u |y|.
      for (std::size_t i = 0; i < y_b.size(); ++i)
        y_b[i] = 8 * u * (std::abs(double(pre[i]) + bias[i % cols]) + std::abs(y_x[i]));
      expect_within(y, y_x, y_b, "forward " + what);

      // Backward from the float forward's y, so that only the backward's error is measured.
      std::vector<float> dy = upstream, db(cols, 0.5f);
      activation_backward<float>({dy.data(), rows, cols}, {y.data(), rows, cols}, act, slope, db.data());
      std::vector<double> dy_x = widen(upstream), db_x(cols, 0.5), y_d = widen(y);
      reference::activation_backward<double>({dy_x.data(), rows, cols}, {y_d.data(), rows, cols}, act, slope,
                                             db_x.data());
      // f'(y) is in [0, 1] and within 8u of its value (expm1 at 8u, tanh's 1 - y^2 within 2u), and the
      // product rounds: 16u |upstream|. db sums `rows` float terms in row order onto 0.5: (rows + 16) u
      // of the absolute sum.
      std::vector<double> dy_b(rows * cols), db_b(cols, 0.5);
      for (std::size_t i = 0; i < dy_b.size(); ++i) {
        dy_b[i] = 16 * u * std::abs(upstream[i]);
        db_b[i % cols] += std::abs(upstream[i]);
      }
      for (double& b : db_b) b *= double(rows + 16) * u;
      expect_within(dy, dy_x, dy_b, "backward " + what);
      expect_within(db, db_x, db_b, "bias gradient " + what);
    }
  }
}

// ---- GEMM, tiled, for the products of a 784-500 layer at M = 100: each
// entry of C sums k products, within k u of sum |a||b| (beta C adds one more).

TEST_P(ParallelSizes, GemmMatchesDoubleLoops) {
  using backend::Trans;
  struct Case {
    Trans ta, tb;
    std::size_t m, n, k;
    const char* what;
  };
  const Case cases[] = {{Trans::no, Trans::yes, kM, kHidden, kD, "forward x W^T"},
                        {Trans::no, Trans::no, kM, kD, kHidden, "backward dy W"},
                        {Trans::yes, Trans::no, kHidden, kD, kM, "weight gradient dy^T x"}};
  for (const Case& c : cases) {
    const std::vector<float> a = normals(c.m * c.k, 12, 1.0f), b = normals(c.k * c.n, 13, 1.0f);
    const std::vector<float> c0 = normals(c.m * c.n, 14, 1.0f);
    const std::size_t lda = c.ta == Trans::no ? c.k : c.m, ldb = c.tb == Trans::no ? c.n : c.k;
    std::vector<float> got = c0;
    backend::gemm<float>(c.ta, c.tb, c.m, c.n, c.k, 1.0f, a.data(), lda, b.data(), ldb, 0.5f, got.data(), c.n);
    std::vector<double> exact(c.m * c.n), bound(c.m * c.n);
    for (std::size_t i = 0; i < c.m; ++i) {
      for (std::size_t j = 0; j < c.n; ++j) {
        double sum = 0.5 * c0[i * c.n + j], size = std::abs(sum);
        for (std::size_t p = 0; p < c.k; ++p) {
          const double ab = double(c.ta == Trans::no ? a[i * lda + p] : a[p * lda + i]) *
                            double(c.tb == Trans::no ? b[p * ldb + j] : b[j * ldb + p]);
          sum += ab;
          size += std::abs(ab);
        }
        exact[i * c.n + j] = sum;
        bound[i * c.n + j] = double(c.k + 2) * u * size;
      }
    }
    expect_within(got, exact, bound, c.what);
  }
}

// ---- Optimizers over a 784-500-20 model's parameter buffer, with weight
// decay and clipping, against PyTorch's rules written again in double.

struct DoubleOptimizer {
  OptimizerConfig c;
  std::vector<double> m, v;

  // One step; returns max |p| + max |update|, the step's error scale.
  double apply(std::vector<double>& p, const std::vector<float>& g, std::uint64_t step) {
    double norm = 0;
    for (const float x : g) norm += double(x) * x;
    const double clip = c.clip_norm > 0 ? std::min(1.0, c.clip_norm / (std::sqrt(norm) + 1e-6)) : 1.0;
    const double lr = c.lr, decay = c.weight_decay, mu = c.momentum, b1 = c.beta1, b2 = c.beta2;
    const double t = double(step);
    m.resize(p.size());
    v.resize(p.size());
    double largest_p = 0, largest_update = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const double gi = g[i] * clip + decay * p[i];
      double update = 0;
      switch (c.kind) {
        case OptimizerKind::sgd:
          m[i] = step == 1 ? gi : mu * m[i] + gi;
          update = lr * m[i];
          break;
        case OptimizerKind::adagrad:
          m[i] += gi * gi;
          update = lr * gi / (std::sqrt(m[i]) + 1e-10);
          break;
        case OptimizerKind::adam:
          m[i] = b1 * m[i] + (1 - b1) * gi;
          v[i] = b2 * v[i] + (1 - b2) * gi * gi;
          update = lr / (1 - std::pow(b1, t)) * m[i] / (std::sqrt(v[i] / (1 - std::pow(b2, t))) + double(c.eps));
          break;
      }
      p[i] -= update;
      largest_p = std::max(largest_p, std::abs(p[i]));
      largest_update = std::max(largest_update, std::abs(update));
    }
    return largest_p + largest_update;
  }
};

TEST_P(ParallelSizes, OptimizersMatchDoubleLoops) {
  const std::size_t n = Engine<float>(ModelConfig{}).param_count();  // 784-500-20
  ASSERT_GE(n, 4u << 14);  // the optimizer splits from 4 blocks of 1 << 14 on
  for (const OptimizerKind kind : {OptimizerKind::sgd, OptimizerKind::adagrad, OptimizerKind::adam}) {
    OptimizerConfig c;
    c.kind = kind;
    c.lr = 0.01f;
    c.momentum = 0.9f;
    c.weight_decay = 1e-3f;
    c.clip_norm = 100.0f;  // the gradient's norm is about 900: clipped
    std::vector<float> p = normals(n, 15, 0.1f);
    std::vector<double> p_x = widen(p);
    Optimizer<float> opt(c, n);
    DoubleOptimizer ref{c, {}, {}};
    // Each step rounds every parameter within u of |p| and its update within
    // about 10 roundings (and the clip factor's one) of the step's largest
    // update size, and errors carry over from step to step: 16u per step
    // times the largest |p| plus the largest update.
    double bound = 0;
    for (std::uint64_t step = 1; step <= 3; ++step) {
      const std::vector<float> g = normals(n, 15 + step, 1.0f);
      opt.apply(p.data(), g.data(), step);
      bound += 16 * u * ref.apply(p_x, g, step);
    }
    expect_within(p, p_x, std::vector<double>(n, bound), "parameters after " + std::string(to_string(kind)));
  }
}

// ---- The whole step: Engine<float>::forward_backward on 784-500-20 at M = 100
// against Engine<double> on the same parameters, data and noise, on one thread.
//
// Tolerance, on the gradient's norm: a chain of float sums of lengths k_1,
// k_2, ... is within (sum k) u of the same computation in absolute values
// (first order), and the vector_math approximations (8u each, a few along a
// path) add little to that. The longest chain through a gradient here:
// forward 784 (x W1) + 500 (head) + 20 (decoder input) + 500 (logits),
// backward 784 (dlogits W) + 500 (to z) + 40 (to the encoder's hidden layer)
// + M * L (the weight gradients' sums over rows). The absolute-value
// computation's norm is taken as the gradient's own: both are sums of terms
// of the sizes the tanh layers pass on.
TEST_P(ParallelSizes, EngineFloatMatchesDouble) {
  const ModelConfig model;  // 784-500-20, tanh, Bernoulli
  ASSERT_EQ(model.input_dim, kD);
  Engine<float> engine(model);
  engine.initialize(17);
  Engine<double> exact(model);
  std::copy_n(engine.params(), engine.param_count(), exact.params());
  std::vector<float> x(kM * kD);
  fill_uniform(x.data(), x.size(), 18, 0);
  const std::vector<double> x_d = widen(x);
  for (const ObjectiveConfig objective :
       {ObjectiveConfig{Estimator::B, 1, 1.0f}, ObjectiveConfig{Estimator::A, 5, 1.0f}}) {
    const std::vector<float> eps = normals(kM * objective.samples * kNz, 19, 1.0f);
    const std::vector<double> eps_d = widen(eps);
    const Bound got = engine.forward_backward({x.data(), kM, kD}, eps.data(), objective, GradMode::overwrite);
    // The double engine runs the same pool code: on one thread, where it does not split.
    set_threads(1);
    const Bound want = exact.forward_backward({x_d.data(), kM, kD}, eps_d.data(), objective, GradMode::overwrite);
    set_threads(GetParam());
    const double chain = double(kD + kHidden + kNz + kHidden + kD + kHidden + 2 * kNz + kM * objective.samples);
    double err = 0, norm = 0;
    for (std::size_t i = 0; i < engine.param_count(); ++i) {
      err += std::pow(double(engine.grads()[i]) - exact.grads()[i], 2);
      norm += std::pow(exact.grads()[i], 2);
    }
    const std::string what = std::string(to_string(objective.estimator)) + ", L = " + std::to_string(objective.samples);
    EXPECT_LE(std::sqrt(err / norm), chain * u) << "gradient, " << what;
    // The bound's forward chain alone: 784 + 500 + 20 + 500, then the D-term likelihood sums.
    EXPECT_NEAR(got.bound, want.bound, double(kD + kHidden + kNz + kHidden + kD) * u * std::abs(want.bound)) << what;
    std::printf("[parallel] %s, %d thread(s): gradient relative error %.2e (bound %.2e)\n", what.c_str(), GetParam(),
                std::sqrt(err / norm), chain * u);
  }
}

}  // namespace
}  // namespace aevb
