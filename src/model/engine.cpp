#include "model/engine.hpp"

#include "core/rng.hpp"
#include "model/architecture.hpp"
#include "prob/gaussian_posterior.hpp"
#include "prob/likelihood.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

const ModelConfig& validated(const ModelConfig& config) {
  validate(config);
  return config;
}

template <class T>
void require_width(MatrixView<const T> x, const ModelConfig& config) {
  if (x.cols != config.input_dim)
    throw InputError("data has " + std::to_string(x.cols) + " values per datapoint, the model expects " +
                     std::to_string(config.input_dim));
}

}  // namespace

template <class T>
Engine<T>::Engine(const ModelConfig& config)
    : config_(validated(config)),
      family_(find_family(config_.family)),
      latent_(make_latent_space<T>(config_)) {
  build_networks<T>(config_, *latent_, layout_, encoder_, decoder_);
  params_.assign(layout_.total(), T(0));
  grads_.assign(layout_.total(), T(0));
}

template <class T>
Engine<T>::~Engine() = default;

template <class T>
void Engine<T>::initialize(std::uint64_t seed) {
  const auto& table = layout_.table();
  for (std::size_t t = 0; t < table.size(); ++t) {
    const ParameterInfo& p = table[t];
    T* dst = params_.data() + p.offset;
    const bool is_bias = p.shape.size() == 1;
    double stddev = 0.01;  // the paper's N(0, 0.01^2) for every parameter (sec. 5)
    if (config_.init != Init::paper) {
      if (is_bias) {
        std::fill(dst, dst + p.size(), T(0));
        continue;
      }
      // Fans as PyTorch computes them: shape[1] and shape[0] times the kernel's size.
      double receptive = 1;
      for (std::size_t d = 2; d < p.shape.size(); ++d) receptive *= double(p.shape[d]);
      const double fan_out = double(p.shape[0]) * receptive, fan_in = double(p.shape[1]) * receptive;
      stddev = config_.init == Init::glorot ? std::sqrt(2.0 / (fan_in + fan_out)) : std::sqrt(2.0 / fan_in);
    }
    fill_normal(dst, p.size(), seed, rng_stream(RngPurpose::init, t));
    for (std::size_t i = 0; i < p.size(); ++i) dst[i] = static_cast<T>(dst[i] * stddev);
  }
}

template <class T>
void Engine<T>::zero_grad() {
  std::fill(grads_.begin(), grads_.end(), T(0));
}

template <class T>
void Engine<T>::plan(std::size_t rows, std::size_t samples) {
  const std::size_t n = rows * samples;
  if (rows <= planned_rows_ && n <= planned_draws_) return;
  planned_rows_ = std::max(rows, planned_rows_);
  planned_draws_ = std::max(n, planned_draws_);
  const std::size_t nz = latent_->dim();
  encoder_.plan(planned_rows_);
  decoder_.plan(planned_draws_);
  for (auto* per_draw : {&log_lik_, &log_prior_, &log_q_, &lik_weight_, &prior_weight_})
    per_draw->assign(planned_draws_, T(0));
  z_.assign(planned_draws_ * nz, T(0));
  dz_.assign(planned_draws_ * nz, T(0));
  kl_.assign(planned_rows_, T(0));
  kl_weight_.assign(planned_rows_, T(0));
}

template <class T>
void Engine<T>::forward_pass(MatrixView<const T> x, const T* eps, std::size_t samples) {
  require_width(x, config_);
  plan(x.rows, samples);
  rows_ = x.rows;
  samples_ = samples;
  const MatrixView<T> head = encoder_.forward(params(), x);
  latent_->sample(head, samples, eps, {z_.data(), log_q_.data(), log_prior_.data(), kl_.data()});
  decoder_.forward(params(), z());
}

template <class T>
Bound Engine<T>::forward_backward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective,
                                  GradMode mode) {
  forward_pass(x, eps, objective.samples);
  const LikelihoodSpec spec = LikelihoodSpec::from(config_);
  const std::size_t n = rows_ * samples_;
  const ObjectiveWeights<T> weights{lik_weight_.data(), prior_weight_.data(), kl_weight_.data()};
  Bound bound;
  if (const T w = constant_likelihood_weight<T>(objective, rows_); w != T(0)) {
    // A and B: the likelihood's values and gradient in one pass.
    std::fill_n(lik_weight_.begin(), n, w);
    log_likelihood_grad<T>(spec, decoder_output(), x, samples_, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
    bound = combine<T>(objective, rows_, terms(), &weights);
  } else {
    // iw: the weights are the normalized importance weights, known after the values.
    log_likelihood<T>(spec, decoder_output(), x, samples_, log_lik_.data());
    bound = combine<T>(objective, rows_, terms(), &weights);
    log_likelihood_grad<T>(spec, decoder_output(), x, samples_, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
  }
  const MatrixView<T> dz{dz_.data(), n, latent_->dim()};
  decoder_.backward(params(), grads(), z(), dz, mode);
  latent_->backward(encoder_output(), samples_, eps, z_.data(), {dz_.data(), prior_weight_.data(), kl_weight_.data()},
                    encoder_.output_grad());
  encoder_.backward(params(), grads(), x, MatrixView<T>{}, mode);
  return bound;
}

template <class T>
Bound Engine<T>::forward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective) {
  forward_pass(x, eps, objective.samples);
  log_likelihood<T>(LikelihoodSpec::from(config_), decoder_output(), x, samples_, log_lik_.data());
  return combine<T>(objective, rows_, terms(), nullptr);
}

template <class T>
void Engine<T>::log_weights(MatrixView<const T> x, const T* eps, std::size_t samples, T* out) {
  forward_pass(x, eps, samples);
  log_likelihood<T>(LikelihoodSpec::from(config_), decoder_output(), x, samples_, log_lik_.data());
  for (std::size_t r = 0; r < rows_ * samples_; ++r) out[r] = log_lik_[r] + log_prior_[r] - log_q_[r];
}

template <class T>
void Engine<T>::log_joint_grad(MatrixView<const T> x, MatrixView<const T> z, std::size_t samples, T* log_joint,
                               MatrixView<T> dz) {
  if (!family_.has_prior) throw InputError("log p(x, z): the " + config_.family + " family has no prior p(z)");
  require_width(x, config_);
  const std::size_t n = x.rows * samples;
  if (z.rows != n || z.cols != latent_->dim() || (dz.data != nullptr && (dz.rows != n || dz.cols != latent_->dim())))
    throw std::logic_error("Engine::log_joint_grad: z and dz must be [x.rows * samples, latent]");
  plan(x.rows, samples);
  decoder_.forward(params(), z);
  const LikelihoodSpec spec = LikelihoodSpec::from(config_);
  if (dz.data == nullptr) {
    log_likelihood<T>(spec, decoder_output(), x, samples, log_joint);
  } else {
    // log p(x|z) and its gradient with respect to the decoder's output, weight 1 per row.
    std::fill_n(lik_weight_.begin(), n, T(1));
    log_likelihood_grad<T>(spec, decoder_output(), x, samples, lik_weight_.data(), log_joint, decoder_.output_grad());
    decoder_.backward(params(), grads(), z, dz, GradMode::none);
  }
  add_standard_normal_log_density<T>(z, log_joint, dz);
}

template <class T>
void Engine<T>::encode(MatrixView<const T> x, MatrixView<T> mu, MatrixView<T> logvar) {
  encoder_.plan(x.rows);
  latent_->summarize(encoder_.forward(params(), x), mu, logvar);
}

template <class T>
void Engine<T>::decode_mean(MatrixView<const T> z_in, MatrixView<T> mean) {
  decoder_.plan(z_in.rows);
  decoder_.forward(params(), z_in);
  likelihood_mean<T>(LikelihoodSpec::from(config_), decoder_output(), mean);
}

template class Engine<float>;
template class Engine<double>;

}  // namespace aevb
