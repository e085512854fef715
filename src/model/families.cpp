// The registry of model families: adding one is a file with its latent space
// and a row here (docs/extending.md).
#include "model/families.hpp"

#include <aevb/error.hpp>

#include <array>
#include <string>

namespace aevb {
namespace {

const std::array<FamilyInfo, 7> kFamilies{{
    {.name = "vae",
     .summary = "the paper's VAE: Gaussian q(z|x), prior N(0, I), analytic KL",
     .make_float = &make_gaussian_latent<float>,
     .make_double = &make_gaussian_latent<double>},
    {.name = "vae-2layer",
     .summary = "two stochastic layers (Burda et al. 2015): q(z1|x) q(z2|z1), p(z2) p(z1|z2) p(x|z1)",
     .stochastic_layers = 2,
     .make_float = &make_two_layer_latent<float>,
     .make_double = &make_two_layer_latent<double>},
    {.name = "cluster",
     .summary = "the clustering VAE: clusters y, p(z|y) = N(m_y, I), a classifier q(y|z), sums over y exact",
     .clusters = true,
     .classifier = true,
     .make_float = &make_cluster_latent<float>,
     .make_double = &make_cluster_latent<double>},
    {.name = "vade",
     .summary = "VaDE (Jiang et al. 2017): a Gaussian-mixture prior with learned weights, means and variances, "
                "p(c|z) from the mixture",
     .clusters = true,
     .mixture_start = true,
     .make_float = &make_mixture_latent<float>,
     .make_double = &make_mixture_latent<double>},
    {.name = "cvae",
     .summary = "the conditional VAE: q(z|x, y) and p(x|z, y) given the label y, prior N(0, I), analytic KL",
     .conditional = true,
     .make_float = &make_gaussian_latent<float>,
     .make_double = &make_gaussian_latent<double>},
    {.name = "vq",
     .summary = "VQ-VAE (van den Oord et al. 2017): a grid of codes from a learned codebook, straight-through gradients",
     .codebook = true,
     .make_float = &make_codebook_latent<float>,
     .make_double = &make_codebook_latent<double>},
    {.name = "autoencoder",
     .summary = "a deterministic autoencoder: a point z, no prior, reconstruction loss only",
     .has_prior = false,
     .make_float = &make_point_latent<float>,
     .make_double = &make_point_latent<double>},
}};

}  // namespace

std::span<const FamilyInfo> families() { return kFamilies; }

const FamilyInfo& find_family(std::string_view name) {
  std::string names;
  for (const FamilyInfo& f : kFamilies) {
    if (f.name == name) return f;
    names += (names.empty() ? "" : ", ") + std::string(f.name);
  }
  throw InputError("model family: expected one of " + names + ", found '" + std::string(name) + "'");
}

template <>
std::unique_ptr<LatentSpace<float>> make_latent_space<float>(const ModelConfig& config) {
  return find_family(config.family).make_float(config);
}
template <>
std::unique_ptr<LatentSpace<double>> make_latent_space<double>(const ModelConfig& config) {
  return find_family(config.family).make_double(config);
}

}  // namespace aevb
