#pragma once
// The diagonal-Gaussian posterior q(z|x) = N(mu, diag(sigma^2)) (App. C.2),
// its reparameterized samples z = mu + sigma * eps (sec. 2.4), and the
// standard-normal prior p(z) = N(0, I). One pass computes z, log q(z|x),
// log p(z) and the analytic KL(q || p) of App. B; one pass takes them back.
#include "prob/latent_terms.hpp"

#include <aevb/matrix.hpp>

namespace aevb {

/// head: [M, 2*Nz] (mu | log sigma^2), eps: [M*S, Nz], row m*S + s. Fills z,
///   log q(z|x) = sum_j -1/2 (log 2pi + logvar_j + eps_j^2),
///   log p(z)   = sum_j -1/2 (log 2pi + z_j^2),
///   KL         = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)).
template <class T>
void reparameterize(MatrixView<const T> head, std::size_t samples, const T* eps, const PosteriorSample<T>& out);

/// dhead [M, 2*Nz] = dL/d(mu | log sigma^2), given the forward's eps and z.
template <class T>
void reparameterize_backward(MatrixView<const T> head, std::size_t samples, const T* eps, const T* z,
                             const PosteriorGrad<T>& grad, MatrixView<T> dhead);

/// log q(z|x) of given points z [M*S, Nz] (row m*S + s, not drawn through
/// eps: the sleep phase's dreams, wake phases' held samples), into log_q
/// unless it is null; and when dhead.data is set, dhead [M, 2*Nz] = sum_s
/// weight[ms] d log q(z_ms|x_m) / d(mu | log sigma^2), z held constant:
///   d/dmu = (z - mu) / sigma^2,  d/dlogvar = ((z - mu)^2 / sigma^2 - 1) / 2.
template <class T>
void gaussian_log_density(MatrixView<const T> head, std::size_t samples, const T* z, T* log_q, const T* weight,
                          MatrixView<T> dhead);

/// The head [M, 2*Nz] (mu | log sigma^2) into mean and log_variance [M, Nz]
/// each (what encode returns); a view whose data is null is skipped.
template <class T>
void split_gaussian_head(MatrixView<const T> head, MatrixView<T> mean, MatrixView<T> log_variance);

/// The prior at given z [n, Nz] (not a draw of q): log_prior[r] += sum_j
/// -1/2 (log 2pi + z_j^2) and dz[r] += -z_r, the prior's share of
/// log p(x, z) and of its z-gradient (the HMC target of App. D and E); the
/// values only when dz.data is null.
template <class T>
void add_standard_normal_log_density(MatrixView<const T> z, T* log_prior, MatrixView<T> dz);

}  // namespace aevb
