#include "nn/mlp.hpp"

#include <aevb/error.hpp>

#include <string>

namespace aevb {

template <class T>
void Mlp<T>::add(const Dense& layer) {
  layers_.push_back(layer);
  outputs_.emplace_back();
  grads_.emplace_back();
  planned_ = 0;
}

template <class T>
void Mlp<T>::plan(std::size_t rows) {
  if (rows <= planned_) return;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    outputs_[i].assign(rows * layers_[i].out, T(0));
    grads_[i].assign(rows * layers_[i].out, T(0));
  }
  planned_ = rows;
}

template <class T>
MatrixView<T> Mlp<T>::forward(const T* params, MatrixView<const T> x) {
  if (x.rows > planned_) throw std::logic_error("Mlp::forward: " + std::to_string(x.rows) + " rows, planned for " +
                                                std::to_string(planned_));
  rows_ = x.rows;
  MatrixView<const T> input = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    dense_forward<T>(layers_[i], params, input, output(i));
    input = output(i);
  }
  return output(layers_.size() - 1);
}

template <class T>
MatrixView<T> Mlp<T>::output_grad() {
  return grad(layers_.size() - 1);
}

template <class T>
void Mlp<T>::backward(const T* params, T* grads, MatrixView<const T> x, MatrixView<T> dx, GradMode mode) {
  for (std::size_t i = layers_.size(); i-- > 0;) {
    const MatrixView<const T> input = i == 0 ? x : MatrixView<const T>(output(i - 1));
    const MatrixView<T> input_grad = i == 0 ? dx : grad(i - 1);
    dense_backward<T>(layers_[i], params, grads, input, output(i), grad(i), input_grad, mode);
  }
}

template class Mlp<float>;
template class Mlp<double>;

}  // namespace aevb
