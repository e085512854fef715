#pragma once
// From a ModelConfig's declared layers to the encoder and decoder networks:
// the `hidden` shorthand, the mirrored decoder, shape inference with errors
// that name the layer, PyTorch's parameter names (docs/architectures.md).
#include "model/latent_space.hpp"
#include "nn/network.hpp"

#include <aevb/config.hpp>
#include <aevb/vae.hpp>

#include <vector>

namespace aevb {

/// The likelihood's names for the decoder's output layer (docs/model-format.md):
/// the mean's head (Bernoulli's logits) first.
struct OutputHeads {
  const char* first;
  const char* second;  // null: one head
};
OutputHeads output_heads(Likelihood likelihood);

/// The data's shape: [C, H, W] for images, [D] otherwise.
Shape data_shape(const ModelConfig& config);
/// The encoder's body (the family adds its head): as declared, or a dense
/// layer per `hidden` width.
std::vector<LayerSpec> encoder_layers(const ModelConfig& config);
/// The decoder, its last layer the output layer (no activation; the
/// likelihood names it and may double it into mean and log-variance heads):
/// as declared, or the mirror of the encoder. Throws InputError naming the
/// layer when the shapes do not work out.
std::vector<LayerSpec> decoder_layers(const ModelConfig& config);

/// The parameter tensors a config's networks have, names and shapes as the
/// model file stores them, without allocating them (InputError when the
/// count overflows: the config may come from a file).
std::vector<ParameterInfo> parameter_table(const ModelConfig& config);

/// Builds both networks, registering their parameters in `layout` in file
/// order: the encoder's body, the family's head, the decoder.
template <class T>
void build_networks(const ModelConfig& config, LatentSpace<T>& latent, ParamLayout& layout,
                    Network<T>& encoder, Network<T>& decoder);

}  // namespace aevb
