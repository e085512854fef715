#pragma once
// Convolutional layers of a network (docs/layers.md): Conv2d,
// ConvTranspose2d and a residual block, NCHW rows (src/nn/layer.hpp), weights
// in PyTorch's layouts. The fast path runs a chunk of images as one matrix
// product: im2col writes every patch of every image of the chunk as a column
// of one [C*k*k, images*positions] buffer, backend::gemm multiplies it, and
// col2im (its adjoint) sums the columns back into images. A transposed
// convolution is the adjoint of a convolution, so it runs the same two
// kernels the other way round. The reference:: layers compute the same
// functions by direct loops, for the tests.
//
// Why chunks (detail::Chunks): over a whole batch at once, each of those
// buffers went through memory between the kernels (a 128-image batch's
// columns of a 3x3 convolution over 64 channels at 7x7 are 14 MB); a chunk's
// stay in cache from im2col to the product to col2im.
#include "nn/activation.hpp"
#include "nn/layer.hpp"

#include <aevb/config.hpp>
#include <aevb/matrix.hpp>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace aevb {

class ParamLayout;

namespace detail {

/// An image of channels x height x width read through a kernel x kernel
/// window at `stride` with zero `padding`: a grid_h x grid_w grid of patches.
/// Conv2d reads its input this way (the grid is its output); ConvTranspose2d
/// its output (the grid is its input).
struct PatchGeometry {
  std::size_t channels = 0, height = 0, width = 0;
  std::size_t kernel = 1, stride = 1, padding = 0;
  std::size_t grid_h = 0, grid_w = 0;

  std::size_t plane() const { return height * width; }
  /// Whether im2col splits a plane into its stride x stride phases (conv.cpp):
  /// with padding or a stride above 1.
  bool split() const { return padding > 0 || stride > 1; }
  std::size_t phase_h() const { return (height + 2 * padding + stride - 1) / stride; }
  std::size_t phase_w() const { return split() ? (width + 2 * padding + stride - 1) / stride : width; }
  std::size_t phase_plane() const { return phase_h() * phase_w(); }
  /// A plane's phases: the scratch im2col and col2im need per plane (0 when not split).
  std::size_t phases_size() const { return split() ? stride * stride * phase_plane() : 0; }
  std::size_t image() const { return channels * plane(); }
  std::size_t patch() const { return channels * kernel * kernel; }  // rows of the column buffer
  std::size_t positions() const { return grid_h * grid_w; }
};

/// How a layer cuts a batch of `rows` images into chunks: as many images per
/// chunk as keep its buffers (bytes_per_image each) within a cache-sized
/// budget, at least one, and at most rows / processors (rounded up) so that
/// every processor gets a chunk. Chunks run in parallel, each on one thread,
/// and their weight gradients are summed in chunk order: the chunk size
/// depends on the batch, the layer and the machine's processor count
/// (pool::processor_count(), as backend::TilePlan's tiles do), never on the
/// thread count, so the results are the same on any thread count.
struct Chunks {
  std::size_t rows = 0, bytes_per_image = 0, size = 1, count = 0;
  Chunks(std::size_t rows, std::size_t bytes_per_image);
  /// The most chunks that any batch of up to `rows` images is cut into.
  static std::size_t most(std::size_t rows, std::size_t bytes_per_image);
  std::size_t first(std::size_t chunk) const { return chunk * size; }
  std::size_t images(std::size_t chunk) const { return std::min(size, rows - first(chunk)); }
};

/// Scratch memory for plan(): grows only, its contents undefined after a
/// growth, and never written on allocation (pages that a layer never uses,
/// such as the first layer's input gradient, take no memory).
template <class T>
class Scratch {
 public:
  void reserve(std::size_t n) {
    if (n > size_) {
      data_ = std::make_unique_for_overwrite<T[]>(n);
      size_ = n;
    }
  }
  T* data() const { return data_.get(); }

 private:
  std::unique_ptr<T[]> data_;
  std::size_t size_ = 0;
};

/// im2col: cols [patch(), rows * positions()], row (c, ki, kj) and column
/// n * positions() + (oh, ow) holding image n's x[c, oh*stride - padding + ki,
/// ow*stride - padding + kj] (0 in the padding). Parallel over (n, c) planes;
/// a split plane is first written as its phases into its own slot of
/// `phases` [rows * channels, phases_size()].
template <class T>
void im2col(const PatchGeometry& g, std::size_t rows, const T* images, T* cols, T* phases);

/// col2im, the adjoint: images[n, c, i, j] = the sum of every column entry
/// that im2col would have read from (c, i, j), over (ki, kj) in order (one
/// thread per plane: the same sums on any thread count; a split plane is
/// summed in its slot of `phases`, then merged back). Each plane is then
/// passed through bias_activation_span with bias[c] (0 when bias is null),
/// while it is in cache.
template <class T>
void col2im(const PatchGeometry& g, std::size_t rows, const T* cols, T* images, T* phases, const T* bias, Act act,
            T slope);

/// The convolution behind Conv2d and both halves of Residual. With a `skip`
/// input (the residual block's x), forward computes act(conv(x) + b + skip),
/// and backward also leaves dL/d(pre-activation) in dy, the skip's gradient.
template <class T>
class ConvCore {
 public:
  ConvCore(ParamLayout& layout, const std::string& name, Shape in, std::size_t out, std::size_t kernel,
           std::size_t stride, std::size_t padding, Act act, float slope);
  Shape out_shape() const { return {out_, geometry_.grid_h, geometry_.grid_w}; }
  void plan(std::size_t rows);
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y, const T* skip);
  void backward(const T* params, T* grads, MatrixView<const T> y, MatrixView<T> dy, MatrixView<T> dx, GradMode mode,
                bool keep_dy_grad);

 private:
  std::size_t scratch_per_image() const;
  Chunks chunks(std::size_t rows) const;

  PatchGeometry geometry_;
  std::size_t out_ = 0;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_ = Act::identity;
  T slope_ = 0;
  std::size_t planned_ = 0;
  // cols: im2col(x) [C k k, rows * positions], each chunk's share at its
  // first image's (chunk.first(j) times one image's share), kept for the
  // weight gradient; weight_sums: each chunk's weight gradient [chunks, out,
  // C k k]; plane_sums: the bias gradient per (n, channel) plane. The rest of
  // what a chunk needs lives in its thread's scratch (chunk_scratch in conv.cpp).
  Scratch<T> cols_, weight_sums_, plane_sums_;
};

}  // namespace detail

/// y = act(conv(x) + b): weight "<name>.weight" [out, in, k, k] (nn.Conv2d's
/// layout), bias "<name>.bias" [out]; square kernel, stride, zero padding.
template <class T>
class Conv2d final : public Layer<T> {
 public:
  Conv2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  /// The output shape, floor((in + 2 padding - kernel) / stride) + 1 per side;
  /// throws InputError saying what is wrong with the shapes (no layer name).
  static Shape output_shape(Shape in, const LayerSpec& spec);

  void plan(std::size_t rows) override { core_.plan(rows); }
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  detail::ConvCore<T> core_;
};

/// y = act(convT(x) + b), the adjoint of Conv2d's convolution: weight
/// "<name>.weight" [in, out, k, k] (nn.ConvTranspose2d's layout), bias
/// "<name>.bias" [out]; output (in - 1) * stride - 2 padding + kernel +
/// output_padding per side (output_padding < stride), PyTorch's formula.
template <class T>
class ConvTranspose2d final : public Layer<T> {
 public:
  ConvTranspose2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                  float slope);
  static Shape output_shape(Shape in, const LayerSpec& spec);

  void plan(std::size_t rows) override;
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  std::size_t scratch_per_image() const;
  detail::Chunks chunks(std::size_t rows) const;

  detail::PatchGeometry geometry_;  // of the output
  std::size_t in_channels_ = 0;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_ = Act::identity;
  T slope_ = 0;
  std::size_t planned_ = 0;
  detail::Scratch<T> weight_sums_, plane_sums_;  // as in ConvCore
};

/// The VQ-VAE residual block: y = act(x + conv2(act(conv1(x)))), conv1 3x3,
/// stride 1, padding 1, C -> spec.out hidden channels ("<name>.conv1.weight",
/// ".bias"), conv2 1x1, hidden -> C ("<name>.conv2..."); y has x's shape.
template <class T>
class Residual final : public Layer<T> {
 public:
  Residual(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  static Shape output_shape(Shape in, const LayerSpec& spec);

  void plan(std::size_t rows) override;
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  detail::ConvCore<T> conv1_, conv2_;
  std::size_t planned_ = 0;
  detail::Scratch<T> hidden_, hidden_grad_;  // act(conv1(x)) and its gradient, [rows, hidden * H * W]
};

namespace reference {

/// The same three layers by direct loops over the definitions (no im2col,
/// no GEMM, no thread pool), allocating as they please: what the fast path
/// is tested against. Same constructors, parameters and shapes.
template <class T>
class Conv2d final : public Layer<T> {
 public:
  Conv2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  LayerSpec spec_;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_;
  T slope_;
};

template <class T>
class ConvTranspose2d final : public Layer<T> {
 public:
  ConvTranspose2d(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act,
                  float slope);
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  LayerSpec spec_;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_;
  T slope_;
};

template <class T>
class Residual final : public Layer<T> {
 public:
  Residual(ParamLayout& layout, const std::string& name, Shape in, const LayerSpec& spec, Act act, float slope);
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  Conv2d<T> conv1_, conv2_;  // conv2 without its activation: the block applies it after the sum
  Act act_;
  T slope_;
  std::vector<T> hidden_, inner_;  // conv1's output, conv2's output (before the sum), from the last forward
};

}  // namespace reference

}  // namespace aevb
