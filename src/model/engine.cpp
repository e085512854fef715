#include "model/engine.hpp"

#include "core/rng.hpp"
#include "model/architecture.hpp"
#include "prob/gaussian_posterior.hpp"
#include "prob/likelihood.hpp"
#include "prob/weight_posterior.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace aevb {
namespace {

constexpr double kInitialLogSigma = -5.0;

const ModelConfig& validated(const ModelConfig& config) {
  validate(config);
  return config;
}

template <class T>
void require_width(MatrixView<const T> x, const ModelConfig& config) {
  if (x.cols == model_row_width(config)) return;
  const std::string label = config.classes == 0 ? ""
                            : " and after them the one-hot label of " + std::to_string(config.classes) +
                                  " classes (" + std::to_string(model_row_width(config)) + " in all)";
  throw InputError("data has " + std::to_string(x.cols) + " values per datapoint, the model expects " +
                   std::to_string(config.input_dim) + label);
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
  if (config_.weight_posterior) {
    if (!family_.has_prior)
      throw InputError("model: full VB's weight posterior needs a family with a prior; the " + config_.family +
                       " family has none");
    // build_networks put the decoder's tensors (the means) last before their log sigmas.
    const auto& table = layout_.table();
    const auto first = [&](auto&& is) { return std::find_if(table.begin(), table.end(), is)->offset; };
    weights_.mean = first([](const ParameterInfo& p) { return p.name.rfind("decoder.", 0) == 0; });
    weights_.scale = first([](const ParameterInfo& p) { return p.name.ends_with("_log_sigma"); });
    weights_.count = weights_.scale - weights_.mean;
    weight_kl_blocks_.assign(weight_kl_blocks(weights_.count), 0.0);
  }
}

template <class T>
Engine<T>::~Engine() = default;

template <class T>
void Engine<T>::initialize(std::uint64_t seed) {
  const auto& table = layout_.table();
  for (std::size_t t = 0; t < table.size(); ++t) {
    const ParameterInfo& p = table[t];
    T* dst = params_.data() + p.offset;
    if (has_weight_posterior() && p.offset >= weights_.scale) {
      // q(theta) starts nearly at its mean: sigma = e^-5 ~ 0.007, below the
      // paper's N(0, 0.01^2) init, as weight posteriors need small initial
      // variances to train (Blundell et al. 2015; docs/paper.md).
      std::fill(dst, dst + p.size(), T(kInitialLogSigma));
      continue;
    }
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
  latent_->initialize(params_.data());
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
  if (config_.classes > 0) {
    decoder_in_.assign(planned_draws_ * (nz + config_.classes), T(0));
    decoder_in_grad_.assign(decoder_in_.size(), T(0));
    seen_.assign(planned_rows_ * config_.input_dim, T(0));
  }
  kl_.assign(planned_rows_, T(0));
  dream_x_.assign(planned_rows_ * config_.input_dim, T(0));
  kl_weight_.assign(planned_rows_, T(0));
  latent_->plan(planned_draws_);
}

template <class T>
void Engine<T>::require_encoder(const char* what) const {
  if (config_.decoder_only)
    throw InputError(std::string(what) + " needs the encoder q(z|x), and the model is decoder-only (Monte Carlo EM "
                     "trains none): its posterior is reached by HMC (aevb eval --hmc)");
}

template <class T>
MatrixView<const T> Engine<T>::seen_values(MatrixView<const T> x) {
  if (config_.classes == 0) return x;
  const std::size_t d = config_.input_dim;
  for (std::size_t m = 0; m < x.rows; ++m) std::copy_n(x.row(m), d, seen_.data() + m * d);
  return {seen_.data(), x.rows, d};
}

template <class T>
MatrixView<const T> Engine<T>::decoder_input(MatrixView<const T> z, MatrixView<const T> x, std::size_t samples) {
  const std::size_t k = config_.classes;
  if (k == 0) return z;
  const std::size_t nz = z.cols, width = nz + k;
  for (std::size_t r = 0; r < z.rows; ++r) {
    T* row = decoder_in_.data() + r * width;
    std::copy_n(z.row(r), nz, row);
    std::copy_n(x.row(r / samples) + config_.input_dim, k, row + nz);
  }
  return {decoder_in_.data(), z.rows, width};
}

template <class T>
void Engine<T>::decoder_backward(MatrixView<const T> in, MatrixView<T> dz, GradMode mode) {
  if (config_.classes == 0 || dz.data == nullptr) {
    decoder_.backward(decoder_params(), grads(), in, dz, mode);
    return;
  }
  // dL/d(label) is not needed: the label is given.
  decoder_.backward(decoder_params(), grads(), in, {decoder_in_grad_.data(), in.rows, in.cols}, mode);
  for (std::size_t r = 0; r < in.rows; ++r) std::copy_n(decoder_in_grad_.data() + r * in.cols, dz.cols, dz.row(r));
}

template <class T>
MatrixView<const T> Engine<T>::forward_pass(MatrixView<const T> x, const T* eps, std::size_t samples) {
  require_encoder("the bound");
  require_width(x, config_);
  plan(x.rows, samples);
  rows_ = x.rows;
  samples_ = samples;
  const MatrixView<T> head = encoder_.forward(params(), x);
  latent_->sample(params(), head, samples, eps, {z_.data(), log_q_.data(), log_prior_.data(), kl_.data()});
  decoder_in_view_ = decoder_input(z(), x, samples);
  decoder_.forward(decoder_params(), decoder_in_view_);
  return seen_values(x);
}

template <class T>
Bound Engine<T>::forward_backward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective,
                                  GradMode mode) {
  const MatrixView<const T> seen = forward_pass(x, eps, objective.samples);
  const LikelihoodSpec spec = LikelihoodSpec::from(config_);
  const std::size_t n = rows_ * samples_;
  const ObjectiveWeights<T> weights{lik_weight_.data(), prior_weight_.data(), kl_weight_.data()};
  Bound bound;
  if (const T w = constant_likelihood_weight<T>(objective, rows_); w != T(0)) {
    // A and B: the likelihood's values and gradient in one pass.
    std::fill_n(lik_weight_.begin(), n, w);
    log_likelihood_grad<T>(spec, decoder_output(), seen, samples_, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
    bound = combine<T>(objective, rows_, terms(), &weights);
  } else {
    // iw: the weights are the normalized importance weights, known after the values.
    log_likelihood<T>(spec, decoder_output(), seen, samples_, log_lik_.data());
    bound = combine<T>(objective, rows_, terms(), &weights);
    log_likelihood_grad<T>(spec, decoder_output(), seen, samples_, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
  }
  const MatrixView<T> dz{dz_.data(), n, latent_->dim()};
  decoder_backward(decoder_in_view_, dz, mode);
  latent_->backward(params(), grads(), mode, encoder_output(), samples_, eps, z_.data(),
                    {dz_.data(), prior_weight_.data(), kl_weight_.data()}, encoder_.output_grad());
  encoder_.backward(params(), grads(), x, MatrixView<T>{}, mode);
  return bound;
}

template <class T>
Bound Engine<T>::wake(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective, WakeWeighting weighting,
                      T q_scale, GradMode mode) {
  const MatrixView<const T> seen = forward_pass(x, eps, objective.samples);
  const LikelihoodSpec spec = LikelihoodSpec::from(config_);
  const std::size_t s = samples_, n = rows_ * s;
  // a_ms / M into prior_weight_ (free here: the wake phases have no prior or KL gradient).
  T* a = prior_weight_.data();
  if (weighting == WakeWeighting::uniform) {
    // Known before the likelihood: its values and gradient in one pass.
    std::fill_n(a, n, T(1) / T(n));
    for (std::size_t r = 0; r < n; ++r) lik_weight_[r] = -a[r];
    log_likelihood_grad<T>(spec, decoder_output(), seen, s, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
  } else {
    log_likelihood<T>(spec, decoder_output(), seen, s, log_lik_.data());
    importance_shares(a);
    for (std::size_t r = 0; r < n; ++r) lik_weight_[r] = -a[r];
    log_likelihood_grad<T>(spec, decoder_output(), seen, s, lik_weight_.data(), log_lik_.data(),
                           decoder_.output_grad());
  }
  const Bound bound = combine<T>(objective, rows_, terms(), nullptr);
  decoder_backward(decoder_in_view_, MatrixView<T>{}, mode);  // z is a constant: no dL/dz
  if (q_scale > T(0)) {
    for (std::size_t r = 0; r < n; ++r) lik_weight_[r] = -q_scale * a[r];
    latent_->log_density(encoder_output(), s, z_.data(), nullptr, lik_weight_.data(), encoder_.output_grad());
    encoder_.backward(params(), grads(), x, MatrixView<T>{}, mode);
  }
  return bound;
}

template <class T>
void Engine<T>::importance_shares(T* a) const {
  const std::size_t s = samples_;
  for (std::size_t m = 0; m < rows_; ++m) {
    T* am = a + m * s;
    T top = -std::numeric_limits<T>::infinity();
    for (std::size_t k = 0; k < s; ++k) {
      const std::size_t r = m * s + k;
      am[k] = log_lik_[r] + log_prior_[r] - log_q_[r];
      top = std::max(top, am[k]);
    }
    T total = 0;
    for (std::size_t k = 0; k < s; ++k) total += am[k] = std::exp(am[k] - top);
    for (std::size_t k = 0; k < s; ++k) am[k] /= total * T(rows_);
  }
}

template <class T>
T Engine<T>::sleep(const T* z_noise, const T* x_noise, std::size_t rows, T q_scale, GradMode mode) {
  require_encoder("the sleep phase");
  if (config_.classes > 0)
    throw InputError("the sleep phase dreams x from p(z) p(x|z), and the " + config_.family +
                     " model is conditioned on a label the dreams do not have: train it with --algorithm aevb");
  plan(rows, 1);
  const std::size_t nz = latent_->dim();
  const MatrixView<const T> dream_z{z_noise, rows, nz};  // z' ~ p(z) = N(0, I)
  decoder_.forward(decoder_params(), dream_z);
  dream_rows_ = rows;
  const MatrixView<T> dreams{dream_x_.data(), rows, config_.input_dim};
  likelihood_sample<T>(LikelihoodSpec::from(config_), decoder_output(), x_noise, dreams);
  const MatrixView<T> head = encoder_.forward(params(), dreams);
  std::fill_n(lik_weight_.begin(), rows, -q_scale / T(rows));
  latent_->log_density(head, 1, z_noise, log_q_.data(), lik_weight_.data(), encoder_.output_grad());
  encoder_.backward(params(), grads(), dreams, MatrixView<T>{}, mode);
  double mean = 0;
  for (std::size_t j = 0; j < rows; ++j) mean += double(log_q_[j]) / double(rows);
  return static_cast<T>(mean);
}

template <class T>
void Engine<T>::draw_decoders(const T* zeta, std::size_t count) {
  const std::size_t stride = weights_.mean + weights_.count;
  if (draws_.size() < count * stride) draws_.resize(count * stride, T(0));
  for (std::size_t d = 0; d < count; ++d)
    sample_weights<T>(params_.data() + weights_.mean, params_.data() + weights_.scale, zeta + d * weights_.count,
                      weights_.count, draws_.data() + d * stride + weights_.mean);
  selected_ = 0;
}

template <class T>
void Engine<T>::select_decoder(std::ptrdiff_t d) {
  selected_ = d;
}

template <class T>
double Engine<T>::weight_posterior_grad(const T* zeta, T kl_weight) {
  return aevb::weight_posterior_grad<T>(params_.data() + weights_.mean, params_.data() + weights_.scale, zeta,
                                        weights_.count, kl_weight, grads_.data() + weights_.mean,
                                        grads_.data() + weights_.scale, weight_kl_blocks_.data());
}

template <class T>
Bound Engine<T>::forward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective) {
  const MatrixView<const T> seen = forward_pass(x, eps, objective.samples);
  log_likelihood<T>(LikelihoodSpec::from(config_), decoder_output(), seen, samples_, log_lik_.data());
  return combine<T>(objective, rows_, terms(), nullptr);
}

template <class T>
void Engine<T>::log_weights(MatrixView<const T> x, const T* eps, std::size_t samples, T* out) {
  const MatrixView<const T> seen = forward_pass(x, eps, samples);
  log_likelihood<T>(LikelihoodSpec::from(config_), decoder_output(), seen, samples_, log_lik_.data());
  for (std::size_t r = 0; r < rows_ * samples_; ++r) out[r] = log_lik_[r] + log_prior_[r] - log_q_[r];
}

template <class T>
void Engine<T>::log_joint_grad(MatrixView<const T> x, MatrixView<const T> z, std::size_t samples, T* log_joint,
                               MatrixView<T> dz, const Observation& observation) {
  if (!family_.has_prior) throw InputError("log p(x, z): the " + config_.family + " family has no prior p(z)");
  require_width(x, config_);
  const std::size_t n = x.rows * samples;
  if (z.rows != n || z.cols != latent_->dim() || (dz.data != nullptr && (dz.rows != n || dz.cols != latent_->dim())))
    throw std::logic_error("Engine::log_joint_grad: z and dz must be [x.rows * samples, latent]");
  plan(x.rows, samples);
  const MatrixView<const T> in = decoder_input(z, x, samples);
  decoder_.forward(decoder_params(), in);
  const MatrixView<const T> seen = seen_values(x);
  const LikelihoodSpec spec = LikelihoodSpec::from(config_);
  if (dz.data == nullptr) {
    log_likelihood<T>(spec, decoder_output(), seen, samples, log_joint, observation);
  } else {
    // log p(x|z) and its gradient with respect to the decoder's output, weight 1 per row.
    std::fill_n(lik_weight_.begin(), n, T(1));
    log_likelihood_grad<T>(spec, decoder_output(), seen, samples, lik_weight_.data(), log_joint,
                           decoder_.output_grad(), observation);
    decoder_backward(in, dz, GradMode::none);
  }
  latent_->add_log_prior(params_.data(), z, log_joint, dz);
}

template <class T>
T Engine<T>::decoder_gradient(MatrixView<const T> x, MatrixView<const T> z, GradMode mode) {
  require_width(x, config_);
  if (z.rows != x.rows || z.cols != latent_->dim())
    throw std::logic_error("Engine::decoder_gradient: z must be [x.rows, latent]");
  plan(x.rows, 1);
  const MatrixView<const T> in = decoder_input(z, x, 1);
  decoder_.forward(decoder_params(), in);
  std::fill_n(lik_weight_.begin(), x.rows, -T(1) / T(x.rows));
  log_likelihood_grad<T>(LikelihoodSpec::from(config_), decoder_output(), seen_values(x), 1, lik_weight_.data(),
                         log_lik_.data(), decoder_.output_grad());
  decoder_backward(in, MatrixView<T>{}, mode);  // z is given: no dL/dz
  double mean = 0;
  for (std::size_t m = 0; m < x.rows; ++m) mean += double(log_lik_[m]) / double(x.rows);
  return static_cast<T>(mean);
}

template <class T>
void Engine<T>::encode(MatrixView<const T> x, MatrixView<T> mu, MatrixView<T> logvar) {
  require_encoder("encoding");
  require_width(x, config_);
  encoder_.plan(x.rows);
  latent_->summarize(params(), encoder_.forward(params(), x), mu, logvar);
}

template <class T>
void Engine<T>::layer_means(MatrixView<const T> x, MatrixView<T> means) {
  require_encoder("encoding");
  require_width(x, config_);
  plan(x.rows, 1);
  latent_->layer_means(params(), encoder_.forward(params(), x), means);
}

template <class T>
void Engine<T>::category_probabilities(MatrixView<const T> x, MatrixView<T> probabilities) {
  require_encoder("cluster assignment");
  require_width(x, config_);
  plan(x.rows, 1);
  latent_->category_probabilities(params(), encoder_.forward(params(), x), probabilities);
}

template <class T>
void Engine<T>::quantize(MatrixView<const T> x, std::uint32_t* codes, T* squared_error) {
  require_encoder("quantization");
  require_width(x, config_);
  plan(x.rows, 1);
  latent_->quantize(params(), encoder_.forward(params(), x), codes, squared_error);
}

template <class T>
void Engine<T>::sample_prior(MatrixView<const T> noise, MatrixView<T> z) {
  plan(noise.rows, 1);
  latent_->sample_prior(params(), noise, z);
}

template <class T>
void Engine<T>::sample_category(std::size_t y, MatrixView<const T> noise, MatrixView<T> z) {
  plan(noise.rows, 1);
  latent_->sample_category(params(), y, noise, z);
}

template <class T>
void Engine<T>::decode_mean(MatrixView<const T> z_in, MatrixView<T> mean) {
  decoder_.plan(z_in.rows);
  decoder_.forward(decoder_params(), z_in);
  likelihood_mean<T>(LikelihoodSpec::from(config_), decoder_output(), mean);
}

template <class T>
void Engine<T>::log_joint_grad(MatrixView<const T> x, MatrixView<const T> z, std::size_t samples, T* log_joint,
                               MatrixView<T> dz) {
  log_joint_grad(x, z, samples, log_joint, dz, Observation{});
}

template class Engine<float>;
template class Engine<double>;

}  // namespace aevb
