#pragma once
// nn.Unflatten: a flat vector read as a C x H x W image. Rows are NCHW
// already, so both passes are copies.
#include "nn/layer.hpp"

#include <algorithm>

namespace aevb {

template <class T>
class Unflatten final : public Layer<T> {
 public:
  Unflatten(Shape in, Shape out) : Layer<T>(in, out) {}
  void forward(const T*, MatrixView<const T> x, MatrixView<T> y) override { std::copy_n(x.data, x.size(), y.data); }
  void backward(const T*, T*, MatrixView<const T>, MatrixView<const T>, MatrixView<T> dy, MatrixView<T> dx,
                GradMode) override {
    if (dx.data != nullptr) std::copy_n(dy.data, dy.size(), dx.data);
  }
};

}  // namespace aevb
