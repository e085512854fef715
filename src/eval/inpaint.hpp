#pragma once
// The paper's third problem, marginal inference (Kingma & Welling 2013, sec.
// 2.1: "image denoising, inpainting and super-resolution"): the hidden
// values of x, or the clean x under known noise, from the values seen.
//   1. draw z_1..z_n from p(z | x_seen) by HMC: the target log p(x_seen, z)
//      = sum over the seen values of log p(x_i|z) + log p(z) (the hidden
//      values marginalized out of the factorized p(x|z)), with the chains
//      of the App. D estimator (posterior_chains.hpp: the best of K prior
//      draws, burn-in with adaptation, then a fixed kernel);
//   2. the completion is the posterior predictive mean
//      E[x | x_seen] = E_p(z|x_seen) E[x|z] ~ (1/n) sum_s E[x|z_s].
// Denoising: x = x_clean + N(0, s^2 I) noise, so p(x|z) = N(m(z), v(z) + s^2)
// (Gaussian likelihoods), and E[x_clean | x] = E_p(z|x) E[x_clean | z, x]
// the same way, E[x_clean | z, x] = (s^2 m + v x) / (v + s^2) per value seen
// (denoised_mean, src/prob/likelihood.hpp) and m per value hidden.
// Only the decoder and the prior are used: decoder-only models work too.
// docs/paper.md, "Inpainting", gives every choice made here and why.
#include "eval/image_mask.hpp"
#include "eval/posterior_chains.hpp"

#include <aevb/vae.hpp>

#include <cstdint>
#include <vector>

namespace aevb {

struct InpaintOptions : PosteriorChainOptions {
  std::size_t samples = 50;   // n, recorded states per datapoint, whose E[x|z] the completion averages
  std::size_t kept = 0;       // E[x|z_s] images kept per datapoint, at evenly spaced recorded states (<= n)
  double noise_variance = 0;  // s^2 of known Gaussian noise on x (denoising; Gaussian likelihoods only)
};
/// Throws InputError for 0 samples, more kept images than samples, a
/// negative or non-finite noise variance, or invalid chain options.
void validate(const InpaintOptions& options);

struct Inpainting {
  /// [rows, D]: E[x | x_seen] ~ the mean of E[x|z_s] over the recorded
  /// states, at every value (seen ones too: see fill_hidden); denoising's
  /// E[x_clean | x] ~ the mean of E[x_clean | z_s, x].
  std::vector<float> mean;
  /// [rows * kept, D]: E[x|z_s] (or E[x_clean | z_s, x]) at the kept states, datapoint by datapoint.
  std::vector<float> kept;
  double acceptance = 0;  // mean acceptance probability of the recorded transitions
};

/// Step 1 and 2 for every row of x, `seen` [x.rows, D] as Observation::seen
/// (null: every value seen, for denoising alone). The hidden values of x
/// are never read. Row r's chain is keyed by (seed, first_index + r), as
/// hmc_log_likelihood keys its chains (first_index: the rows' index in their
/// dataset), so results depend on neither the thread count nor the
/// chunking. InputError when the model has no prior, x does not fit it, or
/// a noise variance is given for a Bernoulli likelihood.
Inpainting inpaint(const Vae& model, ConstMatrix x, const std::uint8_t* seen, const InpaintOptions& options,
                   std::uint64_t first_index = 0);

/// The completed images: x where seen, `mean` where hidden.
std::vector<float> fill_hidden(ConstMatrix x, ConstMatrix mean, const std::uint8_t* seen);

/// The unconditional mean image E[x] = E_p(z) E[x|z], the mean of E[x|z] over
/// `draws` prior draws (Vae::sample's, from `seed`): what is known of a
/// hidden value before anything is seen, the baseline a completion must beat.
std::vector<float> prior_mean_image(const Vae& model, std::size_t draws, std::uint64_t seed);

/// Per datapoint, the mean over its hidden values (every value when seen is
/// null) of the Bernoulli log-likelihood t log p + (1 - t) log(1 - p) of the
/// truth t under the prediction p, clamped to [1e-6, 1 - 1e-6]. For a
/// Bernoulli model and binary t, with p the posterior predictive mean, this
/// is log p(t_i | x_seen) exactly: a mixture of Bernoullis is the Bernoulli
/// of the mean. `prediction` has x.rows rows, or 1 (the same for all); a
/// datapoint with no hidden value scores 0.
std::vector<double> hidden_log_likelihood(ConstMatrix truth, ConstMatrix prediction, const std::uint8_t* seen);
/// The same mean of the squared error (t - p)^2.
std::vector<double> hidden_squared_error(ConstMatrix truth, ConstMatrix prediction, const std::uint8_t* seen);

/// x += N(0, sd^2) noise per value, datapoint r's from inpaint_stream(first + r, noise) under `seed`.
void add_gaussian_noise(Matrix x, double sd, std::uint64_t seed, std::uint64_t first);

}  // namespace aevb
