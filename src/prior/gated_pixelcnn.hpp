#pragma once
// The gated PixelCNN of code_prior.hpp as forward and backward passes over a
// batch of grids, templated on the scalar (float to train, double for the
// finite-difference and normalization tests).
//
// Activations are [channels, grids * H * W] (causal_conv.hpp), so each
// convolution is gather_taps + one GEMM over the whole batch and each 1 x 1
// convolution one GEMM, and the logits come out as [positions, K] (the
// product written transposed) so that each softmax reads one contiguous row.
// Not a Network (nn/network.hpp) of Layers: the two stacks, the link between
// them and the residual path make a graph, not a chain.
#include "nn/conv.hpp"  // detail::Scratch

#include "core/param_layout.hpp"
#include "prior/causal_conv.hpp"
#include "prior/code_prior.hpp"

#include <aevb/matrix.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace aevb::pixelcnn {

/// The taps of layer l's kernels (code_prior.hpp): the vertical stack's the
/// row above (and from layer 1 on its own row), the horizontal stack's the
/// position to the left (and from layer 1 on its own).
Taps vertical_taps(std::size_t layer);
Taps horizontal_taps(std::size_t layer);

/// Offsets of the tensors in the flat parameter buffer.
struct LayerOffsets {
  std::size_t vertical_w, vertical_b, horizontal_w, horizontal_b, link_w, residual_w, residual_b;
};
struct Offsets {
  std::size_t embedding = 0;
  std::vector<LayerOffsets> layers;
  std::size_t hidden_w = 0, hidden_b = 0, logits_w = 0, logits_b = 0;
};

/// Registers every tensor of the network for `config` (validated here) in
/// `layout`, in the order and under the names of code_prior.hpp. Cheap: the
/// model file reader checks a file's tensors against it before allocating.
Offsets register_parameters(const CodePriorConfig& config, ParamLayout& layout);

template <class T>
class GatedPixelCnn {
 public:
  explicit GatedPixelCnn(const CodePriorConfig& config);

  const CodePriorConfig& config() const { return config_; }
  const ParamLayout& layout() const { return layout_; }
  std::size_t parameter_count() const { return layout_.total(); }
  /// The initialization of code_prior.hpp into params [parameter_count()].
  void initialize(T* params, std::uint64_t seed) const;

  /// Sizes the workspace for up to `grids` grids (grows only); forward and
  /// backward allocate nothing on a planned size.
  void plan(std::size_t grids);
  /// The network on `grids` >= 1 grids of codes [grids, H * W] (each < K:
  /// the caller checks): keeps the codes, every activation, the logits,
  /// their softmax and -log p(x_p | x_<p) per position.
  void forward(const T* params, std::span<const std::uint32_t> codes, std::size_t grids);
  /// [grids * H * W, K], row g * H * W + p, of the last forward.
  MatrixView<const T> logits() const { return {logits_.data(), columns_, config_.codes}; }
  /// softmax(logits()), until backward() overwrites it.
  MatrixView<const T> probabilities() const { return {probs_.data(), columns_, config_.codes}; }
  /// -log p(x_p | x_<p) in nats, [grids * H * W], of the last forward.
  std::span<const double> nll() const { return {nll_.data(), columns_}; }
  /// The gradient of the mean of nll() over the last forward's positions,
  /// written over grads [parameter_count()]; returns that mean.
  double backward(const T* params, T* grads);

 private:
  // Layer l's activations, each [rows, columns]: av the vertical stack's
  // pre-activation [2C] (the link's input), vgate its (tanh, sigmoid) [2C]
  // and v its output [C] (not in the last layer, whose v nothing reads);
  // hgate the horizontal stack's (tanh, sigmoid) [2C] (later its gradient),
  // g its gated output [C], h the layer's output [C].
  struct LayerState {
    detail::Scratch<T> av, vgate, v, hgate, g, h;
  };

  CodePriorConfig config_;
  GridShape grid_;
  ParamLayout layout_;
  Offsets at_;
  std::vector<LayerState> state_;
  std::size_t planned_ = 0, columns_ = 0;
  detail::Scratch<std::uint32_t> codes_;
  detail::Scratch<double> nll_;
  // e: the embedding [C]; hidden: relu(W_1 h + b_1) [C]; logits, probs [columns, K];
  // cols: the gathered taps of one kernel (later their gradient) [C * 6];
  // the backward's dL/d of: hidden (dhidden), h (dh), g (dg), av (dav), v (dv), e (de).
  detail::Scratch<T> e_, hidden_, logits_, probs_, cols_, dhidden_, dh_, dg_, dav_, dv_, de_;
};

}  // namespace aevb::pixelcnn
