// The clustering VAE of our seed material (Su's one-step clustering VAE,
// ../shared/reference/model-families.md sec. 1.1): the latent is (z, y), z
// continuous and y one of K clusters, with the generative model
//   p(y) = 1/K,  p(z|y) = N(m_y, I) (learned means),  p(x|z) the decoder,
// and the inference model q(z|x) (the Gaussian encoder) times a classifier
// q(y|z) = softmax(MLP(z)). With the sum over y taken exactly and z
// reparameterized, the bound per sample is
//   log p(x|z) - [ log q(z|x) + sum_y q(y|z) (log q(y|z) + log K - log N(z; m_y, I)) ],
// the bracket being the seed's sum_y p(y|z) log(p(z|x) / q(z|y)) +
// KL(p(y|z) || q(y)) in its notation (p for inference there): this family's
// KL, a Monte Carlo estimate in z, so estimator B is the sampled bound. The
// marginal prior p(z) = (1/K) sum_y N(z; m_y, I) has a closed form, so the
// importance-weighted log p(x), HMC and sampling work as for the paper's VAE.
#include "model/families.hpp"

#include "core/param_layout.hpp"
#include "core/scalar_math.hpp"
#include "nn/dense.hpp"
#include "nn/network.hpp"
#include "prob/gaussian_posterior.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

namespace aevb {
namespace {

template <class T>
class ClusterLatent final : public LatentSpace<T> {
 public:
  explicit ClusterLatent(const ModelConfig& c)
      : d_(c.latent),
        k_(c.clusters),
        hidden_(c.classifier_hidden),
        act_(to_act(c.activation)),
        slope_(c.leaky_slope),
        rho_(k_),
        prior_terms_(k_) {}

  std::size_t dim() const override { return d_; }
  std::size_t noise_dim() const override { return d_; }
  std::size_t prior_noise_dim() const override { return 1 + d_; }  // y's draw, then z's noise
  std::size_t categories() const override { return k_; }

  std::unique_ptr<Layer<T>> make_head(ParamLayout& layout, Shape in) override {
    auto head = DenseLayer<T>::twin(layout, "encoder.mu", "encoder.logvar", in, d_);
    Shape shape{d_, 0, 0};
    for (std::size_t i = 0; i < hidden_.size(); ++i) {
      classifier_.add(std::make_unique<DenseLayer<T>>(layout, "latent.classifier." + std::to_string(i), shape,
                                                      hidden_[i], act_, slope_));
      shape = Shape{hidden_[i], 0, 0};
    }
    classifier_.add(
        std::make_unique<DenseLayer<T>>(layout, "latent.classifier.logits", shape, k_, Act::identity, slope_));
    means_ = layout.add("latent.means", {k_, d_});
    return head;
  }

  void plan(std::size_t draws) override {
    if (draws <= planned_) return;
    planned_ = draws;
    classifier_.plan(draws);
    for (auto* v : {&log_pi_, &log_pz_y_}) v->assign(draws * k_, T(0));
    dz_.assign(draws * d_, T(0));
    dz_classifier_.assign(draws * d_, T(0));
    inner_.assign(draws, T(0));
  }

  void sample(const T* params, MatrixView<const T> head, std::size_t samples, const T* eps,
              const PosteriorSample<T>& out) override {
    const std::size_t n = head.rows * samples;
    // z ~ q(z|x) and log q(z|x); its log p(z) and KL against N(0, I) are replaced below.
    reparameterize<T>(head, samples, eps, out);
    const MatrixView<const T> z{out.z, n, d_};
    const MatrixView<T> logits = classifier_.forward(params, z);
    const T* m = params + means_;
    const double log_k = std::log(double(k_));
    for (std::size_t r = 0; r < n; ++r) {
      T* log_pi = log_pi_.data() + r * k_;
      T* log_pz_y = log_pz_y_.data() + r * k_;
      log_softmax(logits.row(r), k_, log_pi);
      component_log_densities(m, z.row(r), log_pz_y);
      out.log_prior[r] = static_cast<T>(log_sum_exp(log_pz_y, k_) - log_k);
      // sum_y q(y|z) (log q(y|z) + log K - log N(z; m_y, I))
      double inner = 0;
      for (std::size_t y = 0; y < k_; ++y)
        inner += std::exp(double(log_pi[y])) * (double(log_pi[y]) + log_k - double(log_pz_y[y]));
      inner_[r] = static_cast<T>(inner);
    }
    for (std::size_t row = 0; row < head.rows; ++row) {
      double kl = 0;
      for (std::size_t s = 0; s < samples; ++s) kl += double(out.log_q[row * samples + s]) + inner_[row * samples + s];
      out.kl[row] = static_cast<T>(kl / double(samples));
    }
  }

  void backward(const T* params, T* grads, GradMode mode, MatrixView<const T> head, std::size_t samples,
                const T* eps, const T* z, const PosteriorGrad<T>& grad, MatrixView<T> dhead) override {
    const std::size_t n = head.rows * samples;
    const T* m = params + means_;
    T* dm = grads + means_;
    if (mode == GradMode::overwrite) std::fill(dm, dm + k_ * d_, T(0));
    const double log_k = std::log(double(k_));
    const MatrixView<T> dlogits = classifier_.output_grad();
    std::vector<double>& rho = rho_;
    for (std::size_t r = 0; r < n; ++r) {
      // w: dL/d(log p(z) - log q(z|x)); v: dL/d(this sample's KL), the KL being the mean over samples.
      const double w = grad.prior_weight ? double(grad.prior_weight[r]) : 0.0;
      const double v = grad.kl_weight ? double(grad.kl_weight[r / samples]) / double(samples) : 0.0;
      const T* zr = z + r * d_;
      const T* log_pi = log_pi_.data() + r * k_;
      const T* log_pz_y = log_pz_y_.data() + r * k_;
      // rho_y = p(y|z), the exact posterior: d log p(z) / dz = sum_y rho_y (m_y - z).
      const double lse = log_sum_exp(log_pz_y, k_);
      for (std::size_t y = 0; y < k_; ++y) rho[y] = std::exp(double(log_pz_y[y]) - lse);
      T* dzr = dz_.data() + r * d_;
      for (std::size_t j = 0; j < d_; ++j) dzr[j] = grad.dz[r * d_ + j];
      for (std::size_t y = 0; y < k_; ++y) {
        const double pi = std::exp(double(log_pi[y]));
        // The inner sum's d/dlogits_y: pi_y (log pi_y + log K - log N_y - inner) (softmax's Jacobian).
        dlogits.row(r)[y] = static_cast<T>(v * pi * (double(log_pi[y]) + log_k - double(log_pz_y[y]) - inner_[r]));
        // d/dz and d/dm_y of w log p(z) + v sum_y pi_y (-log N(z; m_y, I)), at fixed pi.
        const double c = w * rho[y] - v * pi;  // the weight of (m_y - z) in dL/dz, of (z - m_y) in dL/dm_y
        const T* my = m + y * d_;
        T* dmy = dm + y * d_;
        for (std::size_t j = 0; j < d_; ++j) {
          const double diff = double(my[j]) - double(zr[j]);
          dzr[j] = static_cast<T>(double(dzr[j]) + c * diff);
          if (mode != GradMode::none) dmy[j] = static_cast<T>(double(dmy[j]) - c * diff);
        }
      }
    }
    // The classifier's input is z: its dL/dz joins the rest.
    classifier_.backward(params, grads, {z, n, d_}, {dz_classifier_.data(), n, d_}, mode);
    for (std::size_t i = 0; i < n * d_; ++i) dz_[i] += dz_classifier_[i];
    reparameterize_backward<T>(head, samples, eps, z, {dz_.data(), nullptr, nullptr}, dhead);
    // log q(z|x) = sum_j -1/2 (log 2pi + logvar_j + eps_j^2) at fixed eps enters with weight v - w.
    for (std::size_t row = 0; row < head.rows; ++row) {
      double weight = 0;
      for (std::size_t s = 0; s < samples; ++s) {
        const std::size_t r = row * samples + s;
        weight += (grad.prior_weight ? double(grad.prior_weight[r]) : 0.0) -
                  (grad.kl_weight ? double(grad.kl_weight[row]) / double(samples) : 0.0);
      }
      T* dlogvar = dhead.row(row) + d_;
      for (std::size_t j = 0; j < d_; ++j) dlogvar[j] = static_cast<T>(double(dlogvar[j]) + 0.5 * weight);
    }
  }

  void log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                   MatrixView<T> dhead) const override {
    gaussian_log_density<T>(head, samples, z, log_q, weight, dhead);
  }

  void summarize(const T*, MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance) const override {
    split_gaussian_head(head, mean, log_variance);
  }

  void sample_prior(const T* params, MatrixView<const T> noise, MatrixView<T> z) override {
    // y uniform from the first noise value through the normal CDF, then z = m_y + e.
    const T* m = params + means_;
    for (std::size_t r = 0; r < noise.rows; ++r) {
      const T* e = noise.row(r);
      const double u = 0.5 * std::erfc(-double(e[0]) / std::numbers::sqrt2);
      const std::size_t y = std::min(k_ - 1, static_cast<std::size_t>(u * double(k_)));
      for (std::size_t j = 0; j < d_; ++j) z.row(r)[j] = m[y * d_ + j] + e[1 + j];
    }
  }

  void sample_category(const T* params, std::size_t y, MatrixView<const T> noise, MatrixView<T> z) override {
    const T* m = params + means_ + y * d_;  // z = m_y + e ~ N(m_y, I)
    for (std::size_t r = 0; r < noise.rows; ++r)
      for (std::size_t j = 0; j < d_; ++j) z.row(r)[j] = m[j] + noise.row(r)[j];
  }

  void add_log_prior(const T* params, MatrixView<const T> z, T* log_prior, MatrixView<T> dz) const override {
    const T* m = params + means_;
    std::vector<T>& log_pz_y = prior_terms_;
    const double log_k = std::log(double(k_));
    for (std::size_t r = 0; r < z.rows; ++r) {
      component_log_densities(m, z.row(r), log_pz_y.data());
      const double lse = log_sum_exp(log_pz_y.data(), k_);
      log_prior[r] = static_cast<T>(double(log_prior[r]) + lse - log_k);
      if (!dz.data) continue;
      for (std::size_t y = 0; y < k_; ++y) {
        const double rho = std::exp(double(log_pz_y[y]) - lse);
        for (std::size_t j = 0; j < d_; ++j)
          dz.row(r)[j] = static_cast<T>(double(dz.row(r)[j]) + rho * (double(m[y * d_ + j]) - double(z.row(r)[j])));
      }
    }
  }

  void layer_means(const T*, MatrixView<const T> head, MatrixView<T> means) override {
    split_gaussian_head(head, means, MatrixView<T>{});
  }

  void category_probabilities(const T* params, MatrixView<const T> head, MatrixView<T> probabilities) override {
    // q(y|z) at z = E[z|x], as Su's evaluation assigns clusters.
    const std::size_t n = head.rows;
    split_gaussian_head(head, MatrixView<T>{dz_.data(), n, d_}, MatrixView<T>{});  // scratch: the means, contiguous
    const MatrixView<T> logits = classifier_.forward(params, MatrixView<const T>{dz_.data(), n, d_});
    for (std::size_t r = 0; r < n; ++r) {
      log_softmax(logits.row(r), k_, probabilities.row(r));
      for (std::size_t y = 0; y < k_; ++y) probabilities.row(r)[y] = std::exp(probabilities.row(r)[y]);
    }
  }

 private:
  // log N(z; m_y, I) for every y.
  void component_log_densities(const T* m, const T* z, T* out) const {
    const double half_log_2pi = 0.5 * std::log(2 * std::numbers::pi);
    for (std::size_t y = 0; y < k_; ++y) {
      double sq = 0;
      for (std::size_t j = 0; j < d_; ++j) {
        const double diff = double(z[j]) - double(m[y * d_ + j]);
        sq += diff * diff;
      }
      out[y] = static_cast<T>(-0.5 * sq - double(d_) * half_log_2pi);
    }
  }

  std::size_t d_, k_;
  std::vector<std::size_t> hidden_;
  Act act_;
  float slope_;
  Network<T> classifier_;  // q(y|z)
  std::size_t means_ = 0;  // offset of latent.means [K, d] in the parameters
  std::size_t planned_ = 0;
  std::vector<T> log_pi_, log_pz_y_;  // [draws, K]: log q(y|z), log N(z; m_y, I) of the last sample()
  std::vector<T> dz_, dz_classifier_, inner_;
  std::vector<double> rho_;                 // [K] backward's p(y|z) of one sample: no allocation per step
  mutable std::vector<T> prior_terms_;      // [K] add_log_prior's log N(z; m_y, I) of one row
};

}  // namespace

template <class T>
std::unique_ptr<LatentSpace<T>> make_cluster_latent(const ModelConfig& config) {
  if (config.decoder_only)
    throw InputError("model: the cluster family's prior has learned means, which Monte Carlo EM does not train "
                     "(decoder_only)");
  if (config.weight_posterior)
    throw InputError("model: full VB's weight posterior covers the decoder; the cluster family's means and "
                     "classifier would stay point estimates (weight_posterior)");
  return std::make_unique<ClusterLatent<T>>(config);
}

template std::unique_ptr<LatentSpace<float>> make_cluster_latent<float>(const ModelConfig&);
template std::unique_ptr<LatentSpace<double>> make_cluster_latent<double>(const ModelConfig&);

}  // namespace aevb
