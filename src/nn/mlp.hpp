#pragma once
// A stack of Dense layers with its activation workspace: each layer's output
// and its gradient, sized once by plan() for the largest batch.
#include "nn/dense.hpp"

#include <vector>

namespace aevb {

template <class T>
class Mlp {
 public:
  void add(const Dense& layer);
  const std::vector<Dense>& layers() const { return layers_; }
  std::size_t in_dim() const { return layers_.front().in; }
  std::size_t out_dim() const { return layers_.back().out; }

  /// Sizes the workspace for up to `rows` rows (grows only).
  void plan(std::size_t rows);
  /// Runs every layer on x (x.rows <= planned rows); returns the last output.
  MatrixView<T> forward(const T* params, MatrixView<const T> x);
  /// The last forward's output.
  MatrixView<const T> result() const { return {outputs_.back().data(), rows_, layers_.back().out}; }
  /// Where the caller writes dL/d(last output) before backward().
  MatrixView<T> output_grad();
  /// Backpropagates output_grad() through the stack (x: the forward's input),
  /// adding to or writing the layers' gradients as `mode` says; writes dL/dx
  /// into dx unless dx.data is null.
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<T> dx,
                GradMode mode = GradMode::accumulate);

 private:
  MatrixView<T> output(std::size_t i) { return {outputs_[i].data(), rows_, layers_[i].out}; }
  MatrixView<T> grad(std::size_t i) { return {grads_[i].data(), rows_, layers_[i].out}; }

  std::vector<Dense> layers_;
  std::vector<std::vector<T>> outputs_, grads_;
  std::size_t planned_ = 0, rows_ = 0;
};

}  // namespace aevb
