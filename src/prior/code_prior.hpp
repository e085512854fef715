#pragma once
// The autoregressive prior over a VQ-VAE's grid of discrete codes: van den
// Oord, Vinyals & Kavukcuoglu 2017 ("Neural Discrete Representation
// Learning", sec. 3.3) fit the VQ-VAE with a uniform prior, then train a
// PixelCNN on the grids of codes its encoder gives the training images, and
// generate by drawing a grid from the PixelCNN ancestrally and decoding it.
//
// The network is the gated PixelCNN of van den Oord, Kalchbrenner, Vinyals,
// Espeholt, Graves & Kavukcuoglu 2016 ("Conditional Image Generation with
// PixelCNN Decoders", sec. 2.1-2.2, Fig. 2), unconditional, over an H x W
// grid of codes x in [0, K) in raster order (position p = i W + j):
//
//   p(x) = prod_p p(x_p | x_<p),  p(x_p | x_<p) = softmax(logits_p)[x_p]
//
// Why the gated stacks and not masked 3x3 convolutions (PixelCNN, van den
// Oord, Kalchbrenner & Kavukcuoglu 2016a): a stack of masked convolutions
// has a blind spot (sec. 2.2 of the 2016 paper, Fig. 1): the positions above
// and to the right that no stack of masked kernels reaches, however deep.
// Splitting the network into a vertical stack (rows above only) and a
// horizontal stack (the current row to the left, plus the vertical stack)
// removes it, at little extra cost once the kernels are cut to the taps they
// use (below).
//
// Layer l = 0 .. L-1 (L = CodePriorConfig::layers), with e = the codes'
// embedding (a learned table [K, C] looked up per position: K is up to 512,
// so a one-hot input would make the first product K times too wide), and
// v_{-1} = h_{-1} = e:
//
//   a_v = V_l * v_{l-1} + b_v                     (2C channels)
//   v_l = tanh(a_v[:C]) . sigmoid(a_v[C:])         (eq. 2 of the 2016 paper)
//   a_h = H_l * h_{l-1} + b_h + link_l a_v        (link: 1x1, 2C -> 2C, Fig. 2)
//   g_l = tanh(a_h[:C]) . sigmoid(a_h[C:])
//   h_l = h_{l-1} + R_l g_l + b_r                 (no h_{l-1} term in layer 0)
//
//   logits = W_2 relu(W_1 h_{L-1} + b_1) + b_2   (1x1 convolutions, C -> C -> K)
//
// The masks are the kernels' shapes ("taps", causal_conv.hpp): V_0 reads the
// row above (offsets (-1, -1..1): a 1 x 3 kernel), V_l for l > 0 that row
// and its own (offsets (-1..0, -1..1): 2 x 3), H_0 the position to the left
// ((0, -1): 1 x 1) and H_l for l > 0 it and its own ((0, -1..0): 1 x 2).
// So v_l(i, j) depends only on rows < i, and h_l(i, j) only on those and on
// row i left of j: the logits at p depend only on x_<p (the first layer's
// taps exclude the position itself, "mask A"; the later ones include it,
// "mask B", which is safe because their input already excludes it; layer 0
// has no residual term for the same reason: h_{-1} = e holds x_p). A kernel
// with exactly the taps it needs does 6 + 2 products per output and input
// channel where masked 3 x 3 kernels would do 9 + 9.
//
// Receptive field (tests/unit/code_prior_causality_test.cpp checks it
// exactly): after L layers the logits at (i, j) depend on the codes at
// (i, j') for 1 <= j - j' <= L and at (i', j') for 1 <= i - i' <= L,
// |j - j'| <= L: a rectangle, no blind spot. They see the whole past x_<p
// for every p once L >= max(H, W) - 1 (5 layers cover a 6 x 6 grid; a 7 x 7
// one needs 6).
//
// Parameters, one flat float buffer (core/param_layout.hpp), in PyTorch's
// layouts and under these names in the file (save_code_prior):
//   prior.embedding                         [K, C]          (nn.Embedding)
//   prior.layers.<l>.vertical.weight        [2C, C, kh, 3]  kh = 1 for l = 0, else 2; bias [2C]
//   prior.layers.<l>.horizontal.weight      [2C, C, 1, kw]  kw = 1 for l = 0, else 2; bias [2C]
//   prior.layers.<l>.link.weight            [2C, 2C, 1, 1]  (no bias: b_h is the sum's)
//   prior.layers.<l>.residual.weight        [C, C, 1, 1];   bias [C]
//   prior.head.hidden.weight                [C, C, 1, 1];   bias [C]
//   prior.head.logits.weight                [K, C, 1, 1];   bias [K]
// Weight [o, c, a, b] of a kernel with taps at (row0 + a, col0 + b) multiplies
// the input at (i + row0 + a, j + col0 + b), zero outside the grid: the
// vertical kernels have row0 = -1, col0 = -1, the horizontal ones row0 = 0,
// col0 = -1 (as nn.Conv2d over the input padded by one row on top, or one
// column on the left, and cropped).
//
// Initialization (initialize(seed), RngPurpose::code_prior_init): the
// embedding N(0, 1) (nn.Embedding's); every weight N(0, 1 / fan_in), fan_in
// = in channels x taps (LeCun's variance-preserving choice: the gates'
// inputs start with about their input's variance, neither saturated nor
// linear), except the logits' weight N(0, 2 / fan_in) (He et al. 2015: it
// reads a ReLU); biases 0.
//
// Loss: the mean over positions of -log p(x_p | x_<p), nats per position.
// All products run over a whole batch at once (gated_pixelcnn.hpp: the
// activations stay [channels, grids * H * W], im2col + one GEMM per kernel),
// and results never depend on the thread count.
#include "io/safetensors.hpp"

#include <aevb/vae.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <vector>

namespace aevb {

namespace pixelcnn {
template <class T>
class GatedPixelCnn;
}

struct CodePriorConfig {
  std::size_t codes = 0;              // K
  std::size_t height = 0, width = 0;  // the grid
  std::size_t channels = 64;          // C, embedding and hidden width
  std::size_t layers = 5;             // gated layers
  bool operator==(const CodePriorConfig&) const = default;
};

/// InputError unless every size is at least 1, K <= 2^32 (codes are
/// uint32) and the grid has at most 2^20 positions.
void validate(const CodePriorConfig& config);

struct CodePriorTraining {
  std::size_t epochs = 20, batch = 64;
  float lr = 1e-3f;  // Adam (PyTorch's rule, betas 0.9 and 0.999, eps 1e-8)
  std::uint64_t seed = 1;
};

class CodePrior {
 public:
  /// Validates the config; parameters initialized from seed 1.
  explicit CodePrior(const CodePriorConfig& config);
  ~CodePrior();
  CodePrior(CodePrior&&) noexcept;
  CodePrior& operator=(CodePrior&&) noexcept;

  const CodePriorConfig& config() const { return config_; }
  /// Draws every parameter again (the rules above), a function of the seed alone.
  void initialize(std::uint64_t seed);
  std::span<float> parameters() { return params_; }
  std::span<const float> parameters() const { return params_; }
  std::size_t parameter_count() const { return params_.size(); }
  /// Name, shape and offset of every tensor in parameters(), in order.
  const std::vector<ParameterInfo>& parameter_table() const;

  // The grids below are n grids row-major, [n, H * W] (position i * W + j),
  // each value < K: InputError naming the grid and position otherwise;
  // std::invalid_argument when a span's size does not fit n. They run in
  // chunks of a size fixed by the config (about 4096 positions), the last
  // one padded, so a grid's numbers do not depend on n.

  /// Per-grid log p(grid) in nats into out[n].
  void log_probabilities(std::span<const std::uint32_t> codes, std::size_t n, double* out);
  /// Mean -log p(x_p | x_<p) in nats per position over the n grids (n >= 1).
  double cross_entropy(std::span<const std::uint32_t> codes, std::size_t n);
  /// p(x_p = k | x_<p) for every grid, position and code: out [n, H * W, K].
  void conditional_probabilities(std::span<const std::uint32_t> codes, std::size_t n, std::span<float> out);
  /// n grids drawn ancestrally in raster order into out [n, H * W]: position
  /// p of grid g inverts the CDF of p(x_p | x_<p) at uniform number p of the
  /// stream (RngPurpose::code_prior_sample, g) under `seed`, so grid g is a
  /// function of (parameters, seed, g) whatever n and the thread count.
  /// Costs H * W forward passes over each chunk.
  void sample(std::size_t n, std::uint64_t seed, std::span<std::uint32_t> out);

  /// The network behind the prior, for training (code_prior_training.cpp).
  pixelcnn::GatedPixelCnn<float>& network() { return *network_; }
  /// Grids per evaluation chunk: a function of the config alone.
  std::size_t chunk_grids() const { return chunk_; }

 private:
  // Forward on the chunk of grids [first, first + count) of `codes`, padded
  // with code 0 to chunk_ grids.
  void forward_chunk(std::span<const std::uint32_t> codes, std::size_t first, std::size_t count);

  CodePriorConfig config_;
  std::unique_ptr<pixelcnn::GatedPixelCnn<float>> network_;
  std::vector<float> params_;
  std::size_t chunk_ = 0;
  std::vector<std::uint32_t> chunk_codes_;  // [chunk_, H * W]
};

struct CodePriorEpoch {
  std::size_t epoch;   // from 1
  double train_nats;   // the epoch's minibatch cross-entropies, each before its update, averaged over the grids
  double test_nats;    // cross_entropy(test) after the epoch; NaN when n_test = 0
  double seconds;      // the epoch's wall time, the test evaluation included
};

/// Adam on minibatches of `batch` training grids (the last one smaller),
/// shuffled per epoch (RngPurpose::code_prior_shuffle, index = epoch);
/// on_epoch (if set) after every epoch. InputError for a code >= K, no
/// training grids, batch 0 or a learning rate that is not positive and
/// finite; NumericError when the loss or the gradient stops being finite.
/// No allocation inside a training step after the first.
void train_code_prior(CodePrior& prior, std::span<const std::uint32_t> train, std::size_t n_train,
                      std::span<const std::uint32_t> test, std::size_t n_test, const CodePriorTraining& training,
                      const std::function<void(const CodePriorEpoch&)>& on_epoch);

/// The prior as a safetensors file: the tensors above, and in __metadata__
/// "format" = "aevb-code-prior", "format_version" = "1", "code_prior_config"
/// (JSON: codes, height, width, channels, layers), "aevb_version", plus
/// `extra` (e.g. the VQ model's path and checksum; those four keys are
/// reserved: std::invalid_argument). Written atomically.
void save_code_prior(const std::filesystem::path& path, const CodePrior& prior,
                     const safetensors::Metadata& extra = {});
/// Reads a file written by save_code_prior; InputError naming the file for
/// anything else (not safetensors, truncated, not a code prior, another
/// format version, a bad config, a missing, extra, misshapen or non-finite
/// tensor). `extra` receives the metadata other than the reserved keys.
CodePrior load_code_prior(const std::filesystem::path& path, safetensors::Metadata* extra = nullptr);

}  // namespace aevb
