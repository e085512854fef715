#include "model/architecture.hpp"

#include "core/param_layout.hpp"
#include "nn/conv.hpp"
#include "nn/dense.hpp"
#include "nn/twin.hpp"
#include "nn/unflatten.hpp"
#include "prob/likelihood.hpp"

#include <aevb/error.hpp>

#include <string>

namespace aevb {
namespace {

// "decoder.2 (deconv:32:4:2:1)": how errors name a layer (its parameters' prefix).
std::string describe(const std::string& name, const LayerSpec& spec) { return name + " (" + to_string(spec) + ")"; }

Shape unflatten_shape(Shape in, const LayerSpec& spec) {
  const Shape out{spec.out, spec.height, spec.width};
  if (in.size() != out.size())
    throw InputError("unflatten needs " + std::to_string(out.size()) + " values to make " + to_string(out) +
                     ", its input " + to_string(in) + " has " + std::to_string(in.size()));
  return out;
}

Shape output_shape(Shape in, const LayerSpec& spec) {
  switch (spec.kind) {
    case LayerKind::dense: return Shape{spec.out, 0, 0};
    case LayerKind::conv: return Conv2d<float>::output_shape(in, spec);
    case LayerKind::deconv: return ConvTranspose2d<float>::output_shape(in, spec);
    case LayerKind::residual: return Residual<float>::output_shape(in, spec);
    case LayerKind::unflatten: return unflatten_shape(in, spec);
  }
  throw std::logic_error("unknown layer kind");
}

// The shape after each layer, errors prefixed with the layer's name.
std::vector<Shape> shapes_through(Shape in, const std::vector<LayerSpec>& layers, const std::string& network) {
  std::vector<Shape> shapes{in};
  for (std::size_t i = 0; i < layers.size(); ++i) {
    try {
      shapes.push_back(output_shape(shapes.back(), layers[i]));
    } catch (const InputError& e) {
      throw InputError("model: " + describe(network + "." + std::to_string(i), layers[i]) + ": " + e.what());
    }
  }
  return shapes;
}

LayerSpec dense(std::size_t out) { return LayerSpec{LayerKind::dense, out}; }
LayerSpec unflatten(Shape s) {
  LayerSpec l{LayerKind::unflatten, s.channels};
  l.height = s.height;
  l.width = s.width;
  return l;
}

// A transposed layer that takes `from` back to `to` with the same kernel,
// stride and padding as `layer` (conv <-> deconv), choosing the output padding
// that makes the size come back.
LayerSpec mirror_conv(const LayerSpec& layer, Shape from, Shape to, const std::string& name) {
  LayerSpec m = layer;
  m.out = to.channels;
  m.output_padding = 0;
  if (layer.kind == LayerKind::conv) {
    m.kind = LayerKind::deconv;
    const auto padding_for = [&](std::size_t in, std::size_t target) -> std::size_t {
      const std::size_t base = (in - 1) * layer.stride + layer.kernel;
      if (base < 2 * layer.padding || target + 2 * layer.padding < base ||
          target + 2 * layer.padding - base >= layer.stride)
        throw InputError("model: the decoder cannot mirror " + describe(name, layer) + ": no transposed convolution with its kernel, stride and padding takes " +
                         to_string(from) + " back to " + to_string(to) + "; declare the decoder (--decoder)");
      return target + 2 * layer.padding - base;
    };
    m.output_padding = padding_for(from.height, to.height);
    if (padding_for(from.width, to.width) != m.output_padding)
      throw InputError("model: the decoder cannot mirror " + describe(name, layer) +
                       ": height and width would need different output paddings; declare the decoder (--decoder)");
  } else {
    m.kind = LayerKind::conv;
  }
  return m;
}

std::vector<LayerSpec> mirror(const ModelConfig& config) {
  const std::vector<LayerSpec> enc = encoder_layers(config);
  const std::vector<Shape> shapes = shapes_through(data_shape(config), enc, "encoder");
  std::vector<LayerSpec> dec;
  // Reach the last encoder layer's shape from z, then undo each layer: the
  // mirror of layer i takes shapes[i + 1] back to shapes[i].
  const auto reach = [&](Shape s, bool last) {
    dec.push_back(dense(s.size()));
    if (s.is_image() && !last) dec.push_back(unflatten(s));
  };
  reach(shapes.back(), enc.empty());
  for (std::size_t i = enc.size(); i-- > 0;) {
    const LayerSpec& e = enc[i];
    const std::string name = "encoder." + std::to_string(i);
    switch (e.kind) {
      case LayerKind::dense: reach(shapes[i], i == 0); break;
      case LayerKind::conv:
      case LayerKind::deconv: dec.push_back(mirror_conv(e, shapes[i + 1], shapes[i], name)); break;
      case LayerKind::residual: dec.push_back(e); break;
      case LayerKind::unflatten: break;  // the next dense layer reads the image flat
    }
  }
  return dec;
}

template <class T>
std::unique_ptr<Layer<T>> make_layer(ParamLayout& layout, const std::string& name, Shape in, Shape out,
                                     const LayerSpec& spec, Act act, float slope) {
  switch (spec.kind) {
    case LayerKind::dense: return std::make_unique<DenseLayer<T>>(layout, name, in, spec.out, act, slope);
    case LayerKind::conv: return std::make_unique<Conv2d<T>>(layout, name, in, spec, act, slope);
    case LayerKind::deconv: return std::make_unique<ConvTranspose2d<T>>(layout, name, in, spec, act, slope);
    case LayerKind::residual: return std::make_unique<Residual<T>>(layout, name, in, spec, act, slope);
    case LayerKind::unflatten: return std::make_unique<Unflatten<T>>(in, out);
  }
  throw std::logic_error("unknown layer kind");
}

template <class T>
std::unique_ptr<Layer<T>> make_output_layer(ParamLayout& layout, const ModelConfig& config, Shape in,
                                            const LayerSpec& spec) {
  const OutputHeads heads = output_heads(config.likelihood);
  if (spec.kind == LayerKind::dense && heads.second != nullptr)
    return DenseLayer<T>::twin(layout, heads.first, heads.second, in, spec.out);
  const Shape out = output_shape(in, spec);
  auto first = make_layer<T>(layout, heads.first, in, out, spec, Act::identity, 0.0f);
  if (heads.second == nullptr) return first;
  return std::make_unique<Twin<T>>(std::move(first),
                                   make_layer<T>(layout, heads.second, in, out, spec, Act::identity, 0.0f));
}

}  // namespace

OutputHeads output_heads(Likelihood likelihood) {
  switch (likelihood) {
    case Likelihood::bernoulli: return {"decoder.logits", nullptr};
    case Likelihood::gaussian: return {"decoder.mean", "decoder.logvar"};
    case Likelihood::gaussian_fixed: return {"decoder.mean", nullptr};
  }
  throw std::logic_error("unknown likelihood");
}

Shape data_shape(const ModelConfig& c) {
  if (c.image_height > 0 && c.image_width > 0) return Shape{c.image_channels, c.image_height, c.image_width};
  return Shape{c.input_dim, 0, 0};
}

std::vector<LayerSpec> encoder_layers(const ModelConfig& c) {
  if (!c.encoder.empty()) return c.encoder;
  std::vector<LayerSpec> layers;
  for (std::size_t width : c.hidden) layers.push_back(dense(width));
  return layers;
}

std::vector<LayerSpec> decoder_layers(const ModelConfig& c) {
  std::vector<LayerSpec> layers = c.decoder.empty() ? mirror(c) : c.decoder;
  const std::vector<Shape> shapes = shapes_through(Shape{c.latent, 0, 0}, layers, "decoder");
  const std::size_t last = layers.size() - 1;
  const std::string name = describe("decoder." + std::to_string(last), layers.back()) + ", the output layer,";
  const LayerKind kind = layers.back().kind;
  if (kind != LayerKind::dense && kind != LayerKind::conv && kind != LayerKind::deconv)
    throw InputError("model: " + name + " must be a dense, conv or deconv layer: it gives the likelihood's parameters");
  const Shape data = data_shape(c), out = shapes.back();
  if (out.size() != data.size() || (out.is_image() && data.is_image() && !(out == data)))
    throw InputError("model: " + name + " gives " + to_string(out) + ", the data is " + to_string(data));
  return layers;
}

template <class T>
void build_networks(const ModelConfig& config, LatentSpace<T>& latent, ParamLayout& layout,
                    Network<T>& encoder, Network<T>& decoder) {
  const Act act = to_act(config.activation);
  const float slope = config.leaky_slope;
  const std::vector<LayerSpec> enc = encoder_layers(config);
  // A conditional model's networks read the one-hot label after x and after z (ModelConfig::classes).
  const Shape enc_in = config.classes > 0 ? Shape{model_row_width(config), 0, 0} : data_shape(config);
  const std::vector<Shape> enc_shapes = shapes_through(enc_in, enc, "encoder");
  if (!config.decoder_only) {  // a decoder-only model's encoder layers only shape the mirrored decoder
    for (std::size_t i = 0; i < enc.size(); ++i)
      encoder.add(make_layer<T>(layout, "encoder." + std::to_string(i), enc_shapes[i], enc_shapes[i + 1], enc[i],
                                act, slope));
    encoder.add(latent.make_head(layout, enc_shapes.back()));
  }
  // After the head, whose errors about z's size (the vq family's grid) say more than the decoder's would.
  const std::vector<LayerSpec> dec = decoder_layers(config);

  const std::size_t first_decoder_tensor = layout.table().size();
  const std::vector<Shape> dec_shapes = shapes_through(Shape{latent.dim() + config.classes, 0, 0}, dec, "decoder");
  for (std::size_t i = 0; i + 1 < dec.size(); ++i)
    decoder.add(make_layer<T>(layout, "decoder." + std::to_string(i), dec_shapes[i], dec_shapes[i + 1], dec[i], act,
                              slope));
  decoder.add(make_output_layer<T>(layout, config, dec_shapes[dec.size() - 1], dec.back()));
  if (config.weight_posterior) {
    // Full VB (App. F): log sigma of q(theta) beside each decoder tensor, which holds its mean.
    const std::size_t decoder_tensors = layout.table().size();
    for (std::size_t t = first_decoder_tensor; t < decoder_tensors; ++t) {
      const ParameterInfo mean = layout.table()[t];  // a copy: add() grows the table
      layout.add(mean.name + "_log_sigma", mean.shape);
    }
  }
}

std::vector<ParameterInfo> parameter_table(const ModelConfig& config) {
  validate(config);
  const auto latent = make_latent_space<float>(config);
  ParamLayout layout;
  Network<float> encoder, decoder;  // layers hold offsets and shapes; plan() would allocate, and is not called
  build_networks<float>(config, *latent, layout, encoder, decoder);
  return layout.table();
}

template void build_networks<float>(const ModelConfig&, LatentSpace<float>&, ParamLayout&, Network<float>&,
                                    Network<float>&);
template void build_networks<double>(const ModelConfig&, LatentSpace<double>&, ParamLayout&,
                                     Network<double>&, Network<double>&);

}  // namespace aevb
