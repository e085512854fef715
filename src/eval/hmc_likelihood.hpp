#pragma once
// The paper's marginal-likelihood estimator (Kingma & Welling 2013, App. D),
// with which Fig. 3 compares AEVB, wake-sleep and Monte Carlo EM. Per
// datapoint x:
//   1. draw z_1..z_n from the posterior p(z|x) by HMC (App. E: n = 50
//      samples, 4 leapfrog steps), after a burn-in;
//   2. fit a density q(z) to the first half (a Gaussian KDE whose bandwidth
//      maximizes a held-out log density, or a diagonal Gaussian where the
//      samples are too few for the dimension);
//   3. on the second half: 1/p(x) = E_p(z|x)[q(z) / p(x, z)], so
//      log p^(x) = -logmeanexp_l [log q(z_l) - log p(x, z_l)].
// The per-datapoint variance is the authors' log-normal approximation
// s^2/n_e + s^4/(n_e - 1), s^2 the variance of log q - log p(x, z) over the
// n_e second-half samples. The estimate needs the decoder and the prior
// only (no encoder): it serves models trained without one. The paper found
// it unreliable above 5 latent dimensions (sec. 5). docs/paper.md, "The App.
// D estimator", gives every choice made here and why.
#include "eval/posterior_chains.hpp"

#include <aevb/vae.hpp>

#include <cstdint>
#include <functional>
#include <vector>

namespace aevb {

/// The chains' burn-in, start draws, step size, HMC options and seed, and:
struct HmcLikelihoodOptions : PosteriorChainOptions {
  std::size_t samples = 50;  // n, posterior states recorded per datapoint (App. E); at least 4
};
/// Throws InputError for fewer than 4 samples or invalid HMC options.
void validate(const HmcLikelihoodOptions& options);

struct HmcLikelihood {
  std::vector<double> log_likelihoods;  // log p^(x) per datapoint, in the data's order
  /// Each one's variance by the authors' log-normal approximation. It
  /// understates the error: on the linear-Gaussian model with exact log p(x)
  /// and on MNIST (against quadrature) about half the errors lie within two
  /// of its standard deviations (docs/paper.md).
  std::vector<double> variances;
  double mean = 0;     // over datapoints
  double stderr_ = 0;  // of that mean over datapoints (sample sd / sqrt(count)), as importance sampling reports it
  double acceptance = 0;  // mean acceptance probability of the recorded transitions
};

/// Called with (datapoints done, total) after each chunk of datapoints; spread
/// over ranks, with this rank's share.
using HmcProgress = std::function<void(std::size_t, std::size_t)>;

/// The App. D estimate for every row of x. Chains run in chunks of a fixed
/// number of datapoints, and each chain's noise is keyed by (seed, its
/// datapoint's index): the results depend on the seed and the data only,
/// never on the thread count. Given `ranks`, each runs a share of the chunks
/// and every rank returns the result of one process. Throws InputError when
/// the model's family has no prior p(z) or x does not fit the model.
HmcLikelihood hmc_log_likelihood(const Vae& model, ConstMatrix x, const HmcLikelihoodOptions& options,
                                 const HmcProgress& progress = {}, Communicator* ranks = nullptr);

/// One datapoint's estimate from its n recorded states z [n, d] (in chain
/// order) and their log p(x, z) [n]: steps 2 and 3 above.
struct PointEstimate {
  double log_likelihood = 0, variance = 0;
};
PointEstimate app_d_estimate(const double* z, const double* log_joint, std::size_t n, std::size_t d);

}  // namespace aevb
