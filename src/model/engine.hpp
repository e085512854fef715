#pragma once
// The VAE's computation on one scalar type: float for training and inference,
// double for the finite-difference gradient checks. Owns the flat parameter
// and gradient buffers and the activation workspace, planned once per shape.
//
// Data flow of forward_backward (Kingma & Welling 2013):
//   x -> encoder network -> the family's head (mu, log sigma^2 for the VAE)
//     -> the family's latent space: z, S samples per datapoint (z = mu + sigma * eps, sec. 2.4),
//        log q(z|x), log p(z), KL (App. B)
//     -> decoder network -> likelihood parameters -> log p(x|z)      [App. C]
//     -> estimator A (eq. 6), B (eq. 7) or L_k -> gradients, backwards.
// The engine never asks which family or which layers it holds.
#include <aevb/vae.hpp>

#include "core/param_layout.hpp"
#include "model/latent_space.hpp"
#include "nn/network.hpp"
#include "objective/estimator.hpp"
#include "prob/likelihood.hpp"

#include <memory>
#include <vector>

namespace aevb {

/// How a wake phase weights the S samples of a datapoint: uniform (1/S each:
/// wake-sleep), or by their normalized importance weights
/// w_s / sum_s' w_s' with w = p(x, z) / q(z|x) (reweighted wake-sleep).
enum class WakeWeighting { uniform, importance };

template <class T>
class Engine {
 public:
  explicit Engine(const ModelConfig& config);
  ~Engine();

  const ModelConfig& config() const { return config_; }
  const FamilyInfo& family() const { return family_; }
  /// Noise values per sample (eps rows are this wide; 0 for a point latent).
  std::size_t noise_dim() const { return latent_->noise_dim(); }
  /// Noise values per prior draw (sample_prior's rows are this wide).
  std::size_t prior_noise_dim() const { return latent_->prior_noise_dim(); }
  /// The widths of the stochastic layers, bottom (z) first.
  std::vector<std::size_t> layer_dims() const { return latent_->layer_dims(); }
  std::size_t categories() const { return latent_->categories(); }
  /// A discrete latent's grid (the vq family's); codes == 0: none.
  CodeGrid code_grid() const { return latent_->code_grid(); }
  /// The slices of the parameters that no optimizer updates (LatentSpace::untrained_slices).
  std::vector<ParamSlice> untrained_slices() const { return latent_->untrained_slices(); }
  const ParamLayout& layout() const { return layout_; }
  T* params() { return params_.data(); }
  const T* params() const { return params_.data(); }
  T* grads() { return grads_.data(); }
  std::size_t param_count() const { return params_.size(); }

  /// Draws every parameter as config.init says, from `seed`, then lets the
  /// family set what it starts at a fixed value (LatentSpace::initialize).
  void initialize(std::uint64_t seed);
  void zero_grad();
  /// Around one training step (the Trainer's): begin_update before its first
  /// forward pass, end_update after the optimizer's update, where the family
  /// makes the updates that are not gradient steps (the codebook's moving
  /// averages and restarts), keyed by the training seed and the step.
  void begin_update() { latent_->begin_update(); }
  void end_update(std::uint64_t seed, std::uint64_t step) { latent_->end_update(params_.data(), seed, step); }

  /// Sizes the workspace for `rows` datapoints with `samples` each (grows
  /// only). The passes below call it; after the first call for a shape they
  /// never allocate.
  void plan(std::size_t rows, std::size_t samples);

  /// The objective on x with the given noise eps ([x.rows * samples, noise_dim()],
  /// row m * samples + s). Adds d(loss)/d(theta) to grads(), where
  /// loss = -(1/M) sum_m objective_m (eq. 8 per datapoint; beta weights the KL);
  /// with GradMode::overwrite, writes it there (no zero_grad() needed: every
  /// parameter belongs to one layer, whose products write its slice).
  Bound forward_backward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective,
                         GradMode mode = GradMode::accumulate);
  /// The wake phase of wake-sleep (Hinton et al. 1995; the paper's sec. 5
  /// baseline) and of reweighted wake-sleep (Bornschein & Bengio 2015): z =
  /// mu + sigma eps drawn from q(z|x) and held constant. Writes or adds the
  /// decoder's gradient of loss = -(1/M) sum_m sum_s a_ms log p(x_m|z_ms)
  /// (a_ms as `weighting` says; the prior has no parameters), and with
  /// q_scale > 0 the encoder's gradient of -(q_scale/M) sum_ms a_ms
  /// log q(z_ms|x_m) (RWS's q-wake); the encoder's slice is left alone
  /// otherwise. Returns the ordinary bound of `objective` on the same draws.
  Bound wake(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective, WakeWeighting weighting,
             T q_scale, GradMode mode);
  /// The sleep phase: `rows` dreams z' = z_noise ~ N(0, I) = p(z), x' ~
  /// p(x|z') sampled from x_noise ([rows, D], uniform or standard normal as
  /// LikelihoodSpec::samples_from_uniform says); writes or
  /// adds the encoder's gradient of -(q_scale/rows) sum_j log q(z'_j|x'_j),
  /// the decoder's slice left alone. Returns the mean log q(z'|x').
  T sleep(const T* z_noise, const T* x_noise, std::size_t rows, T q_scale, GradMode mode);
  /// The dreams of the last sleep(), [rows, D].
  MatrixView<const T> dreams() const { return {dream_x_.data(), dream_rows_, config_.input_dim}; }

  /// Full VB (App. F; config.weight_posterior): the decoder's parameters
  /// hold the means mu of q(theta), the block after them log sigma.
  bool has_weight_posterior() const { return weights_.count > 0; }
  /// Decoder parameters under q(theta) (0 without a weight posterior).
  std::size_t weight_count() const { return weights_.count; }
  /// Draws `count` decoders theta_d = mu + sigma zeta_d (zeta [count,
  /// weight_count()]) and selects the first: every pass reads the selected
  /// decoder until select_decoder(-1) selects the means again.
  void draw_decoders(const T* zeta, std::size_t count);
  void select_decoder(std::ptrdiff_t d);
  /// After forward_backward with a drawn decoder (its gradient in theta_d at
  /// mu's offsets): writes the gradients in mu and log sigma of that loss
  /// plus kl_weight * KL(q(theta) || p(theta)), p(theta) = N(0, I); returns
  /// that KL at the current mu and sigma.
  double weight_posterior_grad(const T* zeta, T kl_weight);

  /// The same values without gradients.
  Bound forward(MatrixView<const T> x, const T* eps, const ObjectiveConfig& objective);
  /// log w = log p(x|z_s) + log p(z_s) - log q(z_s|x) per sample, [x.rows * samples].
  void log_weights(MatrixView<const T> x, const T* eps, std::size_t samples, T* out);

  /// log p(x, z) = log p(x|z) + log p(z) for each row of z [x.rows * samples,
  /// latent] (row m * samples + s belongs to datapoint m) into log_joint, and
  /// its gradient with respect to z into dz: the unnormalized log posterior
  /// that HMC samples (App. D and E). Runs the decoder only (no encoder: a
  /// Monte Carlo EM model has no trained one) and forms no parameter
  /// gradient (GradMode::none); grads() is left as it was. p(z) is the
  /// family's (LatentSpace::add_log_prior: N(0, I) for the VAE); a family
  /// without one (FamilyInfo::has_prior false), or whose p(z) has no closed
  /// form (the 2-layer model's), throws InputError. With dz.data null, the
  /// values only (no backward pass).
  void log_joint_grad(MatrixView<const T> x, MatrixView<const T> z, std::size_t samples, T* log_joint,
                      MatrixView<T> dz);

  /// The M step of Monte Carlo EM (App. E): z [x.rows, latent] given (the
  /// chains' states), writes or adds the decoder's gradient of
  /// loss = -(1/M) sum_m log p(x_m|z_m) (p(z) has no parameters) and returns
  /// the mean log p(x|z). Runs the decoder only; the encoder's slice, if any,
  /// is left alone.
  T decoder_gradient(MatrixView<const T> x, MatrixView<const T> z, GradMode mode);

  /// q(z|x)'s mean and log-variance (-inf for a point latent).
  void encode(MatrixView<const T> x, MatrixView<T> mu, MatrixView<T> logvar);
  /// Each stochastic layer's posterior mean, [x.rows, sum of layer_dims()] (LatentSpace::layer_means).
  void layer_means(MatrixView<const T> x, MatrixView<T> means);
  /// q(y|x) of a categorical latent, [x.rows, categories()] (LatentSpace::category_probabilities).
  void category_probabilities(MatrixView<const T> x, MatrixView<T> probabilities);
  /// z ~ p(z) from noise [rows, prior_noise_dim()] ~ N(0, I): what the decoder reads.
  void sample_prior(MatrixView<const T> noise, MatrixView<T> z);
  /// z ~ p(z|y) of a categorical latent from noise [rows, dim] ~ N(0, I) (LatentSpace::sample_category).
  void sample_category(std::size_t y, MatrixView<const T> noise, MatrixView<T> z);
  /// E[x|z] (sigmoid of the logits, or the Gaussian mean); z [rows, latent]
  /// and, for a conditional model, the one-hot label after it.
  void decode_mean(MatrixView<const T> z, MatrixView<T> mean);
  /// A discrete latent's codes of each row of x, [x.rows, positions], and
  /// unless null squared_error[m] = sum over positions of ||z_e - e||^2.
  void quantize(MatrixView<const T> x, std::uint32_t* codes, T* squared_error);
  /// The grid made of codes [rows, positions] into z [rows, latent] (LatentSpace::embed_codes).
  void embed_codes(const std::uint32_t* codes, MatrixView<T> z) const { latent_->embed_codes(params(), codes, z); }
  /// log_joint_grad with log p(x|z) as `observation` sees x: only the values
  /// seen (marginal inference, sec. 2.1: log p(x_seen, z), whose posterior
  /// is p(z | x_seen)), or with the variance of known noise added. The
  /// default Observation gives the plain one's values to the bit.
  void log_joint_grad(MatrixView<const T> x, MatrixView<const T> z, std::size_t samples, T* log_joint,
                      MatrixView<T> dz, const Observation& observation);

  // Intermediates of the last forward, for tests and inspection.
  MatrixView<const T> encoder_output() const { return encoder_.result(); }  // the head: mu | log sigma^2 for the VAE
  MatrixView<const T> z() const { return {z_.data(), rows_ * samples_, config_.latent}; }  // [M*S, latent]
  /// [M*S, D] logits or mean pre-activation, or [M*S, 2D] mean pre-activation | log-variance.
  MatrixView<const T> decoder_output() const { return decoder_.result(); }

 private:
  /// Throws InputError for a decoder-only model, naming `what` needed the encoder.
  void require_encoder(const char* what) const;
  /// Encoder, reparameterization and decoder on x; fills every per-sample term
  /// but log p(x|z). Returns x's values the likelihood scores (seen_values).
  MatrixView<const T> forward_pass(MatrixView<const T> x, const T* eps, std::size_t samples);
  /// x's own values, [x.rows, input_dim]: x itself, or for a conditional
  /// model a copy without the label columns at the end of each row.
  MatrixView<const T> seen_values(MatrixView<const T> x);
  /// What the decoder reads for z [x.rows * samples, dim] of x's rows: z
  /// itself, or for a conditional model z with x's one-hot label after it.
  MatrixView<const T> decoder_input(MatrixView<const T> z, MatrixView<const T> x, std::size_t samples);
  /// The decoder's backward pass from its input `in` (decoder_input's),
  /// writing dL/dz into dz unless dz.data is null.
  void decoder_backward(MatrixView<const T> in, MatrixView<T> dz, GradMode mode);
  /// a_ms = w_ms / (M sum_s' w_ms'), w = p(x, z) / q(z|x), from the last forward's terms.
  void importance_shares(T* a) const;
  ObjectiveTerms<T> terms() const { return {log_lik_.data(), log_prior_.data(), log_q_.data(), kl_.data()}; }

  ModelConfig config_;
  const FamilyInfo& family_;
  std::unique_ptr<LatentSpace<T>> latent_;
  ParamLayout layout_;
  std::vector<T> params_, grads_;
  Network<T> encoder_, decoder_;
  std::size_t planned_rows_ = 0, planned_draws_ = 0;  // datapoints, datapoints x samples
  std::size_t rows_ = 0, samples_ = 0;  // of the last forward
  std::vector<T> z_, dz_;
  // A conditional model's decoder input (z | label) with its gradient, and x without the label.
  std::vector<T> decoder_in_, decoder_in_grad_, seen_;
  MatrixView<const T> decoder_in_view_;  // what the last forward_pass's decoder read
  /// The parameters the decoder's layers read: the means, or a drawn decoder.
  const T* decoder_params() const {
    return selected_ < 0 ? params_.data() : draws_.data() + std::size_t(selected_) * (weights_.mean + weights_.count);
  }

  // Full VB: where mu and log sigma lie (mu: the decoder's own tensors), and
  // the drawn decoders, each laid out as the parameters up to mu's end so
  // that the layers' offsets hold (its encoder part unused).
  struct WeightPosterior {
    std::size_t mean = 0, scale = 0, count = 0;
  };
  WeightPosterior weights_;
  std::vector<T> draws_;
  std::ptrdiff_t selected_ = -1;
  std::vector<double> weight_kl_blocks_;
  std::vector<T> dream_x_;  // the sleep phase's x' ~ p(x|z')
  std::size_t dream_rows_ = 0;
  std::vector<T> log_lik_, log_prior_, log_q_, kl_;           // terms of the objective
  std::vector<T> lik_weight_, prior_weight_, kl_weight_;      // dL/d(term)
};

}  // namespace aevb
