#pragma once
// The SGVB estimators and the importance-weighted bound, from the per-sample
// terms the posterior and the likelihood computed (M datapoints, S samples):
//   A  (eq. 6):  1/S sum_s [log p(x|z_s) + beta (log p(z_s) - log q(z_s|x))]
//   B  (eq. 7):  1/S sum_s log p(x|z_s) - beta KL(q(z|x) || p(z))   (App. B)
//   iw (L_k):    log 1/S sum_s exp(log p(x|z_s) + log p(z_s) - log q(z_s|x))
// The training loss is -(1/M) sum_m objective_m: eq. 8 divided by N, so the
// values are per datapoint. combine() also returns how the loss depends on
// each term, which the backward pass pushes through the networks.
#include <aevb/config.hpp>

#include <cstddef>

namespace aevb {

template <class T>
struct ObjectiveTerms {
  const T* log_lik;    // [M*S] log p(x_m | z_ms)
  const T* log_prior;  // [M*S] log p(z_ms)
  const T* log_q;      // [M*S] log q(z_ms | x_m)
  const T* kl;         // [M]   analytic KL(q(z|x_m) || p(z))
};

template <class T>
struct ObjectiveWeights {
  T* lik;    // [M*S] dL/d log p(x|z)
  T* prior;  // [M*S] dL/d (log p(z) - log q(z|x))
  T* kl;     // [M]   dL/d KL
};

/// dL/d log p(x|z), when it is the same for every sample and known before
/// the likelihood is computed (A and B: -1/(M S)), so that one fused pass can
/// compute the likelihood and its gradient; 0 for iw, where it depends on them.
template <class T>
T constant_likelihood_weight(const ObjectiveConfig& objective, std::size_t rows);

/// Per-datapoint averages of the bound, reconstruction and KL (see Bound).
/// Fills `weights` unless it is null.
template <class T>
Bound combine(const ObjectiveConfig& objective, std::size_t rows, const ObjectiveTerms<T>& terms,
              const ObjectiveWeights<T>* weights);

}  // namespace aevb
