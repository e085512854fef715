#pragma once
// What a latent space's forward pass hands the objective, and what the
// objective hands back: the per-sample and per-datapoint terms of a draw
// z ~ q(z|x) and the loss's dependence on them. Shared by every family
// (src/model/latent_space.hpp).
#include <cstddef>

namespace aevb {

/// Per-sample and per-datapoint values of a draw, S per datapoint, row m*S + s.
template <class T>
struct PosteriorSample {
  T* z;          // [M*S, Nz]
  T* log_q;      // [M*S]  log q(z|x)
  T* log_prior;  // [M*S]  log p(z)
  T* kl;         // [M]    KL(q(z|x) || p(z)), analytic where the family has it
};

/// How the loss depends on the posterior's outputs.
template <class T>
struct PosteriorGrad {
  const T* dz;            // [M*S, Nz] dL/dz through the decoder
  const T* prior_weight;  // [M*S] dL/d(log p(z) - log q(z|x)), or null
  const T* kl_weight;     // [M] dL/dKL, or null
};

}  // namespace aevb
