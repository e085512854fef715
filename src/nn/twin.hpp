#pragma once
// Two layers on the same input whose outputs are set side by side in each
// row, [first | second]: a decoder's mean and log-variance heads when they
// are convolutions (a dense pair is one stacked weight instead, see
// DenseLayer::twin). Each keeps its own PyTorch name and weight.
#include "nn/layer.hpp"

#include <memory>
#include <vector>

namespace aevb {

template <class T>
class Twin final : public Layer<T> {
 public:
  Twin(std::unique_ptr<Layer<T>> first, std::unique_ptr<Layer<T>> second);
  void plan(std::size_t rows) override;
  void forward(const T* params, MatrixView<const T> x, MatrixView<T> y) override;
  void backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<const T> y, MatrixView<T> dy,
                MatrixView<T> dx, GradMode mode) override;

 private:
  std::unique_ptr<Layer<T>> part_[2];
  std::vector<T> out_[2], grad_[2], dx_;  // each part's output and output gradient; the second part's dx
  std::size_t planned_ = 0;
};

}  // namespace aevb
