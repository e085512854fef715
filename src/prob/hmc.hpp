#pragma once
// Hamiltonian (hybrid) Monte Carlo over a batch of independent chains
// (Duane et al. 1987; Neal 2011, "MCMC using Hamiltonian dynamics"), as the
// paper uses it to sample p(z|x) for Monte Carlo EM (App. E) and for the
// marginal-likelihood estimator (App. D). Every chain is advanced at once, so
// each leapfrog step is one call of the target for the whole batch: for
// log p(x, z) that is one decoder forward and backward over all chains, a
// few GEMMs.
//
// One transition of a chain at z with step size e, potential U = -log pi:
//   p ~ N(0, I); H0 = U(z) + |p|^2 / 2
//   p -= e/2 grad U(z)                             (a half momentum step)
//   L times: z += e p; p -= e grad U(z), the last one a half step
//   accept (z, p) with probability min(1, exp(H0 - H1)) (Metropolis), else keep z.
// That is exactly L position updates and L gradient evaluations (the one at
// the start is the last accepted state's). The authors' code makes L + 1
// position updates for "L steps" (paper-baselines.md 2.2); here L means L.
//
// Step sizes adapt only when asked (during burn-in) and are frozen after, so
// the chain that is recorded is a fixed Markov kernel that leaves pi
// invariant. The rule is a Robbins-Monro step on the acceptance probability
// a = min(1, exp(H0 - H1)) of each transition:
//   log e += rate * (a - target)
// per chain (StepSizeRule::per_chain, the form of the authors' estimator,
// whose e *= exp(1.02 (2a - 1)) on the 0/1 outcome is rate 2.04, target
// 0.5), or one factor for all chains from their mean a
// (StepSizeRule::shared, as the authors' MCEM tunes one step size for the
// whole batch toward 90%). The authors' random signs on the step sizes are
// left out: with a symmetric momentum, -e is the same kernel as e.
//
// Noise: chain c's momenta and Metropolis uniforms are values of the
// counter-based streams hmc_stream(id[c], ...) at offsets given by the
// transition's index, so a chain's path depends on (seed, its id, its
// target) only, never on the batch it runs in or the thread count.
#include "core/rng.hpp"

#include <aevb/matrix.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace aevb {

/// What HMC samples: one log density (up to a constant) per chain.
template <class T>
class HmcTarget {
 public:
  virtual ~HmcTarget() = default;
  /// For positions z [chains, dim]: log_density[c] = log pi_c(z_c) and
  /// grad [chains, dim] = its gradient with respect to z_c.
  virtual void log_density_grad(MatrixView<const T> z, T* log_density, MatrixView<T> grad) = 0;
};

enum class StepSizeRule { per_chain, shared };

struct HmcOptions {
  std::size_t leapfrog_steps = 4;  // L, position updates per transition (App. E: 4 for the estimator, 10 for MCEM)
  double target_acceptance = 0.65;  // Neal 2011 sec. 4.4 (Beskos et al.): about optimal for HMC
  double adaptation_rate = 1.0;     // log e moves by rate * (a - target) per adapted transition
  StepSizeRule rule = StepSizeRule::per_chain;
  /// Whose streams the chains draw from (hmc_stream): MCEM's training chains
  /// keep apart from the evaluation's under the same seed.
  RngPurpose streams = RngPurpose::hmc;
};
/// Throws InputError unless L >= 1, 0 < target < 1 and rate >= 0.
void validate(const HmcOptions& options);

/// The draws of a chain's streams: its momenta, its Metropolis uniforms, and
/// one left for its owner (a starting point).
enum class HmcDraw : std::uint64_t { momentum = 0, accept = 1, start = 2 };
constexpr std::uint64_t hmc_stream(std::uint64_t chain_id, HmcDraw draw, RngPurpose purpose = RngPurpose::hmc) {
  return rng_stream(purpose, 4 * chain_id + static_cast<std::uint64_t>(draw));
}

/// A batch of chains as its owner keeps them between transitions (MCEM's
/// persistent chains live in its own arrays; the estimator's in a chunk).
/// log_density and grad must hold the target's values at z: after placing z,
/// and whenever the target changes (MCEM's parameter updates), the owner
/// calls target.log_density_grad(z, log_density, grad).
template <class T>
struct HmcChains {
  MatrixView<T> z;          // [chains, dim] positions
  T* log_density;           // [chains] log pi at z
  MatrixView<T> grad;       // [chains, dim] its gradient at z
  double* step_size;        // [chains], adapted in place
  const std::uint64_t* id;  // [chains] each chain's noise key (a datapoint's index)
};

template <class T>
class Hmc {
 public:
  Hmc(std::size_t dim, const HmcOptions& options);

  /// Sizes the scratch for up to `chains` chains (grows only); transition()
  /// calls it, and after the first call for a batch size never allocates.
  void plan(std::size_t chains);
  /// One transition of every chain in `chains`, with the momenta and
  /// uniforms number `index` of each chain's streams under `seed`. With
  /// `adapt`, the step sizes then move as options().rule says.
  void transition(HmcTarget<T>& target, const HmcChains<T>& chains, std::uint64_t seed, std::uint64_t index,
                  bool adapt);
  /// The acceptance probability min(1, exp(H0 - H1)) of each chain's last
  /// transition (0 where the proposal's density was not finite).
  const double* acceptance() const { return acceptance_.data(); }

 private:
  std::size_t dim_;
  HmcOptions options_;
  std::size_t planned_ = 0;
  std::vector<T> momentum_, z_, grad_, log_density_;  // the proposal's, [chains, dim] or [chains]
  std::vector<double> start_energy_, acceptance_;     // H0, a
  std::vector<float> uniform_;
};

}  // namespace aevb
