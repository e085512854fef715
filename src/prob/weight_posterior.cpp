#include "prob/weight_posterior.hpp"

#include "core/scalar_math.hpp"
#include "core/thread_pool.hpp"

#include <algorithm>
#include <cmath>

namespace aevb {

template <class T>
void sample_weights(const T* mu, const T* log_sigma, const T* zeta, std::size_t n, T* theta) {
  pool::for_ranges(
      n,
      [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) theta[i] = mu[i] + std::exp(log_sigma[i]) * zeta[i];
      },
      n >= kParallelElements);
}

template <class T>
double weight_posterior_grad(const T* mu, const T* log_sigma, const T* zeta, std::size_t n, T kl_weight, T* grad_mu,
                             T* grad_log_sigma, double* block_sums) {
  const std::size_t blocks = weight_kl_blocks(n);
  pool::for_ranges(
      blocks,
      [&](std::size_t first_block, std::size_t last_block) {
        for (std::size_t b = first_block; b < last_block; ++b) {
          double kl = 0;
          for (std::size_t i = b * kWeightKlBlock, end = std::min(n, i + kWeightKlBlock); i < end; ++i) {
            const T sigma = std::exp(log_sigma[i]), g = grad_mu[i];
            kl += 0.5 * (double(sigma) * sigma + double(mu[i]) * mu[i] - 1) - log_sigma[i];
            grad_log_sigma[i] = g * zeta[i] * sigma + kl_weight * (sigma * sigma - T(1));
            grad_mu[i] = g + kl_weight * mu[i];
          }
          block_sums[b] = kl;
        }
      },
      n >= kParallelElements);
  double kl = 0;
  for (std::size_t b = 0; b < blocks; ++b) kl += block_sums[b];
  return kl;
}

template void sample_weights<float>(const float*, const float*, const float*, std::size_t, float*);
template void sample_weights<double>(const double*, const double*, const double*, std::size_t, double*);
template double weight_posterior_grad<float>(const float*, const float*, const float*, std::size_t, float, float*,
                                             float*, double*);
template double weight_posterior_grad<double>(const double*, const double*, const double*, std::size_t, double,
                                              double*, double*, double*);

}  // namespace aevb
