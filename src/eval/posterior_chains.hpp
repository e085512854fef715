#pragma once
// HMC chains on the posterior p(z|x) of a chunk of datapoints, started and
// settled as the App. D estimator (hmc_likelihood.hpp) and inpainting
// (inpaint.hpp) both need: one chain per datapoint, started at the best of
// K prior draws, burned in while the step sizes adapt, then a fixed kernel
// whose states the caller records. With an Observation the chains sample
// p(z | the values seen) instead. Noise is keyed by (seed, datapoint index)
// through hmc_stream, so no result depends on the chunking or the threads.
#include "model/engine.hpp"
#include "model/posterior_target.hpp"
#include "prob/hmc.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aevb {

struct PosteriorChainOptions {
  std::size_t burn_in = 100;  // transitions before the recorded ones, the only ones that adapt the step sizes
  std::size_t start_draws = 1000;  // K: each chain starts at the best of K prior draws by log p(x, z)
  double initial_step_size = 0.1;
  HmcOptions hmc;  // leapfrog steps (4, App. E), target acceptance, adaptation rate, rule
  std::uint64_t seed = 1;
};
/// Throws InputError, its message starting with `who` ("the App. D
/// estimator"), for K = 0, an initial step size that is not positive, or
/// invalid HMC options.
void validate(const PosteriorChainOptions& options, const std::string& who);

class PosteriorChains {
 public:
  /// Chains of `engine`'s posterior for up to `chunk` datapoints at a time;
  /// `engine` must outlive them.
  PosteriorChains(Engine<float>& engine, const PosteriorChainOptions& options, std::size_t chunk);

  /// One chain per row of x (at most `chunk`), chain c keyed by datapoint
  /// index first + c, its target log p(x_c, z) as `observation` sees x_c:
  /// placed at the best of K prior draws, then burned in. x and
  /// observation.seen must stay until the next start().
  void start(MatrixView<const float> x, std::uint64_t first, const Observation& observation = {});
  /// Recorded transition number s = 0, 1, ... after the burn-in, step sizes frozen.
  void advance(std::size_t s);

  MatrixView<const float> z() const { return {z_.data(), rows_, dim_}; }
  const float* log_joint() const { return log_joint_.data(); }  // log p(x_c, z_c), as the observation sees x_c
  const double* acceptance() const { return hmc_.acceptance(); }  // of each chain's last transition

 private:
  void place_at_best_prior_draw(MatrixView<const float> x, const Observation& observation);

  Engine<float>& engine_;
  PosteriorChainOptions options_;
  std::size_t dim_, rows_ = 0;
  Hmc<float> hmc_;
  std::optional<PosteriorTarget<float>> target_;
  std::vector<float> z_, grad_, log_joint_;
  std::vector<double> step_, log_step_sum_;
  std::vector<std::uint64_t> id_;
  std::vector<float> draws_, draw_log_joint_;  // the prior draws that pick the starts
};

}  // namespace aevb
