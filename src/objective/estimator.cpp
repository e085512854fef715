#include "objective/estimator.hpp"

#include <cmath>

namespace aevb {

template <class T>
T constant_likelihood_weight(const ObjectiveConfig& objective, std::size_t rows) {
  if (objective.estimator == Estimator::iw) return T(0);
  return T(-1.0 / (double(rows) * double(objective.samples)));
}

template <class T>
Bound combine(const ObjectiveConfig& objective, std::size_t rows, const ObjectiveTerms<T>& terms,
              const ObjectiveWeights<T>* weights) {
  const std::size_t s_count = objective.samples;
  const double inv_s = 1.0 / double(s_count), inv_m = 1.0 / double(rows);
  const double beta = objective.beta;
  double bound = 0, recon = 0, kl = 0;
  // log w = log p(x|z) + log p(z) - log q(z|x): the importance weight of L_k.
  auto log_weight = [&](std::size_t r) {
    return double(terms.log_lik[r]) + double(terms.log_prior[r]) - double(terms.log_q[r]);
  };
  for (std::size_t m = 0; m < rows; ++m) {
    double recon_m = 0, mc_kl_m = 0;
    for (std::size_t s = 0; s < s_count; ++s) {
      const std::size_t r = m * s_count + s;
      recon_m += terms.log_lik[r];
      mc_kl_m += double(terms.log_q[r]) - double(terms.log_prior[r]);
    }
    recon_m *= inv_s;
    mc_kl_m *= inv_s;
    const double kl_m = objective.estimator == Estimator::B ? double(terms.kl[m]) : mc_kl_m;
    double bound_m = recon_m - kl_m;
    double top = 0, norm = 0;
    if (objective.estimator == Estimator::iw) {
      top = -INFINITY;
      for (std::size_t s = 0; s < s_count; ++s) top = std::max(top, log_weight(m * s_count + s));
      for (std::size_t s = 0; s < s_count; ++s) norm += std::exp(log_weight(m * s_count + s) - top);
      bound_m = top + std::log(norm) - std::log(double(s_count));
    }
    bound += bound_m;
    recon += recon_m;
    kl += kl_m;
    if (!weights) continue;
    weights->kl[m] = objective.estimator == Estimator::B ? T(beta * inv_m) : T(0);
    for (std::size_t s = 0; s < s_count; ++s) {
      const std::size_t r = m * s_count + s;
      switch (objective.estimator) {
        case Estimator::A:
          weights->lik[r] = constant_likelihood_weight<T>(objective, rows);
          weights->prior[r] = T(-inv_m * inv_s * beta);
          break;
        case Estimator::B:
          weights->lik[r] = constant_likelihood_weight<T>(objective, rows);
          weights->prior[r] = T(0);
          break;
        case Estimator::iw: {
          // d L_k / d log w_s = normalized importance weight (softmax over s).
          const double w = std::exp(log_weight(r) - top) / norm;
          weights->lik[r] = weights->prior[r] = T(-inv_m * w);
          break;
        }
      }
    }
  }
  return {bound * inv_m, recon * inv_m, kl * inv_m};
}

template float constant_likelihood_weight<float>(const ObjectiveConfig&, std::size_t);
template double constant_likelihood_weight<double>(const ObjectiveConfig&, std::size_t);
template Bound combine<float>(const ObjectiveConfig&, std::size_t, const ObjectiveTerms<float>&,
                              const ObjectiveWeights<float>*);
template Bound combine<double>(const ObjectiveConfig&, std::size_t, const ObjectiveTerms<double>&,
                               const ObjectiveWeights<double>*);

}  // namespace aevb
