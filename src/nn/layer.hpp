#pragma once
// One layer of a network as a forward/backward pair over slices of the flat
// parameter and gradient buffers. A network (src/nn/network.hpp) is a chain
// of them; it owns every layer's output and output gradient, so a layer only
// keeps the scratch its own backward needs (im2col columns, a residual
// block's inner activations), sized by plan() for the largest batch and
// never allocated in a step.
//
// Tensors are rows of a MatrixView, one datapoint per row: a flat layer's row
// holds `channels` features; an image row holds channels x height x width
// values in NCHW order (PyTorch's), so flattening is free.
#include "nn/grad_mode.hpp"

#include <aevb/matrix.hpp>

#include <cstddef>
#include <string>

namespace aevb {

struct Shape {
  std::size_t channels = 0;
  std::size_t height = 0, width = 0;  // both 0: a flat vector of `channels` features
  bool is_image() const { return height > 0 && width > 0; }
  std::size_t size() const { return is_image() ? channels * height * width : channels; }
  bool operator==(const Shape&) const = default;
};
/// "[64, 7, 7]" or "[256]", for messages.
std::string to_string(const Shape& shape);

template <class T>
class Layer {
 public:
  Layer(Shape in, Shape out) : in_(in), out_(out) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  Shape in_shape() const { return in_; }
  Shape out_shape() const { return out_; }

  /// Sizes this layer's own scratch for up to `rows` datapoints (grows only).
  virtual void plan(std::size_t /*rows*/) {}
  /// y [rows, out.size()] from x [rows, in.size()] (rows <= planned).
  virtual void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) = 0;
  /// Given the forward's x and y and dy = dL/dy (the layer may overwrite dy):
  /// adds dL/d(its parameters) to grads (writes them with GradMode::overwrite,
  /// leaves grads untouched with GradMode::none) and writes dx = dL/dx unless
  /// dx.data is null.
  virtual void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                        MatrixView<T> dx, GradMode mode) = 0;

 private:
  Shape in_, out_;
};

}  // namespace aevb
