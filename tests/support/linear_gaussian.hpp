#pragma once
// The linear-Gaussian VAE whose log p(x) is known in closed form (no hidden
// layers, gaussian-fixed decoder without sigmoid):
//   p(z) = N(0, I),  p(x|z) = N(W z + b, c I)   =>   p(x) = N(b, W W^T + c I).
// W has orthogonal columns, so the true posterior is diagonal and the encoder
// can represent it exactly. Shared by the tests of the importance-sampled
// log p(x) and of the App. D estimator.
#include <aevb/vae.hpp>

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace aevb::test::linear_gaussian {

constexpr std::size_t kD = 6, kNz = 2, kRows = 200;
constexpr double kC = 0.5;  // the decoder's fixed variance
inline const double kLog2Pi = std::log(2 * M_PI);

// Orthonormal directions u_1, u_2 and scales s_j: W = [s_1 u_1, s_2 u_2].
constexpr std::array<std::array<double, kD>, kNz> kU{{{0.5, 0.5, 0, 0, 0.5, -0.5}, {0.5, -0.5, 0.5, 0.5, 0, 0}}};
constexpr std::array<double, kNz> kScale{1.5, 0.7};
constexpr std::array<double, kD> kBias{0.1, -0.2, 0.3, 0.0, 0.5, -0.1};

inline double w(std::size_t i, std::size_t j) { return kScale[j] * kU[j][i]; }
// The true posterior's variance per dimension: (1 + s_j^2 / c)^-1.
inline double posterior_var(std::size_t j) { return 1.0 / (1.0 + kScale[j] * kScale[j] / kC); }

using Weights = std::array<double, kD * kNz>;  // a decoder's W [kD, kNz], row-major as decoder.mean.weight
using Bias = std::array<double, kD>;

inline Weights true_weights() {
  Weights wt{};
  for (std::size_t i = 0; i < kD; ++i)
    for (std::size_t j = 0; j < kNz; ++j) wt[i * kNz + j] = w(i, j);
  return wt;
}

// log N(x; b, W W^T + c I), the marginal of any linear-Gaussian decoder with
// variance c, by a Cholesky factorization of the covariance.
inline double log_px(const float* x, const Weights& wt, const Bias& b) {
  std::array<std::array<double, kD>, kD> l{};
  for (std::size_t i = 0; i < kD; ++i)
    for (std::size_t k = 0; k <= i; ++k) {
      double cov = i == k ? kC : 0.0;
      for (std::size_t j = 0; j < kNz; ++j) cov += wt[i * kNz + j] * wt[k * kNz + j];
      for (std::size_t m = 0; m < k; ++m) cov -= l[i][m] * l[k][m];
      l[i][k] = i == k ? std::sqrt(cov) : cov / l[k][k];
    }
  std::array<double, kD> y{};  // L y = x - b
  double log_det = 0, quad = 0;
  for (std::size_t i = 0; i < kD; ++i) {
    double r = double(x[i]) - b[i];
    for (std::size_t m = 0; m < i; ++m) r -= l[i][m] * y[m];
    y[i] = r / l[i][i];
    quad += y[i] * y[i];
    log_det += 2 * std::log(l[i][i]);
  }
  return -0.5 * (double(kD) * kLog2Pi + log_det + quad);
}

// log p(x) under the true model.
inline double exact_log_px(const float* x) { return log_px(x, true_weights(), kBias); }

inline void set(Vae& vae, const std::string& name, const std::vector<double>& values) {
  for (const ParameterInfo& p : vae.parameter_table())
    if (p.name == name) {
      ASSERT_EQ(p.size(), values.size()) << name;
      for (std::size_t i = 0; i < values.size(); ++i) vae.parameters()[p.offset + i] = float(values[i]);
      return;
    }
  FAIL() << "no parameter " << name;
}

// The linear-Gaussian VAE whose encoder is the exact posterior mean, with
// the posterior variance multiplied by `q_var_factor` (1: q is the posterior).
inline Vae linear_gaussian_vae(double q_var_factor) {
  ModelConfig c;
  c.input_dim = kD;
  c.hidden = {};
  c.latent = kNz;
  c.likelihood = Likelihood::gaussian_fixed;
  c.sigmoid_mean = false;
  c.fixed_variance = float(kC);
  Vae vae(c, 1);
  // Posterior mean A (x - b) with A = Sigma W^T / c; log-variance a constant.
  std::vector<double> mu_w(kNz * kD), mu_b(kNz, 0), logvar_w(kNz * kD, 0), logvar_b(kNz), dec_w(kD * kNz);
  for (std::size_t j = 0; j < kNz; ++j) {
    for (std::size_t i = 0; i < kD; ++i) {
      mu_w[j * kD + i] = posterior_var(j) * w(i, j) / kC;
      mu_b[j] -= mu_w[j * kD + i] * kBias[i];
      dec_w[i * kNz + j] = w(i, j);
    }
    logvar_b[j] = std::log(q_var_factor * posterior_var(j));
  }
  set(vae, "encoder.mu.weight", mu_w);
  set(vae, "encoder.mu.bias", mu_b);
  set(vae, "encoder.logvar.weight", logvar_w);
  set(vae, "encoder.logvar.bias", logvar_b);
  set(vae, "decoder.mean.weight", dec_w);
  set(vae, "decoder.mean.bias", std::vector<double>(kBias.begin(), kBias.end()));
  return vae;
}

// kRows datapoints drawn from the model itself.
inline std::vector<float> data_from_the_model() {
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal;
  std::vector<float> x(kRows * kD);
  for (std::size_t r = 0; r < kRows; ++r) {
    const std::array<double, kNz> z{normal(gen), normal(gen)};
    for (std::size_t i = 0; i < kD; ++i)
      x[r * kD + i] = float(kBias[i] + w(i, 0) * z[0] + w(i, 1) * z[1] + std::sqrt(kC) * normal(gen));
  }
  return x;
}

struct Exact {
  std::vector<double> log_px;
  double mean = 0, stderr_ = 0;  // over datapoints, as evaluate_model reports them
};

inline Exact exact_log_likelihoods(const std::vector<float>& x) {
  Exact e;
  for (std::size_t r = 0; r < kRows; ++r) e.log_px.push_back(exact_log_px(x.data() + r * kD));
  for (double v : e.log_px) e.mean += v / double(kRows);
  double ss = 0;
  for (double v : e.log_px) ss += (v - e.mean) * (v - e.mean);
  e.stderr_ = std::sqrt(ss / double(kRows - 1) / double(kRows));
  return e;
}

}  // namespace aevb::test::linear_gaussian
