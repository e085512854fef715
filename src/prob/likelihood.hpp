#pragma once
// The decoder's likelihood p(x|z) from the decoder's output (App. C):
//   bernoulli:      out = logits l,  log p = sum_d x l - softplus(l)   (any l, grey x allowed)
//   gaussian:       out = [mean pre-activation | log sigma^2],
//                   log p = sum_d -1/2 (log 2pi + lv + (x - m)^2 e^-lv)
//   gaussian_fixed: out = mean pre-activation, variance c fixed:
//                   log p = sum_d -1/2 (log 2pi c + (x - m)^2 / c)
// m = sigmoid(pre) when sigmoid_mean (the paper's bounded mean for data in
// (0,1)), else m = pre. Row r of `out` belongs to datapoint r / samples.
// Float runs the fused, vectorized rows; double runs the reference loops.
#include <aevb/config.hpp>
#include <aevb/matrix.hpp>

#include <cstdint>

namespace aevb {

struct LikelihoodSpec {
  Likelihood kind = Likelihood::bernoulli;
  bool sigmoid_mean = true;
  double fixed_variance = 1.0;
  std::size_t dim = 0;  // D
  static LikelihoodSpec from(const ModelConfig& config);
  /// Decoder output width: D, or 2D for a learned variance.
  std::size_t output_width() const { return kind == Likelihood::gaussian ? 2 * dim : dim; }
  /// The noise likelihood_sample reads: uniform in [0, 1) (bernoulli), else standard normal.
  bool samples_from_uniform() const { return kind == Likelihood::bernoulli; }
};

/// What the likelihood sees of x, for the paper's marginal inference (sec.
/// 2.1: inpainting, denoising). The default sees every value as it is.
///   seen [x.rows, D]: nonzero where a value is observed (null: all are). A
///     hidden value adds nothing to log p(x|z) and gets no gradient, whatever
///     x holds there (NaN included): log p(x_seen | z), the hidden values
///     marginalized out, which for a factorized p(x|z) is dropping their terms.
///   noise_variance s^2: x is the data plus N(0, s^2 I) noise, so a Gaussian
///     value's variance v (or c) becomes v + s^2, the noise marginalized out
///     (denoising). Gaussian likelihoods only (std::logic_error otherwise).
/// Anything but the default runs the reference loops, in float as in double:
/// these are inference's passes, not training's.
struct Observation {
  const std::uint8_t* seen = nullptr;
  double noise_variance = 0;
  bool plain() const { return seen == nullptr && noise_variance == 0; }
};

/// log_lik[r] = log p(x_{r/samples} | z_r).
template <class T>
void log_likelihood(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
                    T* log_lik, const Observation& observation = {});

/// The same values, and dout[r] = weight[r] * d log_lik[r] / d out[r] in one pass.
template <class T>
void log_likelihood_grad(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x,
                         std::size_t samples, const T* weight, T* log_lik, MatrixView<T> dout,
                         const Observation& observation = {});

/// x ~ p(x|z) for each row of `out`, from noise [rows, D] (the sleep phase's
/// dreams, which are sampled, not the mean):
///   bernoulli:      x = 1 where noise < sigmoid(l), else 0 (noise uniform in [0, 1));
///   gaussian:       x = m + exp(lv / 2) noise;   gaussian_fixed: x = m + sqrt(c) noise
///                   (noise standard normal).
template <class T>
void likelihood_sample(const LikelihoodSpec& spec, MatrixView<const T> out, const T* noise, MatrixView<T> x);

/// The plain loops over libm that the fast float path (vectorizable
/// approximations, backend/cpu/vector_math.hpp) is tested against. With
/// dout.data null it computes the values only.
namespace reference {
template <class T>
void log_likelihood_grad(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x,
                         std::size_t samples, const T* weight, T* log_lik, MatrixView<T> dout);
}  // namespace reference

/// E[x|z]: sigmoid(logits) or the mean m, [rows, D].
template <class T>
void likelihood_mean(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<T> mean);

/// Denoising's E[x_clean | z, x] for x = x_clean + N(0, s^2 I) noise, s^2 =
/// observation.noise_variance > 0 (Gaussian likelihoods): per seen value
/// the precision-weighted (s^2 m + v x) / (v + s^2) of the model's mean m
/// and variance v (or c) and the noisy value x; m where hidden. Row r of
/// `out` belongs to datapoint r / samples; mean is [out.rows, D].
template <class T>
void denoised_mean(const LikelihoodSpec& spec, MatrixView<const T> out, MatrixView<const T> x, std::size_t samples,
                   const Observation& observation, MatrixView<T> mean);

}  // namespace aevb
