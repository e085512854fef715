#pragma once
// The families the registry knows, each in its own file.
#include "model/latent_space.hpp"

namespace aevb {

template <class T>
std::unique_ptr<LatentSpace<T>> make_gaussian_latent(const ModelConfig& config);  // family_vae.cpp
template <class T>
std::unique_ptr<LatentSpace<T>> make_point_latent(const ModelConfig& config);  // family_autoencoder.cpp
template <class T>
std::unique_ptr<LatentSpace<T>> make_two_layer_latent(const ModelConfig& config);  // family_two_layer.cpp
template <class T>
std::unique_ptr<LatentSpace<T>> make_cluster_latent(const ModelConfig& config);  // family_cluster.cpp
template <class T>
std::unique_ptr<LatentSpace<T>> make_mixture_latent(const ModelConfig& config);  // family_vade.cpp
template <class T>
std::unique_ptr<LatentSpace<T>> make_codebook_latent(const ModelConfig& config);  // family_vq.cpp

}  // namespace aevb
