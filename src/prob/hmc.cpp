#include "prob/hmc.hpp"

#include <aevb/error.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace aevb {
namespace {

template <class T>
double half_square_norm(const T* p, std::size_t n) {
  double s = 0;
  for (std::size_t j = 0; j < n; ++j) s += double(p[j]) * p[j];
  return 0.5 * s;
}

// p += e * g per chain, chain c's e = scale * step[c].
template <class T>
void momentum_step(T* p, const T* g, const double* step, double scale, std::size_t chains, std::size_t dim) {
  for (std::size_t c = 0; c < chains; ++c) {
    const T e = static_cast<T>(scale * step[c]);
    for (std::size_t j = 0; j < dim; ++j) p[c * dim + j] += e * g[c * dim + j];
  }
}

}  // namespace

void validate(const HmcOptions& options) {
  if (options.leapfrog_steps < 1) throw InputError("HMC: expected at least 1 leapfrog step, found 0");
  if (!(options.target_acceptance > 0 && options.target_acceptance < 1)) {
    std::string message = "HMC: expected a target acceptance rate in (0, 1), found ";
    message += std::to_string(options.target_acceptance);
    throw InputError(message);
  }
  if (!(options.adaptation_rate >= 0)) {
    std::string message = "HMC: expected a step-size adaptation rate >= 0, found ";
    message += std::to_string(options.adaptation_rate);
    throw InputError(message);
  }
}

template <class T>
Hmc<T>::Hmc(std::size_t dim, const HmcOptions& options) : dim_(dim), options_(options) {
  validate(options_);
}

template <class T>
void Hmc<T>::plan(std::size_t chains) {
  if (chains <= planned_) return;
  for (auto* per_value : {&momentum_, &z_, &grad_}) per_value->assign(chains * dim_, T(0));
  log_density_.assign(chains, T(0));
  start_energy_.assign(chains, 0.0);
  acceptance_.assign(chains, 0.0);
  uniform_.assign(chains, 0.0f);
  planned_ = chains;
}

template <class T>
void Hmc<T>::transition(HmcTarget<T>& target, const HmcChains<T>& chains, std::uint64_t seed, std::uint64_t index,
                        bool adapt) {
  const std::size_t n = chains.z.rows, d = dim_, values = n * d;
  plan(n);
  T* p = momentum_.data();
  T* z = z_.data();
  T* g = grad_.data();
  // Momenta p ~ N(0, I) and the Metropolis uniforms, from each chain's own streams.
  for (std::size_t c = 0; c < n; ++c) {
    fill_normal(p + c * d, d, seed, hmc_stream(chains.id[c], HmcDraw::momentum, options_.streams), index * d);
    fill_uniform(&uniform_[c], 1, seed, hmc_stream(chains.id[c], HmcDraw::accept, options_.streams), index);
    start_energy_[c] = -double(chains.log_density[c]) + half_square_norm(p + c * d, d);
  }
  // Leapfrog: a half momentum step, then L (position, momentum) steps whose
  // last momentum step is a half one. grad holds d log pi / dz = -dU/dz.
  std::copy_n(chains.z.data, values, z);
  momentum_step(p, chains.grad.data, chains.step_size, 0.5, n, d);
  const std::size_t steps = options_.leapfrog_steps;
  for (std::size_t l = 1; l <= steps; ++l) {
    momentum_step(z, p, chains.step_size, 1.0, n, d);
    target.log_density_grad({z, n, d}, log_density_.data(), {g, n, d});
    momentum_step(p, g, chains.step_size, l < steps ? 1.0 : 0.5, n, d);
  }
  // Metropolis: accept with probability min(1, exp(H0 - H1)).
  double mean_acceptance = 0;
  for (std::size_t c = 0; c < n; ++c) {
    const double proposal = double(log_density_[c]);
    const double log_ratio = start_energy_[c] - (-proposal + half_square_norm(p + c * d, d));
    const double a = std::isfinite(proposal) && !std::isnan(log_ratio) ? std::min(1.0, std::exp(log_ratio)) : 0.0;
    acceptance_[c] = a;
    mean_acceptance += a / double(n);
    if (double(uniform_[c]) < a) {  // u in [0, 1): a = 1 always accepts, a = 0 never
      std::copy_n(z + c * d, d, chains.z.row(c));
      std::copy_n(g + c * d, d, chains.grad.row(c));
      chains.log_density[c] = log_density_[c];
    }
  }
  if (!adapt) return;
  const double rate = options_.adaptation_rate, target_rate = options_.target_acceptance;
  for (std::size_t c = 0; c < n; ++c) {
    const double a = options_.rule == StepSizeRule::per_chain ? acceptance_[c] : mean_acceptance;
    chains.step_size[c] *= std::exp(rate * (a - target_rate));
  }
}

template class Hmc<float>;
template class Hmc<double>;

}  // namespace aevb
