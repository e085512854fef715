#include "eval/hmc_likelihood.hpp"

#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"
#include "model/engine.hpp"
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

}  // namespace

void validate(const HmcLikelihoodOptions& options) {
  validate(options, "the App. D estimator");
  if (options.samples < 4) {
    std::string message = "the App. D estimator needs at least 4 samples per datapoint, found ";
    message += std::to_string(options.samples);
    throw InputError(message);
  }
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
                                 const HmcProgress& progress, Communicator* ranks) {
  validate(options);
  if (!model.has_prior())
    throw InputError("the App. D estimator needs a prior p(z); the " + model.config().family + " family has none");
  // An engine of its own: the model stays const, and the workspace is this
  // estimator's chunk of chains.
  Engine<float> engine(model.config());
  std::copy(model.parameters().begin(), model.parameters().end(), engine.params());
  const std::size_t d = model.config().latent, n = options.samples, chunk = std::min(kChunk, x.rows);
  PosteriorChains chains(engine, options, chunk);
  std::vector<double> recorded_z(chunk * n * d), recorded_log_joint(chunk * n);

  // This rank's chunks of chains first, in parallel with the other ranks;
  // then they are passed on, in rank order, in one vector: [log p^(x) per
  // row | variance per row | the acceptance sum], each rank writing its rows
  // and adding its acceptances in the order one process adds them.
  Communicator& c = ranks_or_alone(ranks);
  const std::pair<std::size_t, std::size_t> own = rows_of_rank(c.rank(), c.size(), x.rows, kChunk);
  std::vector<double> carried(2 * x.rows + 1, 0.0), acceptances;
  double* log_likelihoods = carried.data();
  double* variances = carried.data() + x.rows;
  for (std::size_t first = own.first; first < own.second; first += chunk) {
    const std::size_t rows = std::min(chunk, x.rows - first);
    chains.start({x.row(first), rows, x.cols}, first);
    for (std::size_t s = 0; s < n; ++s) {
      chains.advance(s);
      for (std::size_t r = 0; r < rows; ++r) {
        std::copy_n(chains.z().row(r), d, recorded_z.data() + (r * n + s) * d);
        recorded_log_joint[r * n + s] = chains.log_joint()[r];
        acceptances.push_back(chains.acceptance()[r]);
      }
    }
    // Steps 2 and 3 per datapoint: independent, small and not GEMM-bound, so
    // split over the pool (each datapoint's sums are its own: any thread count
    // gives the same numbers).
    pool::for_ranges(rows, [&](std::size_t from, std::size_t to) {
      for (std::size_t r = from; r < to; ++r) {
        const PointEstimate e = app_d_estimate(recorded_z.data() + r * n * d, recorded_log_joint.data() + r * n, n, d);
        log_likelihoods[first + r] = e.log_likelihood;
        variances[first + r] = e.variance;
      }
    });
    if (progress) progress(first + rows - own.first, own.second - own.first);
  }
  const std::vector<double> mine(carried.begin(), carried.end() - 1);
  ordered_sum(c, {}, carried, [&] {
    for (std::size_t r = own.first; r < own.second; ++r) {
      carried[r] = mine[r];
      carried[x.rows + r] = mine[x.rows + r];
    }
    for (double a : acceptances) carried.back() += a;
  });
  HmcLikelihood result;
  result.log_likelihoods.assign(log_likelihoods, log_likelihoods + x.rows);
  result.variances.assign(variances, variances + x.rows);
  // The mean and its standard error over datapoints, as for importance
  // sampling (evaluation.cpp): the spread between datapoints includes each
  // estimate's own error, so this bounds that error's share from above.
  const double count = double(std::max<std::size_t>(x.rows, 1));
  double sum = 0, square = 0;
  for (double v : result.log_likelihoods) sum += v;
  result.mean = sum / count;
  for (double v : result.log_likelihoods) square += (v - result.mean) * (v - result.mean);
  result.stderr_ = x.rows > 1 ? std::sqrt(square / (count - 1) / count) : 0.0;
  result.acceptance = carried.back() / (count * double(n));
  return result;
}

}  // namespace aevb
