#pragma once
// How regular a model's latent space is: whether sampling z ~ N(0, I) and
// decoding gives images like the data, the property a VAE's KL term buys and
// a plain autoencoder lacks (docs/paper.md, "The seed demonstrations").
// Two measures, both defined for every family with an encoder:
//   - the codes' distance from N(0, I): the aggregate posterior
//     q(z) = (1/N) sum_n q(z|x_n) (for the autoencoder, its point codes)
//     matched by a Gaussian N(m, S) with the same mean and covariance, and
//     KL(N(m, S) || N(0, I)) = (tr S + m'm - d - log det S) / 2;
//   - the decoded prior draws' distance to the data: each decoded z ~ N(0, I)
//     to its nearest reference image, against the same for the decoded
//     posterior means of held-out images (both decoder outputs, so equally
//     blurred). A ratio near 1: prior samples look like the data's own codes
//     decoded; far above 1: the prior puts its mass where no data is coded.
#include <aevb/vae.hpp>

#include <cstdint>

namespace aevb {

struct RegularityOptions {
  std::size_t prior_samples = 1000;  // decoded N(0, I) draws, and at most this many held-out images
  std::uint64_t seed = 1;            // of the prior draws (Vae::decode_standard_normal)
};

struct LatentRegularity {
  double code_kl_to_prior = 0;       // nats, KL(N(m, S) || N(0, I)) over all rows of x
  double reconstruction_mse = 0;     // per dimension: held-out images against their decoded posterior means
  double reconstruction_nn_mse = 0;  // per dimension: those decoded means to their nearest reference image
  double prior_sample_nn_mse = 0;    // per dimension: decoded N(0, I) draws to their nearest reference image
  std::size_t reference_rows = 0, held_out_rows = 0, prior_samples = 0;
  /// prior_sample_nn_mse / reconstruction_nn_mse.
  double nn_ratio() const { return prior_sample_nn_mse / reconstruction_nn_mse; }
};

/// The first half of x's rows (rounded up) are the reference images, the
/// rest (at most prior_samples of them) held out. S gets 1e-6 I added, so
/// that codes in a subspace (dead dimensions of an autoencoder) give a large
/// finite KL rather than infinity. InputError for a model without an encoder
/// (decoder-only), fewer than 2 rows, or prior_samples = 0.
LatentRegularity latent_regularity(const Vae& model, ConstMatrix x, const RegularityOptions& options = {});

/// Per query row, min over reference rows of ||q - r||^2 / dim (products on
/// the backend's GEMM, the reference taken in blocks).
std::vector<double> nearest_neighbour_mse(ConstMatrix queries, ConstMatrix reference);

}  // namespace aevb
