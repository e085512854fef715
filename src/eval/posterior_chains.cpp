#include "eval/posterior_chains.hpp"

#include "core/rng.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>

namespace aevb {
namespace {

// Each chain starts at the best of K draws from the prior by log p(x, z),
// from its own stream: the decoder alone picks it, so every model (with or
// without a trained encoder: AEVB, wake-sleep, MCEM) is treated the same
// way, and the chain starts in the basin of the posterior's main mode. The
// authors' code starts at one prior draw; on an MNIST model, with 100
// burn-in transitions, that left about 1 chain in 10 in a minor mode, up to
// 130 nats below (docs/paper.md). Datapoints in groups of at most
// kStartDraws draws.
constexpr std::size_t kStartDraws = 8192;

}  // namespace

void validate(const PosteriorChainOptions& options, const std::string& who) {
  validate(options.hmc);
  if (options.start_draws < 1) throw InputError(who + " needs at least 1 prior draw to start a chain");
  if (!(options.initial_step_size > 0) || !std::isfinite(options.initial_step_size))
    throw InputError(who + " needs a positive initial HMC step size");
}

PosteriorChains::PosteriorChains(Engine<float>& engine, const PosteriorChainOptions& options, std::size_t chunk)
    : engine_(engine),
      options_(options),
      dim_(engine.config().latent),
      hmc_(dim_, options.hmc),
      z_(chunk * dim_),
      grad_(chunk * dim_),
      log_joint_(chunk),
      step_(chunk),
      log_step_sum_(chunk),
      id_(chunk) {
  hmc_.plan(chunk);
}

void PosteriorChains::place_at_best_prior_draw(MatrixView<const float> x, const Observation& observation) {
  const std::size_t k = options_.start_draws, d = dim_;
  const std::size_t group = std::max<std::size_t>(1, kStartDraws / k);
  draws_.resize(std::min(group, x.rows) * k * d);
  draw_log_joint_.resize(std::min(group, x.rows) * k);
  for (std::size_t first = 0; first < x.rows; first += group) {
    const std::size_t rows = std::min(group, x.rows - first);
    for (std::size_t c = 0; c < rows; ++c)
      fill_normal(draws_.data() + c * k * d, k * d, options_.seed, hmc_stream(id_[first + c], HmcDraw::start));
    // The group's rows of the observation: its mask rows start with datapoint `first`.
    Observation group_observation = observation;
    if (observation.seen) group_observation.seen = observation.seen + first * x.cols;
    engine_.log_joint_grad({x.row(first), rows, x.cols}, {draws_.data(), rows * k, d}, k, draw_log_joint_.data(),
                           MatrixView<float>{}, group_observation);
    for (std::size_t c = 0; c < rows; ++c) {
      const auto begin = draw_log_joint_.begin() + std::ptrdiff_t(c * k);
      const std::size_t best =
          std::size_t(std::max_element(begin, begin + std::ptrdiff_t(k)) - draw_log_joint_.begin());
      std::copy_n(draws_.data() + best * d, d, z_.data() + (first + c) * d);
    }
  }
}

void PosteriorChains::start(MatrixView<const float> x, std::uint64_t first, const Observation& observation) {
  rows_ = x.rows;
  for (std::size_t c = 0; c < rows_; ++c) {
    id_[c] = first + c;
    step_[c] = options_.initial_step_size;
  }
  place_at_best_prior_draw(x, observation);
  target_.emplace(engine_, x, observation);
  const HmcChains<float> chains{{z_.data(), rows_, dim_}, log_joint_.data(), {grad_.data(), rows_, dim_},
                                step_.data(), id_.data()};
  target_->log_density_grad(chains.z, log_joint_.data(), chains.grad);
  // Burn-in: the step sizes adapt, and are then frozen at their geometric
  // mean over its second half. The last iterate of the noisy adaptation is
  // itself noisy: a chain frozen just after a few lucky acceptances may
  // reject nearly every later proposal (Hoffman & Gelman 2014, sec. 3.2,
  // freeze the averaged iterate for the same reason).
  std::fill_n(log_step_sum_.begin(), rows_, 0.0);
  for (std::size_t t = 0; t < options_.burn_in; ++t) {
    hmc_.transition(*target_, chains, options_.seed, t, true);
    if (2 * t >= options_.burn_in)
      for (std::size_t c = 0; c < rows_; ++c) log_step_sum_[c] += std::log(step_[c]);
  }
  const std::size_t averaged = options_.burn_in - (options_.burn_in + 1) / 2;
  if (averaged > 0)
    for (std::size_t c = 0; c < rows_; ++c) step_[c] = std::exp(log_step_sum_[c] / double(averaged));
}

void PosteriorChains::advance(std::size_t s) {
  const HmcChains<float> chains{{z_.data(), rows_, dim_}, log_joint_.data(), {grad_.data(), rows_, dim_},
                                step_.data(), id_.data()};
  hmc_.transition(*target_, chains, options_.seed, options_.burn_in + s, false);
}

}  // namespace aevb
