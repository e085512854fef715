#pragma once
// Full variational Bayes over the decoder's parameters (Kingma & Welling
// 2013, App. F): q(theta) = N(mu, diag sigma^2) with sigma = exp(log sigma),
// prior p(theta) = N(0, I), reparameterized as theta = mu + sigma * zeta
// (eq. 20, F.1). Flat buffers of n values, one per decoder parameter.
#include <cstddef>

namespace aevb {

/// theta = mu + exp(log_sigma) * zeta.
template <class T>
void sample_weights(const T* mu, const T* log_sigma, const T* zeta, std::size_t n, T* theta);

/// Values per block of weight_posterior_grad's KL sums: the blocks' partial
/// sums, added in order, give the same KL on any thread count.
inline constexpr std::size_t kWeightKlBlock = 4096;
constexpr std::size_t weight_kl_blocks(std::size_t n) { return (n + kWeightKlBlock - 1) / kWeightKlBlock; }

/// From dL/dtheta in grad_mu (the decoder's gradient at theta = mu + sigma
/// zeta) to the gradients of L + kl_weight * KL in mu and log sigma:
///   dL/dmu = dL/dtheta + kl_weight * mu,
///   dL/dlog sigma = dL/dtheta * zeta * sigma + kl_weight * (sigma^2 - 1),
/// where KL(q(theta) || p(theta)) = sum_i (sigma_i^2 + mu_i^2 - 1) / 2 - log sigma_i
/// (eq. 24's theta terms, with a loss's sign); returns that KL, summed in the
/// same pass (block_sums: weight_kl_blocks(n) values of scratch).
template <class T>
double weight_posterior_grad(const T* mu, const T* log_sigma, const T* zeta, std::size_t n, T kl_weight, T* grad_mu,
                             T* grad_log_sigma, double* block_sums);

}  // namespace aevb
