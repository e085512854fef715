#pragma once
// The diagonal-Gaussian posterior q(z|x) = N(mu, diag(sigma^2)) (App. C.2),
// its reparameterized samples z = mu + sigma * eps (sec. 2.4), and the
// standard-normal prior p(z) = N(0, I). One pass computes z, log q(z|x),
// log p(z) and the analytic KL(q || p) of App. B; one pass takes them back.
#include <aevb/matrix.hpp>

namespace aevb {

/// Per-sample and per-datapoint values of a reparameterized draw.
template <class T>
struct PosteriorSample {
  T* z;          // [M*S, Nz]
  T* log_q;      // [M*S]  log q(z|x) = sum_j -1/2 (log 2pi + logvar_j + eps_j^2)
  T* log_prior;  // [M*S]  log p(z)   = sum_j -1/2 (log 2pi + z_j^2)
  T* kl;         // [M]    KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))
};

/// head: [M, 2*Nz] (mu | log sigma^2), eps: [M*S, Nz], row m*S + s.
template <class T>
void reparameterize(MatrixView<const T> head, std::size_t samples, const T* eps, const PosteriorSample<T>& out);

/// How the loss depends on the posterior's outputs.
template <class T>
struct PosteriorGrad {
  const T* dz;            // [M*S, Nz] dL/dz through the decoder
  const T* prior_weight;  // [M*S] dL/d(log p(z) - log q(z|x)), or null
  const T* kl_weight;     // [M] dL/dKL, or null
};

/// dhead [M, 2*Nz] = dL/d(mu | log sigma^2), given the forward's eps and z.
template <class T>
void reparameterize_backward(MatrixView<const T> head, std::size_t samples, const T* eps, const T* z,
                             const PosteriorGrad<T>& grad, MatrixView<T> dhead);

}  // namespace aevb
