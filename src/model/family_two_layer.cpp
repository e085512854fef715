// Two stochastic layers (Burda, Grosse & Salakhutdinov 2015, sec. 5): the
// inference model q(z1|x) q(z2|z1) and the generative model p(z2) p(z1|z2)
// p(x|z1), every conditional a diagonal Gaussian (exp variance) from an MLP,
// p(z2) = N(0, I). The engine's encoder ends in q(z1|x)'s head and its
// decoder reads z1, as for the one-layer VAE; this latent space owns the two
// networks between the layers, q(z2|z1) ("latent.encoder.*") and p(z1|z2)
// ("latent.decoder.*", through top_hidden mirrored), and hands the objective
//   log q = log q(z1|x) + log q(z2|z1),   log p = log p(z1|z2) + log p(z2),
// both reparameterized (z1 = mu1 + sigma1 eps1, z2 = mu2(z1) + sigma2(z1) eps2).
// The KL has no closed form here: the family reports the Monte Carlo
// estimate mean_s (log q - log p) on the same draws, so estimator B equals A.
// Its marginal p(z1) = int p(z1|z2) p(z2) dz2 has no closed form either:
// HMC (App. D, Monte Carlo EM, inpainting) and wake-sleep's log q(z1|x)
// alone are refused with a message.
#include "model/families.hpp"

#include "core/param_layout.hpp"
#include "nn/dense.hpp"
#include "nn/network.hpp"
#include "prob/gaussian_posterior.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace aevb {
namespace {

/// An MLP from `in` features through `widths` (act) to a Gaussian's twin
/// head "<prefix>.mu" | "<prefix>.logvar" of `out` values each.
template <class T>
void add_gaussian_mlp(Network<T>& net, ParamLayout& layout, const std::string& prefix, std::size_t in,
                      const std::vector<std::size_t>& widths, std::size_t out, Act act, float slope) {
  Shape shape{in, 0, 0};
  for (std::size_t i = 0; i < widths.size(); ++i) {
    net.add(std::make_unique<DenseLayer<T>>(layout, prefix + "." + std::to_string(i), shape, widths[i], act, slope));
    shape = Shape{widths[i], 0, 0};
  }
  net.add(DenseLayer<T>::twin(layout, prefix + ".mu", prefix + ".logvar", shape, out));
}

template <class T>
class TwoLayerLatent final : public LatentSpace<T> {
 public:
  explicit TwoLayerLatent(const ModelConfig& c)
      : n1_(c.latent), n2_(c.top_latent), hidden_(c.top_hidden), act_(to_act(c.activation)), slope_(c.leaky_slope) {}

  std::size_t dim() const override { return n1_; }
  std::size_t noise_dim() const override { return n1_ + n2_; }      // eps1 | eps2 per sample
  std::size_t prior_noise_dim() const override { return n2_ + n1_; }  // z2 | eps of p(z1|z2) per draw
  std::vector<std::size_t> layer_dims() const override { return {n1_, n2_}; }

  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    auto head = DenseLayer<T>::twin(layout, "encoder.mu", "encoder.logvar", in, n1_);
    add_gaussian_mlp(up_, layout, "latent.encoder", n1_, hidden_, n2_, act_, slope_);
    const std::vector<std::size_t> mirrored(hidden_.rbegin(), hidden_.rend());
    add_gaussian_mlp(down_, layout, "latent.decoder", n2_, mirrored, n1_, act_, slope_);
    return head;
  }

  void plan(std::size_t draws) override {
    if (draws <= planned_) return;
    planned_ = draws;
    up_.plan(draws);
    down_.plan(draws);
    for (auto* v : {&eps1_, &dz1_, &dz1_up_}) v->assign(draws * n1_, T(0));
    for (auto* v : {&eps2_, &z2_, &dz2_}) v->assign(draws * n2_, T(0));
    for (auto* v : {&log_q2_, &log_p2_, &kl2_, &log_p1_, &weight_}) v->assign(draws, T(0));
  }

  void sample(const T* params, MatrixView<const T> head, std::size_t samples, const T* eps,
              const PosteriorSample<T>& out) override {
    const std::size_t n = head.rows * samples;
    split_noise(eps, n);
    // z1 ~ q(z1|x) with log q(z1|x); log p and the KL of a one-layer model are overwritten below.
    reparameterize<T>(head, samples, eps1_.data(), out);
    // z2 ~ q(z2|z1), and p(z1|z2) at the drawn pair.
    const MatrixView<const T> z1{out.z, n, n1_};
    reparameterize<T>(up_.forward(params, z1), 1, eps2_.data(), {z2_.data(), log_q2_.data(), log_p2_.data(),
                                                                   kl2_.data()});
    gaussian_log_density<T>(down_.forward(params, z2(n)), 1, out.z, log_p1_.data(), nullptr, MatrixView<T>{});
    for (std::size_t m = 0; m < head.rows; ++m) {
      double kl = 0;  // the Monte Carlo KL: mean_s log q - log p
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        out.log_q[r] += log_q2_[r];
        out.log_prior[r] = log_p1_[r] + log_p2_[r];
        kl += double(out.log_q[r]) - double(out.log_prior[r]);
      }
      out.kl[m] = static_cast<T>(kl / double(samples));
    }
  }

  void backward(const T* params, T* grads, GradMode mode, MatrixView<const T> head, std::size_t samples, const T*,
                const T* z, const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    const std::size_t n = head.rows * samples;
    const MatrixView<const T> z1{z, n, n1_};
    // w_r = dL/d(log p - log q) of sample r; the Monte Carlo KL adds -dL/dKL / S.
    for (std::size_t m = 0; m < head.rows; ++m)
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = m * samples + s;
        weight_[r] = (grad.prior_weight ? grad.prior_weight[r] : T(0)) -
                     (grad.kl_weight ? grad.kl_weight[m] / T(samples) : T(0));
      }
    // log p(z1|z2): its gradient in p's head (mu, logvar), and in z1, which is -d/dmu.
    const MatrixView<T> ddown = down_.output_grad();
    gaussian_log_density<T>(down_.result(), 1, z, nullptr, weight_.data(), ddown);
    for (std::size_t r = 0; r < n; ++r)
      for (std::size_t j = 0; j < n1_; ++j) dz1_[r * n1_ + j] = grad.dz[r * n1_ + j] - ddown.row(r)[j];
    down_.backward(params, grads, z2(n), {dz2_.data(), n, n2_}, mode);
    // z2 = mu2 + sigma2 eps2 with log p(z2) = log N(0, I) and log q(z2|z1), both weighted by w.
    reparameterize_backward<T>(up_.result(), 1, eps2_.data(), z2_.data(), {dz2_.data(), weight_.data(), nullptr},
                               up_.output_grad());
    up_.backward(params, grads, z1, {dz1_up_.data(), n, n1_}, mode);
    for (std::size_t i = 0; i < n * n1_; ++i) dz1_[i] += dz1_up_[i];
    // z1 = mu1 + sigma1 eps1; log q(z1|x) = sum_j -1/2 (log 2pi + logvar1_j + eps1_j^2) adds w / 2 per logvar1_j.
    reparameterize_backward<T>(head, samples, eps1_.data(), z, {dz1_.data(), nullptr, nullptr}, dhead);
    for (std::size_t m = 0; m < head.rows; ++m) {
      T w = 0;
      for (std::size_t s = 0; s < samples; ++s) w += weight_[m * samples + s];
      T* dlogvar = dhead.row(m) + n1_;
      for (std::size_t j = 0; j < n1_; ++j) dlogvar[j] += T(0.5) * w;
    }
  }

  void log_density(MatrixView<const T>, std::size_t, const T*, T*, const T*, MatrixView<T>) const override {
    throw InputError(
        "the vae-2layer family's q(z1, z2|x) needs z2 beside z1: wake-sleep's log q of given z is not available "
        "for it");
  }

  void summarize(const T*, MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) const override {
    split_gaussian_head(head, mean, log_variance);
  }

  void sample_prior(const T* params, MatrixView<const T> noise, MatrixView<T> z) override {
    // z2 ~ N(0, I), then z1 = mu(z2) + sigma(z2) e ~ p(z1|z2).
    const std::size_t n = noise.rows;
    for (std::size_t r = 0; r < n; ++r) std::copy_n(noise.row(r), n2_, z2_.data() + r * n2_);
    const MatrixView<T> down = down_.forward(params, z2(n));
    for (std::size_t r = 0; r < n; ++r) {
      const T* mu = down.row(r);
      const T* e = noise.row(r) + n2_;
      for (std::size_t j = 0; j < n1_; ++j) z.row(r)[j] = mu[j] + std::exp(T(0.5) * mu[n1_ + j]) * e[j];
    }
  }

  void add_log_prior(const T*, MatrixView<const T>, T*, MatrixView<T>) const override {
    throw InputError(
        "log p(x, z): the vae-2layer family's prior p(z1) = int p(z1|z2) p(z2) dz2 has no closed form, so HMC "
        "(aevb eval --hmc, inpainting, Monte Carlo EM) cannot target it; use importance sampling (aevb eval --iw)");
  }

  void layer_means(const T* params, MatrixView<const T> head, MatrixView<T> means) override {
    // E[z1|x] = mu1(x); for z2 the mean path E[z2 | z1 = mu1(x)] = mu2(mu1(x)).
    const std::size_t n = head.rows;
    for (std::size_t r = 0; r < n; ++r) {
      std::copy_n(head.row(r), n1_, means.row(r));
      std::copy_n(head.row(r), n1_, dz1_.data() + r * n1_);  // scratch: mu1 as contiguous rows
    }
    const MatrixView<T> up = up_.forward(params, MatrixView<const T>{dz1_.data(), n, n1_});
    for (std::size_t r = 0; r < n; ++r) std::copy_n(up.row(r), n2_, means.row(r) + n1_);
  }

 private:
  MatrixView<const T> z2(std::size_t n) const { return {z2_.data(), n, n2_}; }
  /// eps rows [eps1 | eps2] into the two contiguous blocks the layers read.
  void split_noise(const T* eps, std::size_t n) {
    for (std::size_t r = 0; r < n; ++r) {
      std::copy_n(eps + r * (n1_ + n2_), n1_, eps1_.data() + r * n1_);
      std::copy_n(eps + r * (n1_ + n2_) + n1_, n2_, eps2_.data() + r * n2_);
    }
  }

  std::size_t n1_, n2_;
  std::vector<std::size_t> hidden_;
  Act act_;
  float slope_;
  Network<T> up_, down_;  // q(z2|z1) and p(z1|z2)
  std::size_t planned_ = 0;
  std::vector<T> eps1_, eps2_, z2_, dz1_, dz1_up_, dz2_;
  std::vector<T> log_q2_, log_p2_, kl2_, log_p1_, weight_;
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_two_layer_latent(const ModelConfig& config) {
  if (config.decoder_only)
    throw InputError("model: the vae-2layer family's prior p(z1) has no closed form, so Monte Carlo EM's HMC "
                     "cannot sample its posterior (decoder_only)");
  if (config.weight_posterior)
    throw InputError("model: full VB's weight posterior covers the decoder network; the vae-2layer family's p(z1|z2) "
                     "would stay a point estimate (weight_posterior)");
  return std::make_unique<TwoLayerLatent<T>>(config);
}

template std::unique_ptr<LatentSpace<float>> make_two_layer_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_two_layer_latent<double>(const ModelConfig&);

}  // namespace aevb
