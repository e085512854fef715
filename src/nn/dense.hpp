#pragma once
// A fully connected layer y = act(x W^T + b), W [out, in] (PyTorch's layout),
// as a forward/backward pair over slices of the flat parameter and gradient
// buffers. Backward accumulates into the gradients (one zero-grad per step).
#include "nn/activation.hpp"
#include "nn/grad_mode.hpp"
#include "nn/layer.hpp"

#include <aevb/matrix.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace aevb {

class ParamLayout;

struct Dense {
  std::size_t in = 0, out = 0;
  std::size_t weight = 0, bias = 0;  // offsets into the flat buffers
  Act act = Act::identity;
  float slope = 0.01f;               // leaky_relu
};

/// y [rows, out] = act(x W^T + b).
template <class T>
void dense_forward(const Dense& layer, const T* params, MatrixView<const T> x, MatrixView<T> y);

/// Given dy = dL/dy (overwritten with dL/d(pre-activation)), the layer's input
/// x and output y: grads += dL/dW, dL/db (grads = ... with GradMode::overwrite,
/// untouched with GradMode::none); dx = dL/dx unless dx.data is null.
template <class T>
void dense_backward(const Dense& layer, const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y,
                    MatrixView<T> dy, MatrixView<T> dx, GradMode mode = GradMode::accumulate);

/// The dense layer in a network. An image input is read flat, NCHW (as
/// nn.Flatten followed by nn.Linear).
template <class T>
class DenseLayer final : public Layer<T> {
 public:
  /// Registers name.weight [out, in.size()] and name.bias [out].
  DenseLayer(ParamLayout& layout, const std::string& name, Shape in, std::size_t out, Act act, float slope);
  /// A linear head of two outputs (mu and log-variance, or a Gaussian's mean
  /// and log-variance) stored as one [2*out, in] weight: both weights, then
  /// both biases, so one GEMM computes both while the file keeps PyTorch's
  /// two heads `first` and `second`. The output is [first | second].
  static std::unique_ptr<DenseLayer> twin(ParamLayout& layout, const std::string& first, const std::string& second,
                                          Shape in, std::size_t out);

  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override {
    dense_forward<T>(dense_, params, x, y);
  }
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override {
    dense_backward<T>(dense_, params, grads, x, y, dy, dx, mode);
  }

 private:
  DenseLayer(Shape in, const Dense& dense) : Layer<T>(in, Shape{dense.out, 0, 0}), dense_(dense) {}
  Dense dense_;
};

}  // namespace aevb
