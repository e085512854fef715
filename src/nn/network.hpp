#pragma once
// A chain of layers with its activation workspace: each layer's output and
// its gradient, sized once by plan() for the largest batch. Built by
// src/model/architecture.cpp from the declared layers.
#include "nn/layer.hpp"

#include <memory>
#include <vector>

namespace aevb {

template <class T>
class Network {
 public:
  /// Appends a layer whose input shape must be the current output shape.
  void add(std::unique_ptr<Layer<T>> layer);
  std::size_t size() const { return layers_.size(); }
  const Layer<T>& layer(std::size_t i) const { return *layers_[i]; }
  Shape out_shape() const { return layers_.back()->out_shape(); }

  /// Sizes the workspace for up to `rows` rows (grows only).
  void plan(std::size_t rows);
  /// Runs every layer on x (x.rows <= planned rows); returns the last output.
  MatrixView<T> forward(const T* params, MatrixView<const T> x);
  /// The last forward's output.
  MatrixView<const T> result() const { return output(layers_.size() - 1); }
  /// Where the caller writes dL/d(last output) before backward().
  MatrixView<T> output_grad() { return grad(layers_.size() - 1); }
  /// Backpropagates output_grad() through the chain (x: the forward's input),
  /// adding to or writing the layers' gradients as `mode` says; writes dL/dx
  /// into dx unless dx.data is null.
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<T> dx,
                GradMode mode = GradMode::accumulate);

 private:
  MatrixView<T> output(std::size_t i) const {
    return {const_cast<T*>(outputs_[i].data()), rows_, layers_[i]->out_shape().size()};
  }
  MatrixView<T> grad(std::size_t i) { return {grads_[i].data(), rows_, layers_[i]->out_shape().size()}; }

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<std::vector<T>> outputs_, grads_;
  std::size_t planned_ = 0, rows_ = 0;
};

}  // namespace aevb
