// VaDE (Jiang et al. 2017; ../shared/reference/model-families.md sec. 1.2):
// a VAE whose prior is a Gaussian mixture with learned weights, means and
// variances,
//   p(c) = softmax(a)_c,  p(z|c) = N(m_c, diag(lambda_c)),  p(x|z) the decoder,
// and the Gaussian encoder q(z|x). The cluster posterior is the model's own
// gamma_c = p(c|z) at the reparameterized z (no classifier), and the KL of
// the bound per datapoint is VaDE's, its Gaussian parts analytic in z:
//   KL = sum_c gamma_c (A_c - log pi_c + log gamma_c) - 1/2 sum_d (log 2pi + 1 + log sigma_d^2),
//   A_c = 1/2 sum_d (log 2pi + log lambda_cd + (sigma_d^2 + (mu_d - m_cd)^2) / lambda_cd),
// differentiated through gamma as the authors' code does. With gamma the
// exact posterior at every z it would be the sampled KL log q(z|x) -
// log p(z); the analytic parts lower its variance. The prior p(z) is the
// whole mixture, so estimators A and iw (which bound log p(x) through it)
// train every parameter here, and HMC and sampling work as for the VAE.
//
// Parameters: latent.mixture_logits [K] (a, softmax: always a distribution,
// unlike VaDE's raw pi), latent.means [K, d], latent.logvars [K, d]
// (log lambda: always positive). train/mixture_start.hpp sets them from a
// Gaussian mixture fit to a pretrained autoencoder's codes, as VaDE starts.
#include "model/families.hpp"

#include "core/param_layout.hpp"
#include "core/scalar_math.hpp"
#include "nn/dense.hpp"
#include "prob/gaussian_posterior.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace aevb {
namespace {

template <class T>
class MixtureLatent final : public LatentSpace<T> {
 public:
  explicit MixtureLatent(const ModelConfig& c)
      : d_(c.latent),
        k_(c.clusters),
        row_terms_(k_),
        dlogits_(k_),
        dm_(k_ * d_),
        dlv_(k_ * d_),
        row_log_pi_(k_),
        row_gamma_(k_) {}

  std::size_t dim() const override { return d_; }
  std::size_t noise_dim() const override { return d_; }
  std::size_t prior_noise_dim() const override { return 1 + d_; }  // c's draw, then z's noise
  std::size_t categories() const override { return k_; }

  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    auto head = DenseLayer<T>::twin(layout, "encoder.mu", "encoder.logvar", in, d_);
    logits_ = layout.add("latent.mixture_logits", {k_});
    means_ = layout.add("latent.means", {k_, d_});
    logvars_ = layout.add("latent.logvars", {k_, d_});
    return head;
  }

  // Equal weights and unit variances; the means keep the init's random draw,
  // which makes the components differ (train/mixture_start.hpp replaces all three).
  void initialize(T* params) override {
    std::fill_n(params + logits_, k_, T(0));
    std::fill_n(params + logvars_, k_ * d_, T(0));
  }

  void plan(std::size_t draws) override {
    if (draws <= planned_) return;
    planned_ = draws;
    gamma_.assign(draws * k_, 0.0);
    dz_.assign(draws * d_, T(0));
    dhead_.assign(draws * 2 * d_, 0.0);
  }

  void sample(const T* params, MatrixView<const T> head, std::size_t samples, const T* eps,
              const PosteriorSample<T>& out) override {
    reparameterize<T>(head, samples, eps, out);  // z and log q(z|x); log p(z) and the KL follow
    log_weights(params, row_log_pi_.data());
    for (std::size_t row = 0; row < head.rows; ++row) {
      const T* mu = head.row(row);
      const T* logvar = mu + d_;
      double kl = 0;
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = row * samples + s;
        out.log_prior[r] = static_cast<T>(posterior(params, out.z + r * d_, gamma_.data() + r * k_));
        kl += mixture_kl(params, mu, logvar, gamma_.data() + r * k_);
      }
      out.kl[row] = static_cast<T>(kl / double(samples));
    }
  }

  void backward(const T* params, T* grads, GradMode mode, MatrixView<const T> head, std::size_t samples,
                const T* eps, const T* z, const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    const T* m = params + means_;
    const T* lv = params + logvars_;
    const double* log_pi = row_log_pi_.data();
    std::vector<double>& g = row_terms_;
    std::vector<double>&dlogits = dlogits_, &dm = dm_, &dlv = dlv_;
    for (auto* v : {&dlogits, &dm, &dlv}) std::fill(v->begin(), v->end(), 0.0);
    for (std::size_t row = 0; row < head.rows; ++row) {
      const T* mu = head.row(row);
      const T* logvar = mu + d_;
      double* dmu = dhead_.data() + row * 2 * d_;  // the analytic terms' dL/d(mu | logvar)
      double* dlogvar = dmu + d_;
      std::fill_n(dmu, 2 * d_, 0.0);
      const double kw = grad.kl_weight ? double(grad.kl_weight[row]) / double(samples) : 0.0;
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = row * samples + s;
        // w: dL/d(log p(z) - log q(z|x)); kw: dL/d(this draw's KL).
        const double w = grad.prior_weight ? double(grad.prior_weight[r]) : 0.0;
        const double* gamma = gamma_.data() + r * k_;
        const T* zr = z + r * d_;
        // dKL/d l_c through gamma = softmax(l), l_c = log pi_c + log N(z; m_c, lambda_c):
        // gamma_c (g_c - sum_k gamma_k g_k), g_c = A_c - log pi_c + log gamma_c. log p(z) = LSE(l) adds w gamma_c.
        double mean_g = 0;
        for (std::size_t c = 0; c < k_; ++c) {
          // A gamma that underflowed to 0 weighs its g by 0: leave g finite.
          g[c] = gamma[c] > 0 ? expected_neg_log_component(m, lv, c, mu, logvar) - log_pi[c] + std::log(gamma[c]) : 0;
          mean_g += gamma[c] * g[c];
        }
        T* dzr = dz_.data() + r * d_;
        for (std::size_t j = 0; j < d_; ++j) dzr[j] = grad.dz[r * d_ + j];
        for (std::size_t c = 0; c < k_; ++c) {
          const double e = w * gamma[c] + kw * gamma[c] * (g[c] - mean_g);  // dL/d l_c
          const double direct = kw * gamma[c];                               // dL/dA_c; -dL/d log pi_c directly
          dlogits[c] += e - direct;  // d log pi_c / d a is taken below (softmax)
          for (std::size_t j = 0; j < d_; ++j) {
            const std::size_t cj = c * d_ + j;
            const double inv = std::exp(-double(lv[cj]));
            const double dz = double(zr[j]) - double(m[cj]), dq = double(mu[j]) - double(m[cj]);
            const double var = std::exp(double(logvar[j]));
            // l_c: d/dz = -dz/lambda, d/dm = dz/lambda, d/dlog lambda = (dz^2/lambda - 1)/2.
            // A_c: d/dmu = dq/lambda, d/dlogvar = sigma^2/(2 lambda), d/dm = -dq/lambda,
            //      d/dlog lambda = (1 - (sigma^2 + dq^2)/lambda)/2.
            dzr[j] = static_cast<T>(double(dzr[j]) - e * dz * inv);
            dm[cj] += e * dz * inv - direct * dq * inv;
            dlv[cj] += 0.5 * e * (dz * dz * inv - 1) + 0.5 * direct * (1 - (var + dq * dq) * inv);
            dmu[j] += direct * dq * inv;
            dlogvar[j] += 0.5 * direct * var * inv;
          }
        }
        // With eps fixed, log q(z|x) depends on logvar alone (d/dlogvar_j = -1/2), weight -w;
        // the KL's -1/2 sum_d log sigma_d^2 adds -kw/2.
        for (std::size_t j = 0; j < d_; ++j) dlogvar[j] += 0.5 * w - 0.5 * kw;
      }
    }
    // z = mu + sigma eps carries dL/dz to the head, then the analytic terms join.
    reparameterize_backward<T>(head, samples, eps, z, {dz_.data(), nullptr, nullptr}, dhead);
    for (std::size_t row = 0; row < head.rows; ++row)
      for (std::size_t j = 0; j < 2 * d_; ++j)
        dhead.row(row)[j] = static_cast<T>(double(dhead.row(row)[j]) + dhead_[row * 2 * d_ + j]);
    if (mode == GradMode::none) return;
    // log pi = a - LSE(a): dL/da_k = t_k - pi_k sum_c t_c.
    double total = 0;
    for (double t : dlogits) total += t;
    const auto put = [&](std::size_t offset, std::size_t i, double value) {
      T& slot = grads[offset + i];
      slot = static_cast<T>(mode == GradMode::overwrite ? value : double(slot) + value);
    };
    for (std::size_t c = 0; c < k_; ++c) put(logits_, c, dlogits[c] - std::exp(log_pi[c]) * total);
    for (std::size_t i = 0; i < k_ * d_; ++i) put(means_, i, dm[i]), put(logvars_, i, dlv[i]);
  }

  void log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                   MatrixView<T> dhead) const override {
    gaussian_log_density<T>(head, samples, z, log_q, weight, dhead);
  }

  void summarize(const T*, MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) const override {
    split_gaussian_head(head, mean, log_variance);
  }

  void sample_prior(const T* params, MatrixView<const T> noise, MatrixView<T> z) override {
    // c ~ pi from the first noise value through the normal CDF, then z = m_c + sqrt(lambda_c) e.
    log_weights(params, row_log_pi_.data());
    for (std::size_t r = 0; r < noise.rows; ++r) {
      const double u = 0.5 * std::erfc(-double(noise.row(r)[0]) / std::numbers::sqrt2);
      std::size_t c = 0;
      for (double cumulative = std::exp(row_log_pi_[0]); c + 1 < k_ && u >= cumulative;)
        cumulative += std::exp(row_log_pi_[++c]);
      draw_component(params, c, noise.row(r) + 1, z.row(r));
    }
  }

  void sample_category(const T* params, std::size_t c, MatrixView<const T> noise, MatrixView<T> z) override {
    for (std::size_t r = 0; r < noise.rows; ++r) draw_component(params, c, noise.row(r), z.row(r));
  }

  void add_log_prior(const T* params, MatrixView<const T> z, T* log_prior, MatrixView<T> dz) const override {
    const T* m = params + means_;
    const T* lv = params + logvars_;
    std::vector<double>& gamma = row_gamma_;
    log_weights(params, row_log_pi_.data());
    for (std::size_t r = 0; r < z.rows; ++r) {
      const double lse = posterior(params, z.row(r), gamma.data());
      log_prior[r] = static_cast<T>(double(log_prior[r]) + lse);
      if (!dz.data) continue;
      for (std::size_t c = 0; c < k_; ++c)  // d log p(z)/dz = sum_c gamma_c (m_c - z) / lambda_c
        for (std::size_t j = 0; j < d_; ++j)
          dz.row(r)[j] = static_cast<T>(double(dz.row(r)[j]) + gamma[c] * (double(m[c * d_ + j]) - double(z.row(r)[j])) *
                                                                      std::exp(-double(lv[c * d_ + j])));
    }
  }

  void layer_means(const T*, MatrixView<const T> head, MatrixView<T> means) override {
    split_gaussian_head(head, means, MatrixView<T>{});
  }

  void category_probabilities(const T* params, MatrixView<const T> head, MatrixView<T> probabilities) override {
    // p(c|z) at z = E[z|x]: VaDE's assignment without the sampling noise.
    std::vector<double>& gamma = row_gamma_;
    log_weights(params, row_log_pi_.data());
    for (std::size_t r = 0; r < head.rows; ++r) {
      posterior(params, head.row(r), gamma.data());
      for (std::size_t c = 0; c < k_; ++c) probabilities.row(r)[c] = static_cast<T>(gamma[c]);
    }
  }

 private:
  // log pi = log softmax(a).
  void log_weights(const T* params, double* log_pi) const {
    for (std::size_t c = 0; c < k_; ++c) log_pi[c] = double(params[logits_ + c]);
    log_softmax(log_pi, k_, log_pi);
  }
  // gamma = p(c|z) and the return value log p(z) = LSE_c (log pi_c + log N(z; m_c, lambda_c)),
  // at the log pi of the last log_weights().
  double posterior(const T* params, const T* z, double* gamma) const {
    const double* log_pi = row_log_pi_.data();
    const T* m = params + means_;
    const T* lv = params + logvars_;
    for (std::size_t c = 0; c < k_; ++c) {
      double l = log_pi[c];
      for (std::size_t j = 0; j < d_; ++j) {
        const double diff = double(z[j]) - double(m[c * d_ + j]);
        l -= 0.5 * (kLog2Pi + double(lv[c * d_ + j]) + diff * diff * std::exp(-double(lv[c * d_ + j])));
      }
      gamma[c] = l;
    }
    const double lse = log_sum_exp(gamma, k_);
    for (std::size_t c = 0; c < k_; ++c) gamma[c] = std::exp(gamma[c] - lse);
    return lse;
  }
  // A_c = -E_q[log N(z; m_c, lambda_c)].
  double expected_neg_log_component(const T* m, const T* lv, std::size_t c, const T* mu, const T* logvar) const {
    double a = 0;
    for (std::size_t j = 0; j < d_; ++j) {
      const double dq = double(mu[j]) - double(m[c * d_ + j]);
      a += 0.5 * (kLog2Pi + double(lv[c * d_ + j]) + (std::exp(double(logvar[j])) + dq * dq) * std::exp(-double(lv[c * d_ + j])));
    }
    return a;
  }
  // The per-draw KL at this draw's gamma.
  double mixture_kl(const T* params, const T* mu, const T* logvar, const double* gamma) const {
    double kl = 0;
    for (std::size_t c = 0; c < k_; ++c)
      if (gamma[c] > 0)
        kl += gamma[c] * (expected_neg_log_component(params + means_, params + logvars_, c, mu, logvar) -
                          row_log_pi_[c] + std::log(gamma[c]));
    for (std::size_t j = 0; j < d_; ++j) kl -= 0.5 * (kLog2Pi + 1 + double(logvar[j]));
    return kl;
  }
  void draw_component(const T* params, std::size_t c, const T* e, T* z) const {
    for (std::size_t j = 0; j < d_; ++j)
      z[j] = static_cast<T>(double(params[means_ + c * d_ + j]) +
                            std::exp(0.5 * double(params[logvars_ + c * d_ + j])) * double(e[j]));
  }

  std::size_t d_, k_;
  std::size_t logits_ = 0, means_ = 0, logvars_ = 0;  // offsets in the parameters
  std::size_t planned_ = 0;
  std::vector<double> gamma_;  // [draws, K] p(c|z) of the last sample()
  std::vector<T> dz_;          // [draws, d] dL/dz with the prior's share
  std::vector<double> dhead_;  // [draws, 2d] the analytic terms' dL/d(mu | logvar)
  std::vector<double> row_terms_, dlogits_, dm_, dlv_;  // [K], [K], [K, d], [K, d]: backward's sums
  mutable std::vector<double> row_log_pi_, row_gamma_;  // [K] log pi of the last call, one row's p(c|z)
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_mixture_latent(const ModelConfig& config) {
  if (config.decoder_only)
    throw InputError("model: the vade family's prior has learned weights, means and variances, which Monte Carlo "
                     "EM does not train (decoder_only)");
  if (config.weight_posterior)
    throw InputError("model: full VB's weight posterior covers the decoder; the vade family's mixture would stay "
                     "a point estimate (weight_posterior)");
  return std::make_unique<MixtureLatent<T>>(config);
}

template std::unique_ptr<LatentSpace<float>> make_mixture_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_mixture_latent<double>(const ModelConfig&);

}  // namespace aevb
