// The registry of model families: adding one is a file with its latent space
// and a row here (docs/extending.md).
#include "model/families.hpp"

#include <aevb/error.hpp>

#include <array>
#include <string>

namespace aevb {
namespace {

const std::array<FamilyInfo, 4> kFamilies{{
    {"vae", "the paper's VAE: Gaussian q(z|x), prior N(0, I), analytic KL", true, 1, false,
     &make_gaussian_latent<float>, &make_gaussian_latent<double>},
    {"vae-2layer", "two stochastic layers (Burda et al. 2015): q(z1|x) q(z2|z1), p(z2) p(z1|z2) p(x|z1)", true, 2,
     false, &make_two_layer_latent<float>, &make_two_layer_latent<double>},
    {"cluster", "the clustering VAE: clusters y, p(z|y) = N(m_y, I), a classifier q(y|z), sums over y exact", true, 1,
     true, &make_cluster_latent<float>, &make_cluster_latent<double>},
    {"autoencoder", "a deterministic autoencoder: a point z, no prior, reconstruction loss only", false, 1, false,
     &make_point_latent<float>, &make_point_latent<double>},
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
