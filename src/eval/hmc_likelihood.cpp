#include "eval/hmc_likelihood.hpp"

#include "core/rng.hpp"
#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"
#include "model/engine.hpp"
#include "model/posterior_target.hpp"
#include "prob/fitted_density.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace aevb {
namespace {

// Datapoints whose chains advance together: each leapfrog step is then a
// decoder pass over this many rows (GEMMs of 500 rows). Fixed, so that no
// result depends on how the work is cut.
constexpr std::size_t kChunk = 500;

// The authors' bandwidth choice (hmc_est.py, kde_infer_factor): factors
// scott * e^((i - 5) / 2), i = 0..9, scott = n_a^(-1 / (d + 4)); fit on the
// second half of the n_a samples, score the summed log density of the first
// half, keep the best (the first of equals).
double select_kde_factor(const double* z, std::size_t n_a, std::size_t d) {
  const double scott = std::pow(double(n_a), -1.0 / double(d + 4));
  const std::size_t held_out = n_a / 2;
  std::vector<double> log_q(held_out);
  GaussianKde kde;
  double best = scott, best_score = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < 10; ++i) {
    const double factor = scott * std::exp((i - 5) / 2.0);
    if (!kde.fit(z + held_out * d, n_a - held_out, d, factor)) continue;
    kde.log_density(z, held_out, log_q.data());
    double score = 0;
    for (double v : log_q) score += v;
    if (score > best_score) {
      best_score = score;
      best = factor;
    }
  }
  return best;
}

// Each chain starts at the best of K draws from the prior by log p(x, z),
// from its own stream: the decoder alone picks it, so every model (with or
// without a trained encoder: AEVB, wake-sleep, MCEM) is measured the same
// way, and the chain starts in the basin of the posterior's main mode. The
// authors' code starts at one prior draw; on an MNIST model, with 100
// burn-in transitions, that left about 1 chain in 10 in a minor mode, up to
// 130 nats below (docs/paper.md). Datapoints in groups of at most
// kStartDraws draws.
constexpr std::size_t kStartDraws = 8192;

void start_chains(Engine<float>& engine, MatrixView<const float> x, const std::uint64_t* id,
                  const HmcLikelihoodOptions& options, std::vector<float>& draws, std::vector<float>& log_joint,
                  float* z) {
  const std::size_t k = options.start_draws, d = engine.config().latent;
  const std::size_t group = std::max<std::size_t>(1, kStartDraws / k);
  draws.resize(std::min(group, x.rows) * k * d);
  log_joint.resize(std::min(group, x.rows) * k);
  for (std::size_t first = 0; first < x.rows; first += group) {
    const std::size_t rows = std::min(group, x.rows - first);
    for (std::size_t c = 0; c < rows; ++c)
      fill_normal(draws.data() + c * k * d, k * d, options.seed, hmc_stream(id[first + c], HmcDraw::start));
    engine.log_joint_grad({x.row(first), rows, x.cols}, {draws.data(), rows * k, d}, k, log_joint.data(),
                          MatrixView<float>{});
    for (std::size_t c = 0; c < rows; ++c) {
      const auto begin = log_joint.begin() + std::ptrdiff_t(c * k);
      const std::size_t best = std::size_t(std::max_element(begin, begin + std::ptrdiff_t(k)) - log_joint.begin());
      std::copy_n(draws.data() + best * d, d, z + (first + c) * d);
    }
  }
}

}  // namespace

void validate(const HmcLikelihoodOptions& options) {
  validate(options.hmc);
  if (options.samples < 4) {
    std::string message = "the App. D estimator needs at least 4 samples per datapoint, found ";
    message += std::to_string(options.samples);
    throw InputError(message);
  }
  if (options.start_draws < 1) throw InputError("the App. D estimator needs at least 1 prior draw to start a chain");
  if (!(options.initial_step_size > 0) || !std::isfinite(options.initial_step_size))
    throw InputError("the App. D estimator needs a positive initial HMC step size");
}

PointEstimate app_d_estimate(const double* z, const double* log_joint, std::size_t n, std::size_t d) {
  const std::size_t n_a = n / 2, n_e = n - n_a;
  const double* second = z + n_a * d;
  std::vector<double> log_pi(n_e);
  // q on the first half: the KDE unless the samples are too few for the
  // dimension (the authors' test, n_a / d < 4 in integer division), or
  // their covariance is singular (a chain that never moved).
  bool fitted = false;
  if (d > 1 && n_a / d >= 4) {
    GaussianKde kde;
    fitted = kde.fit(z, n_a, d, select_kde_factor(z, n_a, d));
    if (fitted) kde.log_density(second, n_e, log_pi.data());
  }
  if (!fitted) {
    DiagonalGaussian diagonal;
    diagonal.fit(z, n_a, d);
    diagonal.log_density(second, n_e, log_pi.data());
  }
  // log pi_l = log q(z_l) - log p(x, z_l); log p^(x) = -logmeanexp_l log pi_l.
  double mean = 0, square = 0;
  for (std::size_t l = 0; l < n_e; ++l) {
    log_pi[l] -= log_joint[n_a + l];
    mean += log_pi[l] / double(n_e);
  }
  for (double v : log_pi) square += (v - mean) * (v - mean) / double(n_e);
  const double log_px = -(log_sum_exp(log_pi.data(), n_e) - std::log(double(n_e)));
  // The log-normal approximation (hmc_est.py): with log pi ~ N, the variance
  // of the estimate is that of the mean plus half that of the variance.
  return {log_px, square / double(n_e) + square * square / double(n_e - 1)};
}

HmcLikelihood hmc_log_likelihood(const Vae& model, ConstMatrix x, const HmcLikelihoodOptions& options,
                                 const HmcProgress& progress) {
  validate(options);
  if (!model.has_prior())
    throw InputError("the App. D estimator needs a prior p(z); the " + model.config().family + " family has none");
  // An engine of its own: the model stays const, and the workspace is this
  // estimator's chunk of chains.
  Engine<float> engine(model.config());
  std::copy(model.parameters().begin(), model.parameters().end(), engine.params());
  const std::size_t d = model.config().latent, n = options.samples, chunk = std::min(kChunk, x.rows);
  Hmc<float> hmc(d, options.hmc);
  hmc.plan(chunk);
  std::vector<float> z(chunk * d), grad(chunk * d), log_joint(chunk);
  std::vector<double> step(chunk), log_step_sum(chunk);
  std::vector<std::uint64_t> id(chunk);
  std::vector<double> recorded_z(chunk * n * d), recorded_log_joint(chunk * n);
  std::vector<float> draws, draw_log_joint;

  HmcLikelihood result;
  result.log_likelihoods.resize(x.rows);
  result.variances.resize(x.rows);
  double acceptance = 0;
  for (std::size_t first = 0; first < x.rows; first += chunk) {
    const std::size_t rows = std::min(chunk, x.rows - first);
    const MatrixView<const float> xs{x.row(first), rows, x.cols};
    const HmcChains<float> chains{{z.data(), rows, d}, log_joint.data(), {grad.data(), rows, d}, step.data(),
                                  id.data()};
    for (std::size_t c = 0; c < rows; ++c) {
      id[c] = first + c;
      step[c] = options.initial_step_size;
    }
    start_chains(engine, xs, id.data(), options, draws, draw_log_joint, z.data());
    PosteriorTarget<float> target(engine, xs);
    target.log_density_grad(chains.z, log_joint.data(), chains.grad);
    // Burn-in: the step sizes adapt, and are then frozen at their geometric
    // mean over its second half. The last iterate of the noisy adaptation is
    // itself noisy: a chain frozen just after a few lucky acceptances may
    // reject nearly every later proposal (Hoffman & Gelman 2014, sec. 3.2,
    // freeze the averaged iterate for the same reason).
    std::fill_n(log_step_sum.begin(), rows, 0.0);
    for (std::size_t t = 0; t < options.burn_in; ++t) {
      hmc.transition(target, chains, options.seed, t, true);
      if (2 * t >= options.burn_in)
        for (std::size_t c = 0; c < rows; ++c) log_step_sum[c] += std::log(step[c]);
    }
    const std::size_t averaged = options.burn_in - (options.burn_in + 1) / 2;
    if (averaged > 0)
      for (std::size_t c = 0; c < rows; ++c) step[c] = std::exp(log_step_sum[c] / double(averaged));
    for (std::size_t s = 0; s < n; ++s) {
      hmc.transition(target, chains, options.seed, options.burn_in + s, false);
      for (std::size_t c = 0; c < rows; ++c) {
        std::copy_n(z.data() + c * d, d, recorded_z.data() + (c * n + s) * d);
        recorded_log_joint[c * n + s] = log_joint[c];
        acceptance += hmc.acceptance()[c];
      }
    }
    // Steps 2 and 3 per datapoint: independent, small and not GEMM-bound, so
    // split over the pool (each datapoint's sums are its own: any thread count
    // gives the same numbers).
    pool::for_ranges(rows, [&](std::size_t from, std::size_t to) {
      for (std::size_t c = from; c < to; ++c) {
        const PointEstimate e = app_d_estimate(recorded_z.data() + c * n * d, recorded_log_joint.data() + c * n, n, d);
        result.log_likelihoods[first + c] = e.log_likelihood;
        result.variances[first + c] = e.variance;
      }
    });
    if (progress) progress(first + rows, x.rows);
  }
  // The mean and its standard error over datapoints, as for importance
  // sampling (evaluation.cpp): the spread between datapoints includes each
  // estimate's own error, so this bounds that error's share from above.
  const double count = double(std::max<std::size_t>(x.rows, 1));
  double sum = 0, square = 0;
  for (double v : result.log_likelihoods) sum += v;
  result.mean = sum / count;
  for (double v : result.log_likelihoods) square += (v - result.mean) * (v - result.mean);
  result.stderr_ = x.rows > 1 ? std::sqrt(square / (count - 1) / count) : 0.0;
  result.acceptance = acceptance / (count * double(n));
  return result;
}

}  // namespace aevb
