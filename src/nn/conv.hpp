#pragma once
// Convolutional layers of a network (docs/layers.md): Conv2d,
// ConvTranspose2d and a residual block, NCHW rows (src/nn/layer.hpp), weights
// in PyTorch's layouts. The fast path runs a whole batch as one matrix
// product: im2col writes every patch of every datapoint as a column of one
// [C*k*k, rows*positions] buffer, backend::gemm multiplies it, and col2im
// (its adjoint) sums the columns back into images. A transposed convolution
// is the adjoint of a convolution, so it runs the same two kernels the other
// way round. The reference:: layers compute the same functions by direct
// loops, for the tests.
#include "nn/activation.hpp"
#include "nn/layer.hpp"

#include <aevb/config.hpp>
#include <aevb/matrix.hpp>

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
  std::size_t padded_h() const { return height + 2 * padding; }
  std::size_t padded_w() const { return width + 2 * padding; }
  std::size_t padded_plane() const { return padded_h() * padded_w(); }
  std::size_t image() const { return channels * plane(); }
  std::size_t patch() const { return channels * kernel * kernel; }  // rows of the column buffer
  std::size_t positions() const { return grid_h * grid_w; }
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
/// with padding, each plane is first copied inside its zero border into its
/// own slot of `padded` [rows * channels, padded_plane()].
template <class T>
void im2col(const PatchGeometry& g, std::size_t rows, const T* images, T* cols, T* padded);

/// col2im, the adjoint: images[n, c, i, j] = the sum of every column entry
/// that im2col would have read from (c, i, j), over (ki, kj) in order (one
/// thread per plane: the same sums on any thread count; with padding, summed
/// in the plane's slot of `padded`, then cropped). Each plane is then passed
/// through bias_activation_span with bias[c] (0 when bias is null), while it
/// is in cache.
template <class T>
void col2im(const PatchGeometry& g, std::size_t rows, const T* cols, T* images, T* padded, const T* bias, Act act,
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
  PatchGeometry geometry_;
  std::size_t out_ = 0;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_ = Act::identity;
  T slope_ = 0;
  std::size_t planned_ = 0;
  // cols: im2col(x), kept for the weight gradient; product: W cols, then
  // dL/d(pre-activation) in the same [out, rows * positions] layout; dcols:
  // W^T times that; plane_sums: the bias gradient per (n, channel) plane;
  // padded: the input planes inside their zero borders (with padding only).
  Scratch<T> cols_, product_, dcols_, plane_sums_, padded_;
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
  detail::PatchGeometry geometry_;  // of the output
  std::size_t in_channels_ = 0;
  std::size_t weight_ = 0, bias_ = 0;
  Act act_ = Act::identity;
  T slope_ = 0;
  std::size_t planned_ = 0;
  // x_cols: x as [in, rows * H * W] (kept for the weight gradient); cols: W^T
  // x_cols, later im2col(dL/d(pre-activation)); dx_cols: W cols; padded: the
  // output planes inside their zero borders (with padding only).
  detail::Scratch<T> x_cols_, cols_, dx_cols_, plane_sums_, padded_;
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
